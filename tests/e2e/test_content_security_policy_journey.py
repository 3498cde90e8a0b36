"""Every kind of page under the Content-Security-Policy: nothing is blocked, nothing looks broken.

The page fixture fails any test whose pages made chromium report a policy violation.
"""

import re

import pytest
from playwright.sync_api import expect

from integrations.models import Connection
from integrations.services import connection_create_sandbox
from tests.conftest import PASSWORD


@pytest.fixture
def admin_page(page, alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("empty-dashboard")).to_be_visible()
    return page


def goto(page, path: str):
    response = page.goto(path)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    return response


def test_the_app_pages_work_under_the_policy(admin_page, screenshot, alice_workspace, sandbox):
    page = admin_page
    goto(page, "/")
    steps = page.locator(".empty .steps")
    assert steps.evaluate("el => getComputedStyle(el).display") == "inline-block"
    screenshot("30-csp-dashboard")

    goto(page, "/catalog/")
    page.get_by_label("Search actions").fill("add profile to list")
    expect(page.get_by_test_id("result-count")).to_contain_text("matching")  # htmx swapped it
    screenshot("31-csp-catalog-search")

    goto(page, "/catalog/KLAVIYO_GET_LISTS/")
    nested = page.locator("[data-testid=outputs] code.depth-2").first
    style = "getComputedStyle(el)"
    ems = f"el => parseFloat({style}.paddingLeft) / parseFloat({style}.fontSize)"
    assert nested.evaluate(ems) == 2  # indented 2em, from the stylesheet now
    screenshot("32-csp-catalog-detail")

    goto(page, "/workspace/")
    heading = page.get_by_role("heading", name="Pending invitations")
    assert heading.evaluate("el => getComputedStyle(el).marginTop") == "18.75px"  # app.css
    screenshot("33-csp-workspace-settings")


def test_confirmations_still_ask_before_resetting_or_disconnecting(
    admin_page, screenshot, alice, alice_workspace, sandbox
):
    page = admin_page
    connection = connection_create_sandbox(workspace=alice_workspace, user=alice, name="Demo")
    goto(page, f"/connections/{connection.pk}/")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="Reset sandbox").click()
    expect(page.get_by_role("heading", name="Demo", exact=True)).to_be_visible()
    assert questions == ["Reset the sandbox? Changes made in it are lost."]
    expect(page.get_by_text("has its demo data back")).to_have_count(0)

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_role("button", name="Reset sandbox").click()
    expect(page.get_by_text("The sandbox has its demo data back")).to_be_visible()
    screenshot("34-csp-sandbox-reset")

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="Disconnect").click()
    assert questions[-1] == "Disconnect Demo? Workflows using it will stop working."
    connection.refresh_from_db()
    assert connection.status != Connection.Status.REVOKED

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("Demo is disconnected")).to_be_visible()


def test_the_sandbox_consent_page_keeps_its_styles(admin_page, screenshot, oauth_app):
    page = admin_page
    goto(page, "/connections/new/?kind=oauth2")
    page.get_by_role("button", name="Continue to Klaviyo").click()
    consent = page.get_by_test_id("sandbox-authorize")
    expect(consent).to_be_visible()
    assert consent.evaluate("el => getComputedStyle(el).paddingTop") == "30px"  # its <style>
    narrow = page.locator(".page-narrow")
    assert narrow.evaluate("el => getComputedStyle(el).maxWidth") == "520px"  # its style=""
    screenshot("35-csp-sandbox-consent")
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_text("You declined the authorization in Klaviyo")).to_be_visible()


def test_the_admin_works_under_the_policy(admin_page, screenshot, alice_workspace):
    page = admin_page
    goto(page, "/admin/")
    expect(page.get_by_role("heading", name=re.compile("Site administration"))).to_be_visible()
    screenshot("36-csp-admin-index")
    goto(page, "/admin/builder/user/")
    screenshot("37-csp-admin-users")
    goto(page, f"/admin/builder/workspace/{alice_workspace.pk}/change/")
    page.get_by_text("Add another Membership").click()  # the admin's own scripts run
    expect(page.locator(".dynamic-memberships")).to_have_count(2)
    screenshot("38-csp-admin-workspace")


def test_the_admin_login_page_works_under_the_policy(page, screenshot, transactional_db):
    goto(page, "/admin/login/")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("The password is case-sensitive")).to_be_visible()
    screenshot("39-csp-admin-login")
