import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.conftest import BASE_DIR


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECURE_HTTPS": "true",
        "SECRET_KEY": "x" * 20 + "-production-secret-key-that-is-long-and-random-9f8e7d6c5b4a",
        "FIELD_ENCRYPTION_KEY": "Jk0mH0n9ZKqv3l0p3a2xH1sZx3VQ6nE6m6mN7cB2yQw=",
        "ALLOWED_HOSTS": "builder.example.com",
        "DATA_DIR": str(tmp_path),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests, never in deployment
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_demands_keys_when_the_database_is_shared(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECURE_HTTPS": "true",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "ALLOWED_HOSTS": "builder.example.com",
        "DATA_DIR": str(tmp_path),
    }
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "builder.E001" in result.stderr + result.stdout


def test_secret_keys_are_generated_once_into_the_data_folder(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    env.pop("FIELD_ENCRYPTION_KEY", None)
    show = (
        "from django.conf import settings; "
        "print(settings.SECRET_KEY, settings.FIELD_ENCRYPTION_KEYS[0])"
    )
    run = [sys.executable, "manage.py", "shell", "-c", show]
    first = subprocess.run(run, cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True)
    second = subprocess.run(run, cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True)
    assert first.stdout == second.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only


GOOD_KEY = "Jk0mH0n9ZKqv3l0p3a2xH1sZx3VQ6nE6m6mN7cB2yQw="
OTHER_KEY = Fernet.generate_key().decode()


def test_the_deploy_check_refuses_a_field_encryption_key_that_is_not_a_fernet_key(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECURE_HTTPS": "true",
        "SECRET_KEY": "x" * 20 + "-production-secret-key-that-is-long-and-random-9f8e7d6c5b4a",
        "FIELD_ENCRYPTION_KEY": f"{GOOD_KEY},not-a-fernet-key",
        "ALLOWED_HOSTS": "builder.example.com",
        "DATA_DIR": str(tmp_path),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "builder.E002" in output
    assert "Key 2 of FIELD_ENCRYPTION_KEY" in output
    assert "not-a-fernet-key" not in output  # a key is a secret, even a broken one


@pytest.mark.parametrize(
    ("keys", "bad"),
    [
        ([GOOD_KEY], []),
        ([GOOD_KEY, f" {OTHER_KEY}"], []),  # spaces after the comma are fine
        (["short"], [1]),
        ([GOOD_KEY, "%%%not base64%%%"], [2]),
        ([GOOD_KEY[:-4], GOOD_KEY, ""], [1, 3]),
    ],
)
def test_every_field_encryption_key_is_checked(settings, keys, bad):
    from builder.checks import field_encryption_keys_are_fernet_keys

    settings.FIELD_ENCRYPTION_KEYS = keys
    errors = field_encryption_keys_are_fernet_keys()
    assert [error.msg.split()[1] for error in errors] == [str(n) for n in bad]
    assert {error.id for error in errors} <= {"builder.E002"}


def test_the_data_folder_and_the_sqlite_database_are_private(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "DATA_DIR": str(data)}
    for name in ("DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY"):
        env.pop(name, None)
    write = (
        "from builder.models import Workspace; Workspace.objects.create(name='x'); "
        f"import pathlib; folder = pathlib.Path({str(data)!r}); "
        "[print(p.name, oct(p.stat().st_mode & 0o777)) for p in folder.iterdir()]"
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=BASE_DIR, env=env, capture_output=True, check=True, timeout=120, umask=0o022,
    )  # fmt: skip
    open_files = subprocess.run(  # while a connection is open, so the -wal and -shm files exist
        [sys.executable, "manage.py", "shell", "-c", write],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True, timeout=60,
        umask=0o022,
    )  # fmt: skip
    modes = dict(line.split() for line in open_files.stdout.splitlines() if line.startswith("db."))
    assert data.stat().st_mode & 0o777 == 0o700
    assert set(modes) >= {"db.sqlite3", "db.sqlite3-wal"}
    assert set(modes.values()) == {"0o600"}, modes
    assert (data / "field_encryption_key").stat().st_mode & 0o077 == 0
