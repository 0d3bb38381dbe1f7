"""Mailbox credentials at rest: encrypted in the database, clear to the services, never in a
log line or an API answer; a changed secret key is a clear error, never garbage, and the old key
as a fallback plus ``helpline mailbox reencrypt`` rotates them."""

from __future__ import annotations

import importlib
import logging
import os
import sqlite3
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client

from helpline.accounts.services import api_token_create
from helpline.config.env import ConfigError
from helpline.connectors.email import imap, services
from helpline.connectors.email.conf import parse_smtp_url
from helpline.connectors.email.models import Mailbox
from helpline.connectors.email.tests.factories import raw_email
from helpline.connectors.email.tests.imap_helpers import append
from helpline.core import crypto
from helpline.tickets.models import Ticket

IMAP_PASSWORD = "imap-Pa55-7c1d9e"
OAUTH_TOKEN = "ya29.a0-token-3f8e2b"
SMTP_PASSWORD = "smtp-Pa55-91aa0c"
SECRETS = (IMAP_PASSWORD, OAUTH_TOKEN, SMTP_PASSWORD)
migration = importlib.import_module(
    "helpline.connectors.email.migrations.0002_encrypt_credentials_imap_watch_lease"
)


def _stored(pk: int) -> tuple[str, str]:
    """The columns as they are in the database, bypassing the field."""
    table = Mailbox._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT imap_url, smtp_url FROM {table} WHERE id = %s", [pk])  # noqa: S608
        imap_url, smtp_url = cursor.fetchone()
    return imap_url, smtp_url


def _api(user) -> Client:
    _, token = api_token_create(user=user, name="t")
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_credentials_are_encrypted_in_the_database_and_clear_to_the_services(db):
    mailbox = services.mailbox_create(
        address="help@example.org",
        imap_url=f"imaps://help:{IMAP_PASSWORD}@imap.example.org/INBOX",
        smtp_url=f"smtps://help:{SMTP_PASSWORD}@smtp.example.org:465",
    )
    imap_col, smtp_col = _stored(mailbox.pk)
    for column in (imap_col, smtp_col):
        assert column.startswith("fernet1:")
        assert IMAP_PASSWORD not in column and SMTP_PASSWORD not in column
        assert "example.org" not in column  # the whole URL, host and user included
    fresh = Mailbox.objects.get(pk=mailbox.pk)
    assert fresh.imap_url == f"imaps://help:{IMAP_PASSWORD}@imap.example.org/INBOX"
    assert imap.parse_imap_url(fresh.imap_url).password == IMAP_PASSWORD
    assert IMAP_PASSWORD not in repr(imap.parse_imap_url(fresh.imap_url))  # safe to log
    assert fresh.smtp_url.endswith(f":{SMTP_PASSWORD}@smtp.example.org:465")
    # Randomised: the same value twice is two different ciphertexts.
    other = services.mailbox_create(address="other@example.org", imap_url=fresh.imap_url)
    assert _stored(other.pk)[0] != imap_col
    # An empty value stays empty: "not configured" is not a secret.
    plain = services.mailbox_create(address="smtp@example.org")
    assert _stored(plain.pk) == ("", "")


