"""A Content-Security-Policy of our own origin only, on every page, with templates that obey it."""

import base64
import hashlib
import html
import json
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import BASE_DIR

HEADER = "Content-Security-Policy"
OUR_PACKAGES = {"builder", "integrations"}


def routes(resolver: URLResolver | None = None, prefix: str = ""):
    """Yield every URL pattern of the project as its full route text."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def example_path(route: str) -> str:
    """Turn a route into a path it matches: `<int:pk>` -> 1, `(?P<app>auth|builder)` -> auth."""
    path = re.sub(r"<(?:\w+:)?\w+>", "1", route)
    path = re.sub(r"\(\?P<\w+>(\w+)(?:\|[^)]*)?\)", r"\1", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "x", path)
    return "/" + path.replace("^", "").replace("$", "")


PATHS = sorted({example_path(route) for route in routes()})


def policy() -> dict[str, list[str]]:
    return {
        name: [str(value) for value in values]
        for name, values in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()
    }


def assert_every_page_sends_the_policy(client: Client) -> None:
    missing = [path for path in PATHS if HEADER not in client.get(path)]
    assert not missing, f"no {HEADER} header on {missing}"


def test_the_walk_covers_the_apps_pages():
    assert {"/", "/accounts/login/", "/admin/login/", "/catalog/1/"} <= set(PATHS)
    assert reverse("klaviyo_sandbox:oauth_authorize") in PATHS  # the sandbox's consent page


def test_every_page_sends_the_policy_to_visitors(db):
    assert_every_page_sends_the_policy(Client())


def test_every_page_sends_the_policy_to_a_logged_in_admin(client_for, alice, alice_workspace):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    assert_every_page_sends_the_policy(client_for(alice, alice_workspace))


def test_error_pages_and_static_files_send_the_policy_too(db):
    assert HEADER in Client().get("/no-such-page/")
    assert HEADER in Client().get("/static/css/app.css")
    assert HEADER in Client(HTTP_HOST="evil.example").get("/")  # refused host: 400


def test_the_policy_allows_our_own_origin_only():
    directives = policy()
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in " ".join(sum(directives.values(), []))
    assert "'unsafe-eval'" not in " ".join(sum(directives.values(), []))


def test_the_oauth_form_may_go_on_to_klaviyos_consent_page():
    # "Continue to Klaviyo" posts to us and is redirected there; form-action covers redirects.
    assert policy()["form-action"] == ["'self'", "https://www.klaviyo.com"]


def test_htmx_neither_injects_styles_nor_evaluates_code(client, db):
    page = client.get(reverse("login")).content.decode()
    content = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert content, "base.html has no htmx-config meta tag"
    config = json.loads(content.group(1))
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False


# --- The templates ----------------------------------------------------------------------------


def template_files() -> list[Path]:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [  # our own apps' (the sandbox's consent page); Django's admin is not ours to fix
        Path(app.path) / "templates"
        for app in apps.get_app_configs()
        if app.name.partition(".")[0] in OUR_PACKAGES and (Path(app.path) / "templates").is_dir()
    ]
    return sorted(path for folder in folders for path in folder.rglob("*.html"))


TEMPLATES = template_files()
TAG = re.compile(r"<[a-zA-Z][^>]*>")
STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def sha256_source(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def inline_styles() -> dict[str, str]:
    """Return every inline style in the templates (block or attribute) -> where it is."""
    found = {}
    for path in TEMPLATES:
        text = path.read_text()
        for block in STYLE_BLOCK.finditer(text):
            found[block.group(1)] = f"{path.relative_to(BASE_DIR)}: <style> block"
        for attribute in STYLE_ATTRIBUTE.finditer(text):
            value = html.unescape(attribute.group(1) or attribute.group(2) or "")
            found[value] = f'{path.relative_to(BASE_DIR)}: style="{value}"'
    return found


def test_the_templates_are_found():
    names = {path.name for path in TEMPLATES}
    assert {"base.html", "login.html", "authorize.html", "detail.html"} <= names


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_templates_have_no_inline_script_or_event_handlers(path):
    text = path.read_text()
    for tag in TAG.findall(text):
        if tag.lower().startswith("<script"):
            assert re.search(r"\ssrc=", tag), f"inline <script> in {path}: move it to static/js/"
        assert not re.search(r"\son[a-z]+\s*=", tag, re.I), f"event handler in {path}: {tag}"
        assert "javascript:" not in tag.lower(), f"javascript: URL in {path}: {tag}"


def test_every_inline_style_left_is_allowed_by_its_hash():
    allowed = set(settings.CSP_INLINE_STYLE_HASHES)
    for style, where in inline_styles().items():
        assert "{{" not in style and "{%" not in style, f"{where}: move it to static/css/app.css"
        assert sha256_source(style) in allowed, (
            f"{where} is blocked by the Content-Security-Policy: move it to static/css/app.css"
        )


def test_every_allowed_style_hash_is_still_needed():
    used = {sha256_source(style) for style in inline_styles()}
    stale = set(settings.CSP_INLINE_STYLE_HASHES) - used
    assert not stale, f"remove these from CSP_INLINE_STYLE_HASHES: {stale}"
