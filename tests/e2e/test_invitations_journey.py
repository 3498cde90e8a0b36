"""An owner invites a newcomer, who signs up from the invitation's link and joins."""

import re

from django.core import mail
from playwright.sync_api import expect

from tests.conftest import PASSWORD


def log_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def log_out(page):
    page.get_by_test_id("user-menu").locator("summary").click()
    page.get_by_role("button", name="Log out").click()


def test_invite_sign_up_from_the_link_and_join(page, screenshot, transactional_db, alice, charlie):
    log_in(page, "alice@example.com")
    page.goto("/workspace/")
    page.get_by_label("Email address to invite").fill("dana@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation emailed to dana@example.com.")).to_be_visible()
    link = page.get_by_test_id("new-invitation").locator("input").input_value()
    assert link in mail.outbox[-1].body
    page.get_by_label("Email address to invite").fill("erin@example.com")
    page.get_by_label("Role").select_option("owner")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_test_id("invitations").get_by_role("row")).to_have_count(3)
    screenshot("40-workspace-settings-pending-invitations")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("41-workspace-settings-narrow")
    page.set_viewport_size({"width": 1280, "height": 800})

    log_out(page)
    page.goto(link)
    expect(page.get_by_role("heading", name="You have been invited")).to_be_visible()
    screenshot("42-invitation-log-in-first")

    page.get_by_role("link", name="Create one").click()
    page.get_by_label("Your email address").fill("dana@example.com")
    page.get_by_role("button", name="Email me a sign-up link").click()
    finish = re.search(r"http://\S+/accounts/signup/finish/\S+/", mail.outbox[-1].body).group()
    page.goto(finish)
    page.get_by_label("Your name").fill("Dana Lee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_role("heading", name="Join “Alice's workspace”")).to_be_visible()
    expect(page.get_by_text("Alice (alice@example.com)")).to_be_visible()
    screenshot("43-invitation-accept")
    switcher = page.get_by_test_id("workspace-switcher")
    switcher.locator("summary").click()
    expect(switcher.get_by_role("button", name=re.compile("Alice's workspace"))).to_have_count(0)
    switcher.locator("summary").click()

    page.get_by_role("button", name="Accept and join").click()
    expect(page.get_by_text("You joined Alice's workspace")).to_be_visible()
    expect(page.get_by_role("heading", name="Alice's workspace")).to_be_visible()
    screenshot("44-invitation-accepted")

    page.goto(link)
    expect(page.get_by_role("heading", name="This invitation is no longer valid")).to_be_visible()
    screenshot("45-invitation-no-longer-valid")

    log_out(page)
    log_in(page, "charlie@example.com")
    erins = re.search(r"http://\S+/invitations/\S+/", mail.outbox[1].body).group()
    page.goto(erins)
    expect(
        page.get_by_role("heading", name="This invitation is for another address")
    ).to_be_visible()
    screenshot("46-invitation-for-another-address")
