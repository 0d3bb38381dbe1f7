"""XOAUTH2 (the Gmail / Microsoft 365 login) against the test Dovecot, whose ``oauth2`` passdb
asks a local introspection endpoint (RFC 7662) whether the bearer token is valid: a mailbox with
``?auth=xoauth2`` and the right token fetches mail; a wrong token is a clear login error that
never repeats the token."""

from __future__ import annotations

from helpline.connectors.email import imap, services
from helpline.connectors.email.models import InboundEmail
from helpline.connectors.email.tests.factories import raw_email
from helpline.connectors.email.tests.imap_helpers import (
    append,
    seen_flags,
)
from helpline.tickets.models import Ticket


def test_a_mailbox_with_an_oauth_token_fetches_mail_over_tls(
    transactional_db, dovecot_server, folder, capture
):
    # Gmail's shape: imaps, the account as user, the access token in the password's place.
    url = dovecot_server.url(
        folder,
        tls=True,
        secret=dovecot_server.oauth_token,
        query=f"auth=xoauth2&ca_file={dovecot_server.ca_file}",
    )
    mailbox = services.mailbox_create(
        address="oauth@example.org", imap_url=url, smtp_url=capture.url
    )
    append(dovecot_server, folder, raw_email(to="oauth@example.org", subject="via oauth"))
    asked_before = len(dovecot_server.oauth.asked)
    logins_before = dovecot_server.log().count("method=XOAUTH2")

    assert imap.imap_poll(mailbox) == 1

    assert Ticket.objects.filter(subject="via oauth").exists()
    assert seen_flags(dovecot_server, folder) == [True]
    # Dovecot really asked the provider about this token, and logged an XOAUTH2 login.
    assert dovecot_server.oauth.asked[asked_before:] == [dovecot_server.oauth_token]
    assert dovecot_server.log().count("method=XOAUTH2") == logins_before + 1


def test_the_token_is_not_a_password(transactional_db, dovecot_server, folder):
    # Without ?auth=xoauth2 the token is tried as a password, and the password passdb says no.
    url = dovecot_server.url(folder, secret=dovecot_server.oauth_token)
    services.mailbox_create(address="oauth@example.org", imap_url=url)
    assert imap.imap_poll_due() == 0
    assert InboundEmail.objects.count() == 0


def test_a_bad_token_is_a_clear_auth_error(transactional_db, dovecot_server, folder):
    bad = "ya29.expired-or-revoked-token"
    url = dovecot_server.url(folder, secret=bad, query="auth=xoauth2")
    mailbox = services.mailbox_create(address="oauth@example.org", imap_url=url)
    append(dovecot_server, folder, raw_email(to="oauth@example.org"))

    assert imap.imap_poll_due() == 0

    mailbox.refresh_from_db()
    assert mailbox.imap_error.startswith(
        f"ImapError: XOAUTH2 login as helpdesk on 127.0.0.1:{dovecot_server.port} refused: "
        "[AUTHENTICATIONFAILED]"
    )
    assert '"status":"401"' in mailbox.imap_error  # the provider's verdict, relayed
    assert "access token is wrong or expired" in mailbox.imap_error
    assert bad not in mailbox.imap_error
    assert bad in dovecot_server.oauth.asked  # refused by the provider, not by a typo here
    assert InboundEmail.objects.count() == 0
    assert seen_flags(dovecot_server, folder) == [False]


def test_a_wrong_password_is_a_clear_auth_error_too(transactional_db, dovecot_server, folder):
    mailbox = services.mailbox_create(
        address="pw@example.org", imap_url=dovecot_server.url(folder, secret="not-it")
    )
    assert imap.imap_poll_due() == 0
    mailbox.refresh_from_db()
    assert mailbox.imap_error == (
        f"ImapError: IMAP login as helpdesk on 127.0.0.1:{dovecot_server.port} refused: "
        "[AUTHENTICATIONFAILED] Authentication failed."
    )
