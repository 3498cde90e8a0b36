"""The client's address comes from our own proxies' X-Forwarded-For entries, never the client's."""

import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from builder.proxies import client_address
from tests.conftest import BASE_DIR

PROXY = "10.0.0.2"


def request_from(remote: str = PROXY, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxies_it_is_the_connections_address_whatever_the_header_says(settings):
    settings.TRUSTED_PROXY_HOPS = 0
    assert client_address(request_from("198.51.100.7", "203.0.113.9")) == "198.51.100.7"


def test_behind_one_proxy_it_is_the_entry_that_proxy_appended(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    assert client_address(request_from(forwarded="203.0.113.9")) == "203.0.113.9"


def test_a_spoofed_left_most_entry_is_ignored(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    assert client_address(request_from(forwarded="1.2.3.4, 203.0.113.9")) == "203.0.113.9"


def test_behind_two_proxies_it_is_the_second_entry_from_the_right(settings):
    settings.TRUSTED_PROXY_HOPS = 2
    forwarded = "1.2.3.4,203.0.113.9 , 10.0.0.1"
    assert client_address(request_from(forwarded=forwarded)) == "203.0.113.9"


def test_a_header_shorter_than_the_hops_gives_its_left_most_entry(settings):
    settings.TRUSTED_PROXY_HOPS = 2
    assert client_address(request_from(forwarded="203.0.113.9")) == "203.0.113.9"


def test_behind_a_proxy_without_the_header_it_is_the_connections_address(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    assert client_address(request_from("198.51.100.7")) == "198.51.100.7"
    assert client_address(request_from("198.51.100.7", " , ")) == "198.51.100.7"


@pytest.mark.parametrize(("behind_proxy", "hops"), [("true", "1"), ("false", "0")])
def test_one_proxy_hop_is_trusted_by_default_only_behind_a_proxy(tmp_path, behind_proxy, hops):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "BEHIND_PROXY": behind_proxy}
    env.pop("TRUSTED_PROXY_HOPS", None)
    show = "from django.conf import settings; print(settings.TRUSTED_PROXY_HOPS)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == hops  # after the shell's own notice
