"""STARTTLS and AUTH on Helpline's SMTP listener, spoken to with smtplib: the listener's
certificate (signed by a CA generated here) verifies, AUTH is neither offered nor accepted
before TLS, wrong credentials are refused, and after STARTTLS + login mail becomes a ticket."""

from __future__ import annotations

import base64
import smtplib
import ssl

import pytest

from helpline.connectors.email.conf import email_config
from helpline.connectors.email.models import InboundEmail
from helpline.connectors.email.smtp_server import start_listener
from helpline.connectors.email.tests.conftest import free_port
from helpline.connectors.email.tests.factories import raw_email
from helpline.connectors.email.tests.tlsutil import make_pki
from helpline.tickets.models import Ticket

RELAY_USER, RELAY_PASSWORD = "relay", "relay-pw-4b1f"


@pytest.fixture
def pki(tmp_path):
    return make_pki(tmp_path / "tls")


@pytest.fixture
def tls_listener(monkeypatch, mailbox, pki):
    monkeypatch.setenv("HELPLINE_SMTP_LISTENER_TLS_CERT", str(pki.cert_file))
    monkeypatch.setenv("HELPLINE_SMTP_LISTENER_TLS_KEY", str(pki.key_file))
    monkeypatch.setenv("HELPLINE_SMTP_LISTENER_AUTH", f"{RELAY_USER}:{RELAY_PASSWORD}")
    email_config.cache_clear()
    running = start_listener(host="127.0.0.1", port=free_port())
    try:
        yield running
    finally:
        running.stop()
        monkeypatch.undo()
        email_config.cache_clear()


def _context(pki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca_file))


def _plain_auth(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def test_auth_is_refused_before_starttls(tls_listener):
    with smtplib.SMTP(tls_listener.hostname, tls_listener.port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")  # not even offered in the clear
        # A client that tries anyway is refused, and its password was not accepted.
        code, text = client.docmd("AUTH", "PLAIN " + _plain_auth(RELAY_USER, RELAY_PASSWORD))
        assert code == 538, text  # encryption required
        code, text = client.mail("ada@customer.test")
        assert code == 530, text  # and nothing is accepted without AUTH
    assert InboundEmail.objects.count() == 0


def test_starttls_then_login_delivers_a_ticket(tls_listener, pki):
    raw = raw_email(to="support@example.org", subject="sent over STARTTLS")
    with smtplib.SMTP(tls_listener.hostname, tls_listener.port, timeout=10) as client:
        client.ehlo()
        client.starttls(context=_context(pki))  # the listener's certificate verifies
        client.ehlo()
        assert client.has_extn("auth")
        assert "PLAIN" in client.esmtp_features["auth"].upper()
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login(RELAY_USER, "wrong-password")
        assert refused.value.smtp_code == 535
        client.login(RELAY_USER, RELAY_PASSWORD)
        refused_rcpts = client.sendmail("ada@customer.test", ["support@example.org"], raw)
        assert refused_rcpts == {}
    row = InboundEmail.objects.get()
    assert row.transport == "smtp"
    assert Ticket.objects.filter(subject="sent over STARTTLS").exists()


def test_a_client_that_does_not_trust_the_certificate_stops_there(tls_listener, tmp_path):
    other = make_pki(tmp_path / "other", ca_name="Not the listener's CA")
    with smtplib.SMTP(tls_listener.hostname, tls_listener.port, timeout=10) as client:
        client.ehlo()
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(context=ssl.create_default_context(cafile=str(other.ca_file)))


def test_tls_without_auth_still_accepts_mail_in_the_clear(monkeypatch, mailbox, pki):
    # An MX-facing listener offers STARTTLS but cannot require it: senders without TLS exist.
    monkeypatch.setenv("HELPLINE_SMTP_LISTENER_TLS_CERT", str(pki.cert_file))
    monkeypatch.setenv("HELPLINE_SMTP_LISTENER_TLS_KEY", str(pki.key_file))
    email_config.cache_clear()
    running = start_listener(host="127.0.0.1", port=free_port())
    try:
        with smtplib.SMTP(running.hostname, running.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls") and not client.has_extn("auth")
            client.sendmail(
                "ada@customer.test",
                ["support@example.org"],
                raw_email(to="support@example.org", subject="plain"),
            )
        assert InboundEmail.objects.filter(subject="plain").exists()
    finally:
        running.stop()
        email_config.cache_clear()
