"""IMAP over TLS against the test Dovecot's imaps listener, whose certificate a CA generated for
this run signed: polling works when that CA is trusted (``?ca_file=``), an untrusted or wrong
certificate is refused before any credential is sent, and the admin sees why."""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.test import Client

from helpline.accounts.services import api_token_create
from helpline.connectors.email import imap, services
from helpline.connectors.email.models import InboundEmail, Mailbox
from helpline.connectors.email.tests.factories import raw_email
from helpline.connectors.email.tests.imap_helpers import (
    append,
    seen_flags,
)
from helpline.connectors.email.tests.tlsutil import make_pki
from helpline.tickets.models import Ticket


def _mailbox(url: str, address: str = "tls@example.org") -> Mailbox:
    return services.mailbox_create(address=address, imap_url=url)


def test_imaps_with_the_servers_ca_trusted_fetches_mail(
    transactional_db, dovecot_server, folder, capture
):
    url = dovecot_server.url(folder, tls=True, query=f"ca_file={dovecot_server.ca_file}")
    mailbox = services.mailbox_create(address="tls@example.org", imap_url=url, smtp_url=capture.url)
    target = imap.parse_imap_url(mailbox.imap_url)
    assert (target.tls, target.verify, target.ca_file) == (True, True, str(dovecot_server.ca_file))
    append(dovecot_server, folder, raw_email(to="tls@example.org", subject="over TLS"))

    assert imap.imap_poll(mailbox) == 1

    assert Ticket.objects.filter(subject="over TLS").exists()
    assert seen_flags(dovecot_server, folder) == [True]
    mailbox.refresh_from_db()
    assert mailbox.imap_error == ""


def test_the_host_name_is_checked_too(transactional_db, dovecot_server, folder):
    # The certificate names 127.0.0.1 and localhost; both verify.
    url = dovecot_server.url(
        folder, tls=True, host="localhost", query=f"ca_file={dovecot_server.ca_file}"
    )
    append(dovecot_server, folder, raw_email(to="tls@example.org"))
    assert imap.imap_poll(_mailbox(url)) == 1


def test_a_certificate_from_an_unknown_ca_is_refused_and_the_admin_sees_why(
    transactional_db, dovecot_server, folder, admin_user
):
    # Secure by default: without ca_file only the system's CAs are trusted.
    mailbox = _mailbox(dovecot_server.url(folder, tls=True))
    append(dovecot_server, folder, raw_email(to="tls@example.org"))

    assert imap.imap_poll_due() == 0

    mailbox.refresh_from_db()
    assert mailbox.imap_error.startswith(
        f"ImapError: TLS certificate of 127.0.0.1:{dovecot_server.tls_port} refused ("
    )
    assert "(unable to get local issuer certificate)" in mailbox.imap_error
    assert "?ca_file=" in mailbox.imap_error  # says what to do about it
    assert InboundEmail.objects.count() == 0
    assert seen_flags(dovecot_server, folder) == [False]
    # The admin sees it in the API (and the mailbox page, which shows imap_error).
    _, token = api_token_create(user=admin_user, name="t")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    shown = api.get(f"/api/v1/mailboxes/{mailbox.pk}").json()
    assert shown["imap_error"] == mailbox.imap_error
    web = Client()
    web.force_login(admin_user)
    page = web.get(f"/email/mailboxes/{mailbox.pk}/").content.decode()
    assert f"TLS certificate of 127.0.0.1:{dovecot_server.tls_port} refused" in page


def test_a_certificate_not_signed_by_the_given_ca_is_refused(
    transactional_db, dovecot_server, folder, tmp_path
):
    other = make_pki(tmp_path / "other", ca_name="Some other CA")
    mailbox = _mailbox(dovecot_server.url(folder, tls=True, query=f"ca_file={other.ca_file}"))
    append(dovecot_server, folder, raw_email(to="tls@example.org"))

    assert imap.imap_poll_due() == 0

    mailbox.refresh_from_db()
    assert "TLS certificate of 127.0.0.1" in mailbox.imap_error
    assert f"check that {other.ca_file} is the CA" in mailbox.imap_error
    assert InboundEmail.objects.count() == 0


def test_a_name_the_certificate_does_not_carry_is_refused(dovecot_server):
    # "127.1" reaches the same listener, but the certificate names only 127.0.0.1 and
    # localhost: a trusted CA is not enough, the name must match.
    good = dovecot_server.url(tls=True, query=f"ca_file={dovecot_server.ca_file}")
    imap.imap_connect(imap.parse_imap_url(good)).logout()
    other_name = dovecot_server.url(
        tls=True, host="127.1", query=f"ca_file={dovecot_server.ca_file}"
    )
    with pytest.raises(imap.ImapError, match=r"TLS certificate of 127\.1:.* refused .*mismatch"):
        imap.imap_connect(imap.parse_imap_url(other_name))


def test_verification_off_must_be_asked_for(transactional_db, dovecot_server, folder):
    url = dovecot_server.url(folder, tls=True, query="tls_verify=no")
    append(dovecot_server, folder, raw_email(to="tls@example.org"))
    assert imap.imap_poll(_mailbox(url)) == 1


def test_starttls_upgrades_a_plain_connection_and_verifies(
    transactional_db, dovecot_server, folder
):
    url = dovecot_server.url(folder, query=f"starttls=yes&ca_file={dovecot_server.ca_file}")
    append(dovecot_server, folder, raw_email(to="tls@example.org"))
    assert imap.imap_poll(_mailbox(url)) == 1
    # Without the CA, the upgrade is refused like imaps is.
    with pytest.raises(imap.ImapError, match=r"TLS certificate of 127\.0\.0\.1"):
        imap.imap_connect(imap.parse_imap_url(dovecot_server.url(folder, query="starttls")))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("imaps://u:p@h/INBOX?tls_verify=maybe", "tls_verify must be yes or no"),
        ("imaps://u:p@h/INBOX?cafile=/x", "Unknown IMAP URL option(s) cafile"),
        ("imaps://u:p@h/INBOX?starttls", "starttls is for imap://"),
        ("imaps://u:p@h/INBOX?auth=oauth", "auth must be password or xoauth2"),
    ],
)
def test_bad_tls_options_are_refused_when_the_mailbox_is_saved(db, url, message):
    with pytest.raises(Exception, match=re.escape(message)):
        _mailbox(url)


def test_an_unreadable_ca_file_is_a_clear_error(tmp_path):
    target = imap.parse_imap_url(f"imaps://u:p@127.0.0.1/INBOX?ca_file={tmp_path}/missing.pem")
    with pytest.raises(Exception, match="Cannot read the CA file"):
        target.ssl_context()


def test_idle_over_tls_wakes_when_mail_arrives(dovecot_server, folder):
    # IDLE reads through the TLS layer: data already decrypted and buffered must not be missed.
    target = imap.parse_imap_url(
        dovecot_server.url(folder, tls=True, query=f"ca_file={dovecot_server.ca_file}")
    )
    conn = imap.imap_connect(target)
    try:
        conn.select(folder)
        timer = threading.Timer(
            0.5, append, args=(dovecot_server, folder, raw_email(to="tls@example.org"))
        )
        timer.start()
        started = time.monotonic()
        assert imap.imap_idle(conn, timeout=15) is True
        assert time.monotonic() - started < 10
        timer.join()
    finally:
        conn.logout()