def test_the_api_never_returns_credentials(db, admin_user):
    api = _api(admin_user)
    created = api.post(
        "/api/v1/mailboxes",
        {
            "address": "help@example.org",
            "imap_url": f"imaps://help@example.org:{OAUTH_TOKEN}@imap.gmail.com/INBOX?auth=xoauth2",
            "smtp_url": f"smtp://help:{SMTP_PASSWORD}@smtp.example.org:587?starttls",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    patched = api.patch(
        f"/api/v1/mailboxes/{pk}",
        {"imap_url": f"imaps://help:{IMAP_PASSWORD}@imap.example.org/INBOX"},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    answers = [created, patched, api.get(f"/api/v1/mailboxes/{pk}"), api.get("/api/v1/mailboxes")]
    for answer in answers:
        assert answer.status_code in (200, 201)
        body = answer.content.decode()
        for secret in SECRETS:
            assert secret not in body
        assert "fernet1:" not in body
    assert answers[2].json()["imap_configured"] is True
    assert answers[2].json()["smtp_configured"] is True
    assert Mailbox.objects.get(pk=pk).imap_url.endswith(f"{IMAP_PASSWORD}@imap.example.org/INBOX")


def test_credentials_never_reach_a_log_line(
    transactional_db, admin_user, dovecot_server, folder, caplog
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")  # "django" is at INFO
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    try:
        api = _api(admin_user)
        good = api.post(
            "/api/v1/mailboxes",
            {"address": "good@example.org", "imap_url": dovecot_server.url(folder)},
            content_type="application/json",
        )
        bad = api.post(
            "/api/v1/mailboxes",
            {
                "address": "bad@example.org",
                "imap_url": dovecot_server.url(folder, secret=OAUTH_TOKEN, query="auth=xoauth2"),
                "smtp_url": f"smtp://u:{SMTP_PASSWORD}@127.0.0.1:9",
            },
            content_type="application/json",
        )
        assert good.status_code == bad.status_code == 201
        append(dovecot_server, folder, raw_email(to="good@example.org", subject="logged?"))
        imap.imap_poll_due()
        api.get("/api/v1/mailboxes")
    finally:
        connection.force_debug_cursor = False
    assert Ticket.objects.filter(subject="logged?").exists()
    assert Mailbox.objects.get(address="bad@example.org").imap_error.startswith(
        "ImapError: XOAUTH2 login"
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "SELECT" in logged and "IMAP poll of bad@example.org failed" in logged
    assert "fernet1:" in logged  # the INSERTs were logged with their (encrypted) parameters
    for secret in (dovecot_server.password, OAUTH_TOKEN, SMTP_PASSWORD):
        assert secret not in logged


def test_a_changed_secret_key_is_a_clear_error_not_garbage(
    transactional_db, dovecot_server, folder, admin_user, settings
):
    mailbox = services.mailbox_create(
        address="help@example.org", imap_url=dovecot_server.url(folder)
    )
    before = _stored(mailbox.pk)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-secret-key-" + "x" * 40

    loaded = Mailbox.objects.get(pk=mailbox.pk)
    assert isinstance(loaded.imap_url, crypto.UnreadableSecret)
    assert "cannot be decrypted with the current HELPLINE_SECRET_KEY" in loaded.imap_url
    assert dovecot_server.password not in loaded.imap_url
    assert imap.imap_poll_due() == 0
    loaded.refresh_from_db()
    assert loaded.imap_error.startswith("ConfigError: The stored IMAP URL is unreadable.")
    assert "HELPLINE_SECRET_KEY_FALLBACKS" in loaded.imap_error
    # The admin still sees the mailbox, that it is configured, and why it does not work.
    shown = _api(admin_user).get(f"/api/v1/mailboxes/{mailbox.pk}")
    assert shown.status_code == 200
    assert shown.json()["imap_configured"] is True
    assert shown.json()["imap_error"] == loaded.imap_error
    # Saving the row (another field changed) keeps the ciphertext: nothing is lost.
    services.mailbox_update(mailbox=loaded, name="Renamed")
    loaded.save()
    assert _stored(mailbox.pk) == before

    settings.SECRET_KEY = old_key
    append(dovecot_server, folder, raw_email(to="help@example.org"))
    assert imap.imap_poll(Mailbox.objects.get(pk=mailbox.pk)) == 1


def test_rotation_with_the_old_key_as_fallback_then_reencrypt(db, settings):
    url = f"imaps://help:{IMAP_PASSWORD}@imap.example.org/INBOX"
    mailbox = services.mailbox_create(address="help@example.org", imap_url=url)
    lost = services.mailbox_create(address="lost@example.org", imap_url=url)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "interim-key-" + "y" * 40
    lost.save()  # written under a key that will be gone
    settings.SECRET_KEY = "the-next-secret-key-" + "z" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]

    assert Mailbox.objects.get(pk=mailbox.pk).imap_url == url  # the fallback decrypts
    assert not crypto.is_current(_stored(mailbox.pk)[0])

    rewritten, unreadable = crypto.reencrypt(Mailbox.objects.all(), ["imap_url", "smtp_url"])

    assert rewritten == 1
    assert unreadable == [(lost.pk, "lost@example.org")]  # to be entered again
    assert crypto.is_current(_stored(mailbox.pk)[0])
    settings.SECRET_KEY_FALLBACKS = []
    assert Mailbox.objects.get(pk=mailbox.pk).imap_url == url
    assert isinstance(Mailbox.objects.get(pk=lost.pk).imap_url, crypto.UnreadableSecret)


def test_an_unreadable_smtp_url_is_a_clear_error_for_the_relay_too(db, settings):
    mailbox = services.mailbox_create(
        address="help@example.org", smtp_url=f"smtp://u:{SMTP_PASSWORD}@smtp.example.org:587"
    )
    settings.SECRET_KEY = "a-brand-new-secret-key-" + "x" * 40
    loaded = Mailbox.objects.get(pk=mailbox.pk)
    with pytest.raises(ConfigError, match=r"The stored mailbox smtp_url is unreadable\. A stored"):
        parse_smtp_url(loaded.smtp_url, name="mailbox smtp_url")


def test_a_tampered_or_clear_text_column_is_unreadable_not_used(db):
    mailbox = services.mailbox_create(
        address="help@example.org", imap_url=f"imap://help:{IMAP_PASSWORD}@127.0.0.1/INBOX"
    )
    imap_col, _ = _stored(mailbox.pk)
    table = Mailbox._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET imap_url = %s, smtp_url = %s WHERE id = %s",  # noqa: S608
            [imap_col[:-6] + "AAAAAA", "smtp://evil.example:25", mailbox.pk],
        )
    loaded = Mailbox.objects.get(pk=mailbox.pk)
    assert isinstance(loaded.imap_url, crypto.UnreadableSecret)
    assert isinstance(loaded.smtp_url, crypto.UnreadableSecret)
    assert "not encrypted" in loaded.smtp_url
    with pytest.raises(crypto.SecretUnreadable):
        crypto.require_readable(loaded.smtp_url)


def test_the_migration_encrypts_existing_rows_and_reverses(db):
    mailbox = services.mailbox_create(address="help@example.org")
    url = f"imaps://help:{IMAP_PASSWORD}@imap.example.org/INBOX"
    table = Mailbox._meta.db_table
    with connection.cursor() as cursor:  # a row as 0001 left it: clear text
        cursor.execute(
            f"UPDATE {table} SET imap_url = %s WHERE id = %s",  # noqa: S608
            [url, mailbox.pk],
        )
    editor = SimpleNamespace(connection=connection)  # all the data step uses of it
    migration.encrypt_existing(django_apps, editor)
    imap_col, smtp_col = _stored(mailbox.pk)
    assert imap_col.startswith("fernet1:") and IMAP_PASSWORD not in imap_col
    assert smtp_col == ""
    assert Mailbox.objects.get(pk=mailbox.pk).imap_url == url
    migration.encrypt_existing(django_apps, editor)  # idempotent
    assert Mailbox.objects.get(pk=mailbox.pk).imap_url == url
    migration.decrypt_existing(django_apps, editor)
    assert _stored(mailbox.pk)[0] == url


def test_helpline_mailbox_reencrypt_after_a_key_rotation(tmp_path):
    """The operator's path, with real processes on a data dir of their own (SQLite)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    base["HELPLINE_DATA_DIR"] = str(tmp_path / "data")
    old, new = "old-secret-key-" + "a" * 40, "new-secret-key-" + "b" * 40

    def helpline(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "helpline.cli", *args],
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )

    url = f"imaps://help:{IMAP_PASSWORD}@imap.example.org/INBOX"
    for args in (
        ["manage", "migrate", "--verbosity", "0"],
        ["mailbox", "add", "--address", "help@example.org", "--imap-url", url],
    ):
        done = helpline(*args, HELPLINE_SECRET_KEY=old)
        assert done.returncode == 0, done.stderr

    # The new key alone cannot read it: a clear refusal, nothing rewritten.
    refused = helpline("mailbox", "reencrypt", HELPLINE_SECRET_KEY=new)
    assert refused.returncode == 1
    assert "help@example.org (id=1): credentials unreadable" in refused.stderr
    # With the old key as a fallback it is rewritten under the new one ...
    done = helpline(
        "mailbox", "reencrypt", HELPLINE_SECRET_KEY=new, HELPLINE_SECRET_KEY_FALLBACKS=old
    )
    assert done.returncode == 0, done.stderr
    assert "1 mailbox(es) re-encrypted" in done.stdout
    # ... and the new key alone now reads it.
    done = helpline("mailbox", "reencrypt", HELPLINE_SECRET_KEY=new)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "data" / "helpline.sqlite3") as conn:
        (stored,) = conn.execute("SELECT imap_url FROM email_connector_mailbox").fetchone()
    assert stored.startswith("fernet1:") and IMAP_PASSWORD not in stored
