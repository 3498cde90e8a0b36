"""The development tooling: the virtualenv `make` builds."""

from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.version import Version

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
