"""The development tooling: the virtualenv `make` builds, `make audit`."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.version import Version

from tests.conftest import BASE_DIR

# The first releases without known vulnerabilities (pip-audit's findings on a fresh venv).
SAFE_RELEASES = {
    "pip": "25.3",  # CVE-2025-8869: a tar link could escape the extraction folder
    "setuptools": "78.1.1",  # CVE-2025-47273: path traversal in PackageIndex downloads
}


@pytest.mark.parametrize("name", sorted(SAFE_RELEASES))
def test_the_virtualenv_has_a_current_pip_and_setuptools(name):
    try:
        installed = version(name)
    except PackageNotFoundError:
        pytest.skip(f"{name} is not installed in this environment")
    assert Version(installed) >= Version(SAFE_RELEASES[name]), f"{name} {installed} is outdated"


# --- make audit -------------------------------------------------------------------------------

AUDIT = [sys.executable, str(BASE_DIR / ".ci" / "audit.py")]
ADVISORY = {"id": "PYSEC-2020-1", "summary": "an old Django advisory"}


@pytest.fixture
def fake_database():
    """Serve a stand-in for PyPI's JSON API and OSV; set `.answers` to what each one says."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.answer(server.answers.get("pypi", (404, {})), "/pypi/django/3.0/json")

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.answer(server.answers.get("osv", (404, {})), "/v1/query")

        def answer(self, answer, path):
            status, body = answer if self.path == path else (404, {})
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.answers = {}
    server.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def run_audit(pypi_url: str, osv_url: str, *pip_audit_args: str):
    return subprocess.run(
        [*AUDIT, "--pypi-url", pypi_url, "--osv-url", osv_url, "--", *pip_audit_args],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_audit_says_clearly_that_nothing_was_checked_when_no_database_answers():
    result = run_audit("http://127.0.0.1:9", "http://127.0.0.1:9")
    assert result.returncode == 0
    assert "SKIPPED, nothing was checked" in result.stdout
    assert "cannot reach http://127.0.0.1:9/pypi/django/3.0/json" in result.stdout


@pytest.mark.parametrize(
    "answer", [(404, {}), (200, {"info": {}, "vulnerabilities": []}), (500, {})]
)
def test_a_package_index_without_advisories_counts_as_no_database(fake_database, answer):
    fake_database.answers = {"pypi": answer}
    result = run_audit(fake_database.url, fake_database.url)
    assert result.returncode == 0
    assert "SKIPPED, nothing was checked" in result.stdout
    assert "pip-audit" not in result.stdout + result.stderr


def test_audit_runs_pip_audit_against_pypi_when_it_lists_advisories(fake_database):
    fake_database.answers = {"pypi": (200, {"vulnerabilities": [ADVISORY]})}
    result = run_audit(fake_database.url, fake_database.url, "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checking the virtualenv against the pypi database" in result.stdout
    assert "Dry run: would have audited" in result.stderr


def test_audit_falls_back_to_osv_when_pypi_has_no_advisories(fake_database):
    fake_database.answers = {"pypi": (404, {}), "osv": (200, {"vulns": [ADVISORY]})}
    result = run_audit(fake_database.url, fake_database.url, "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checking the virtualenv against the osv database" in result.stdout
