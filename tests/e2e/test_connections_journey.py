"""Connecting Klaviyo in a browser: API key (right and wrong), OAuth approve and deny, reconnect."""

import re

from playwright.sync_api import expect

from integrations.models import Connection


def test_connect_with_an_api_key(logged_in, screenshot, sandbox_key):
    page = logged_in
    page.get_by_role("link", name="Connections").first.click()
    expect(page.get_by_test_id("no-connections")).to_be_visible()
    screenshot("10-connections-empty")
    page.get_by_role("link", name="Add your first connection").click()

    page.get_by_label("Private API key").fill("pk_sandbox_not_a_real_key_123")
    page.get_by_role("button", name="Test and save").click()
    expect(page.get_by_text("Klaviyo did not accept this key")).to_be_visible()
    screenshot("11-api-key-refused")

    page.get_by_label("Private API key").fill(sandbox_key)
    page.get_by_role("button", name="Test and save").click()
    expect(page.get_by_role("heading", name="Acme Store")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Healthy")
    expect(page.get_by_text(f"pk_…{sandbox_key[-4:]}")).to_be_visible()
    url = page.url
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Test now").click()  # htmx swaps the status card
    expect(page.get_by_test_id("events").get_by_text("Tested")).to_be_visible()
    assert page.url == url
    assert page.evaluate("window.notReloaded === true")  # swapped in place, not a page load
    screenshot("12-api-key-connected")

    page.get_by_role("link", name="All connections").click()
    expect(page.get_by_test_id("connections").get_by_text("Acme Store").first).to_be_visible()
    screenshot("13-connections-list")
    assert sandbox_key not in page.content()


def grant_existing_account(page, key: str) -> None:
    """On the sandbox's consent page, grant the sandbox account that `key` opens."""
    page.get_by_label("An existing sandbox account").check()
    page.get_by_label("Private API key of the sandbox account").fill(key)
    page.get_by_role("button", name="Approve").click()


def test_connect_with_oauth_deny_then_approve_then_reconnect(
    logged_in, screenshot, oauth_app, sandbox_key
):
    page = logged_in
    page.goto("/connections/new/?kind=oauth2")
    page.get_by_label("Read only").check()
    screenshot("20-oauth-form")
    page.get_by_role("button", name="Continue to Klaviyo").click()
    expect(page.get_by_test_id("sandbox-authorize")).to_be_visible()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_text("You declined the authorization in Klaviyo")).to_be_visible()
    screenshot("21-oauth-denied")

    page.get_by_label("Read only").check()
    page.get_by_role("button", name="Continue to Klaviyo").click()
    expect(page.get_by_test_id("sandbox-authorize")).to_be_visible()
    screenshot("22-oauth-consent")
    grant_existing_account(page, sandbox_key)
    expect(
        page.get_by_role("status").get_by_text(re.compile("Connected to .* with OAuth"))
    ).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Healthy")
    expect(page.get_by_test_id("scope-warning")).to_be_visible()  # read-only scopes
    screenshot("23-oauth-connected")

    connection = Connection.objects.get(kind=Connection.Kind.OAUTH2)
    connection.status = Connection.Status.NEEDS_RECONNECT
    connection.status_message = (
        "Klaviyo no longer accepts this connection's authorization (it expired or was revoked). "
        "Reconnect it."
    )
    connection.save()
    page.reload()
    banner = page.get_by_test_id("reconnect-banner")
    expect(banner).to_be_visible()
    screenshot("24-needs-reconnect")
    banner.get_by_role("button", name="Reconnect").click()
    grant_existing_account(page, sandbox_key)
    expect(page.get_by_test_id("status")).to_have_text("Healthy")
    expect(page.get_by_test_id("reconnect-banner")).to_have_count(0)
    screenshot("25-reconnected")
