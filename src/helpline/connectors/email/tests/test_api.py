"""The email API: mailbox CRUD for admins, the signed inbound webhook, quarantine and spam."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.test import Client

from helpline.accounts.services import api_token_create
from helpline.connectors.email.conf import email_config
from helpline.connectors.email.models import InboundEmail, Mailbox
from helpline.connectors.email.tests.factories import raw_email
from helpline.tickets.models import Ticket

BASE = "/api/v1"
SECRET = "webhook-secret-for-tests"


def _client(user) -> Client:
    _, token = api_token_create(user=user, name="t")
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def webhook_secret(monkeypatch):
    monkeypatch.setenv("HELPLINE_EMAIL_WEBHOOK_SECRET", SECRET)
    email_config.cache_clear()
    yield SECRET
    monkeypatch.delenv("HELPLINE_EMAIL_WEBHOOK_SECRET")
    email_config.cache_clear()


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-Helpline-Signature": "sha256="
        + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    }


def test_admin_manages_mailboxes(db, admin_user):
    api = _client(admin_user)
    created = api.post(
        f"{BASE}/mailboxes",
        {"address": "Sales@Example.org", "name": "Sales"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["address"] == "sales@example.org" and body["transport"] == "smtp"
    imap = api.post(
        f"{BASE}/mailboxes",
        {"address": "help@example.org", "imap_url": "imaps://u:p@imap.example.org/INBOX"},
        content_type="application/json",
    )
    assert imap.json()["transport"] == "imap" and imap.json()["imap_configured"] is True
    assert "imap_url" not in imap.json()  # credentials never go back out
    changed = api.patch(
        f"{BASE}/mailboxes/{body['id']}",
        {"ack_body": "Hi {customer_name}, #{ticket_number}. {expected_reply}."},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["ack_body"].startswith(
        "Hi {customer_name}"
    )
    bad = api.patch(
        f"{BASE}/mailboxes/{body['id']}", {"ack_body": "{oops}"}, content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json()["field"] == "ack_body"
    assert len(api.get(f"{BASE}/mailboxes").json()) == 2
    assert api.delete(f"{BASE}/mailboxes/{body['id']}").status_code == 204
    assert api.get(f"{BASE}/mailboxes/{body['id']}").status_code == 404


def test_agents_cannot_manage_mailboxes(db, agent):
    assert _client(agent).get(f"{BASE}/mailboxes").status_code == 403


def test_inbound_webhook_needs_a_valid_signature(db, webhook_secret):
    Mailbox.objects.create(address="support@example.org")
    raw = raw_email(message_id="<w1@customer.test>")
    anon = Client()
    assert anon.post(f"{BASE}/inbound/email", raw, content_type="message/rfc822").status_code == 401
    forged = _signed(raw, "other-secret")
    assert (
        anon.post(
            f"{BASE}/inbound/email", raw, content_type="message/rfc822", headers=forged
        ).status_code
        == 401
    )
    assert not InboundEmail.objects.exists()

    ok = anon.post(
        f"{BASE}/inbound/email", raw, content_type="message/rfc822", headers=_signed(raw)
    )
    assert ok.status_code == 202, ok.content
    assert ok.json()["status"] == "processed" and ok.json()["duplicate"] is False
    again = anon.post(
        f"{BASE}/inbound/email", raw, content_type="message/rfc822", headers=_signed(raw)
    )
    assert again.json()["duplicate"] is True
    assert Ticket.objects.count() == 1


def test_inbound_webhook_is_off_without_a_secret(db):
    raw = raw_email()
    response = Client().post(
        f"{BASE}/inbound/email", raw, content_type="message/rfc822", headers=_signed(raw)
    )
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"


def test_quarantine_list_and_reprocess(db, admin_user, webhook_secret):
    raw = b"To: support@example.org\r\nSubject: nobody\r\n\r\nno sender\r\n"
    Client().post(f"{BASE}/inbound/email", raw, content_type="message/rfc822", headers=_signed(raw))
    api = _client(admin_user)
    listed = api.get(f"{BASE}/email/quarantine").json()
    assert len(listed) == 1 and "sender" in listed[0]["error"]
    again = api.post(f"{BASE}/email/inbound/{listed[0]['id']}/reprocess")
    assert again.status_code == 200 and again.json()["status"] == "quarantined"
    assert again.json()["attempts"] == 2


def test_spam_view_and_release(db, admin_user, webhook_secret):
    from helpline.connectors.email.tests.test_ingest import SPAMMY

    raw = raw_email(sender="deals4u8@promo.biz", subject="FREE MONEY!!! ACT NOW", body=SPAMMY)
    Client().post(f"{BASE}/inbound/email", raw, content_type="message/rfc822", headers=_signed(raw))
    api = _client(admin_user)
    spam = api.get(f"{BASE}/email/spam").json()
    assert len(spam) == 1 and spam[0]["spam_score"] >= 0.9
    released = api.post(f"{BASE}/email/inbound/{spam[0]['id']}/reprocess").json()
    assert released["status"] == "processed" and released["ticket_id"]
