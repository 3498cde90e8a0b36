"""A newcomer signs up by email link, finds an empty dashboard, adds a workspace, switches."""

import re

from django.core import mail
from playwright.sync_api import expect

from tests.conftest import PASSWORD


def test_sign_up_log_in_and_switch_workspace(page, screenshot, transactional_db):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    screenshot("01-login")

    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your email address").fill("dana@example.com")
    screenshot("02-signup-filled")
    page.get_by_role("button", name="Email me a sign-up link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    screenshot("02b-signup-sent")

    link = re.search(r"http://\S+/accounts/signup/finish/\S+/", mail.outbox[-1].body).group()
    page.goto(link)
    page.get_by_label("Your name").fill("Dana Lee")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot("02c-signup-finish")
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_test_id("empty-dashboard")).to_be_visible()
    expect(page.get_by_role("heading", name="Dana Lee's workspace")).to_be_visible()
    screenshot("03-empty-dashboard")

    page.get_by_test_id("user-menu").locator("summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email").fill("dana@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("do not match an account")).to_be_visible()
    screenshot("04-login-error")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("empty-dashboard")).to_be_visible()

    page.goto("/workspaces/")
    page.get_by_label("Workspace name").fill("EU store")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("heading", name="EU store")).to_be_visible()

    switcher = page.get_by_test_id("workspace-switcher")
    switcher.locator("summary").click()
    screenshot("05-workspace-switcher")
    switcher.get_by_role("button", name=re.compile("Dana Lee's workspace")).click()
    expect(page.get_by_role("heading", name="Dana Lee's workspace")).to_be_visible()
    expect(page.get_by_text("Switched to Dana Lee's workspace.")).to_be_visible()
    screenshot("06-switched")


def test_another_workspaces_page_answers_a_friendly_404(page, screenshot, transactional_db):
    from builder.services.accounts import user_signup

    user_signup(email="erin@example.com", password=PASSWORD, name="Erin")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("erin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    response = page.goto("/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    screenshot("07-not-found")
