"""`make audit`: run pip-audit on the virtualenv when a vulnerability database answers.

pip-audit reads advisories from PyPI's JSON API (https://docs.pypi.org/api/json/, the
`vulnerabilities` of a release) or from OSV (https://google.github.io/osv.dev/post-v1-query/).
A machine that reaches only a package index, or a mirror that answers the JSON API without
advisories, would make pip-audit report "No known vulnerabilities found" after auditing nothing.
So this first asks each database about a release known to be vulnerable, runs pip-audit against
the first one that names its advisories, and otherwise says plainly that nothing was checked and
exits 0, so an offline CI does not fail. Arguments after `--` go to pip-audit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable

# A release with dozens of published advisories: a database that knows none is not one.
PROBE_NAME, PROBE_VERSION = "django", "3.0"
TIMEOUT = 10


def http_url(value: str) -> str:
    """Accept only http(s) base URLs (urllib would also open file: and ftp:)."""
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {value}")
    return value.rstrip("/")


def pypi_problem(base_url: str) -> str | None:
    """Return why PyPI's JSON API cannot serve advisories, or None when it can."""
    url = f"{base_url}/pypi/{PROBE_NAME}/{PROBE_VERSION}/json"
    return _problem(urllib.request.Request(url), "vulnerabilities")  # noqa: S310 (http_url)


def osv_problem(base_url: str) -> str | None:
    """Return why OSV cannot serve advisories, or None when it can."""
    query = {"package": {"name": PROBE_NAME, "ecosystem": "PyPI"}, "version": PROBE_VERSION}
    request = urllib.request.Request(  # noqa: S310 (http_url)
        f"{base_url}/v1/query",
        data=json.dumps(query).encode(),
        headers={"Content-Type": "application/json"},
    )
    return _problem(request, "vulns")


def _problem(request: urllib.request.Request, field: str) -> str | None:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (http_url)
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} from {request.full_url}"
    except (urllib.error.URLError, OSError) as error:
        return f"cannot reach {request.full_url} ({getattr(error, 'reason', error)})"
    except ValueError:
        return f"no JSON from {request.full_url}"
    if not isinstance(answer, dict) or not answer.get(field):
        return f"{request.full_url} lists no advisories for {PROBE_NAME} {PROBE_VERSION}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pypi-url", type=http_url, default="https://pypi.org")
    parser.add_argument("--osv-url", type=http_url, default="https://api.osv.dev")
    parser.add_argument("pip_audit_args", nargs="*", help="passed on to pip-audit (after --)")
    args = parser.parse_args(argv)

    services: list[tuple[str, Callable[[str], str | None], str]] = [
        ("pypi", pypi_problem, args.pypi_url),
        ("osv", osv_problem, args.osv_url),
    ]
    problems = []
    for service, problem_of, url in services:
        problem = problem_of(url)
        if problem is None:
            print(f"make audit: checking the virtualenv against the {service} database")
            command = [
                *(sys.executable, "-m", "pip_audit", "--vulnerability-service", service),
                *("--skip-editable", "--progress-spinner", "off", *args.pip_audit_args),
            ]
            return subprocess.run(command, check=False).returncode  # noqa: S603 (our own argv)
        problems.append(f"{service}: {problem}")
    print(
        "make audit: SKIPPED, nothing was checked: no vulnerability database is reachable from "
        "here (" + "; ".join(problems) + "). Run `make audit` where pypi.org or api.osv.dev "
        "answers."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
