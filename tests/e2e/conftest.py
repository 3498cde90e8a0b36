"""Browser journeys: Playwright (Python) driving Debian's chromium against a live server.

Screenshots go to artifacts/screenshots/ (git-ignored). Without /usr/bin/chromium these tests skip
with the reason, except under `make e2e` (E2E_REQUIRED=1), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import BASE_DIR, PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = BASE_DIR / "artifacts" / "screenshots"
CONNECTION = "Klaviyo sandbox"


def stage_shots(page, prefix: str):
    """Return take(number, stage): scroll to the top, save <prefix>-NN-<stage>.png (a journey's
    stages, in artifacts/screenshots/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(number: int, stage: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        path = SCREENSHOTS / f"{prefix}-{number:02d}-{stage}.png"
        page.screenshot(path=str(path), full_page=True, caret="initial")

    return take  # the journeys' sandbox connection


# The flags keep chromium off the network: the machines running the tests have none.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = f"Browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)."
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while the tests' own ORM
    # calls (fixtures, assertions) stay plain synchronous code, which Django would refuse.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def csp_violations() -> list[str]:
    """Return the list the page fixture fills with chromium's Content-Security-Policy reports."""
    return []


@pytest.fixture
def page(browser, live_server, csp_violations) -> Iterator[object]:
    """Return a chromium page on the live server; the test fails if the policy blocked anything."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    # Chromium reports what the policy refused ("Refused to apply inline style because it
    # violates the following Content Security Policy directive: ...") on the console.
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text
            and csp_violations.append(f"{page.url}: {message.text}")
        ),
    )
    yield page
    context.close()
    assert not csp_violations, "\n".join(csp_violations)


@pytest.fixture
def screenshot(page):
    """Return shot(name): save a full-page screenshot to artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        # caret="initial": hiding the caret writes style="" on inputs, which an htmx swap would
        # then copy onto new elements, against the Content-Security-Policy.
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    return shot


@pytest.fixture
def logged_in(page, alice):
    """Return the page, logged in as alice (on her empty dashboard)."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("empty-dashboard")).to_be_visible()
    return page


@pytest.fixture
def connection(alice, alice_workspace, sandbox):
    """Alice's sandbox connection (with demo data), on the live server's sandbox."""
    from integrations import services

    return services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name=CONNECTION
    )


@pytest.fixture
def worker(sandbox, connection, start_worker) -> str:
    """A real worker, started once the Klaviyo URLs point at the live server's sandbox."""
    return start_worker().node
