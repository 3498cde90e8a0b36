"""Secrets at rest: encrypted in the database, readable after key rotation, never plain."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db

from integrations.crypto import SecretUnreadable, decrypt, encrypt
from integrations.models import Connection

KEY = "pk_live_0123456789abcdef0123456789ab"


@pytest.fixture
def stored(alice_workspace) -> Connection:
    return Connection.objects.create(
        workspace=alice_workspace,
        name="Main store",
        kind=Connection.Kind.API_KEY,
        secret={"api_key": KEY},
        key_hint="pk_…90ab",
    )


def raw_secret(pk: int) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT secret FROM integrations_connection WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_the_database_never_holds_the_plain_key(stored):
    raw = raw_secret(stored.pk)
    assert KEY not in raw
    assert "api_key" not in raw
    assert Connection.objects.get(pk=stored.pk).secret == {"api_key": KEY}


def test_rotation_re_encrypts_with_the_new_key_and_the_old_key_can_go(stored, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    before = raw_secret(stored.pk)

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert Connection.objects.get(pk=stored.pk).secret == {"api_key": KEY}  # old still reads
    call_command("rotate_secrets", stdout=io.StringIO())
    after = raw_secret(stored.pk)
    assert after != before

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert Connection.objects.get(pk=stored.pk).secret == {"api_key": KEY}


def test_a_secret_without_its_key_says_what_went_wrong(settings):
    token = encrypt("hello")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretUnreadable, match="rotate_secrets"):
        decrypt(token)


def test_a_database_dump_holds_only_the_encrypted_secret(stored):
    out = io.StringIO()
    call_command("dumpdata", "integrations.connection", stdout=out)
    dump = out.getvalue()
    assert KEY not in dump
    Connection.objects.all().delete()
    path = io.StringIO(dump)
    from django.core import serializers

    for obj in serializers.deserialize("json", path):
        obj.save()
    assert Connection.objects.get().secret == {"api_key": KEY}
