# mypy: disable-error-code="union-attr"
"""The email admin pages and the folded quote on the ticket page, through the real stack."""

from __future__ import annotations

from django.test import Client

from helpline.connectors.email import services
from helpline.connectors.email.choices import InboundStatus, Transport
from helpline.connectors.email.models import Mailbox
from helpline.connectors.email.tests.factories import raw_email


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_adds_and_edits_a_mailbox_with_its_acknowledgement(db, admin_user):
    web = _login(admin_user)
    assert web.get("/email/").status_code == 200
    response = web.post("/email/", {"address": "help@example.org", "name": "Help"})
    assert response.status_code == 302
    mailbox = Mailbox.objects.get(address="help@example.org")
    page = web.get(f"/email/mailboxes/{mailbox.pk}/")
    assert page.status_code == 200 and b"{customer_name}" in page.content
    bad = web.post(
        f"/email/mailboxes/{mailbox.pk}/",
        {
            "name": "Help",
            "reply_target_hours": 8,
            "non_participant_policy": "new_ticket",
            "ack_enabled": "on",
            "ack_subject": "Got it",
            "ack_body": "Hi {nme}",
        },
    )
    assert bad.status_code == 422 and b"Unknown placeholder" in bad.content
    ok = web.post(
        f"/email/mailboxes/{mailbox.pk}/",
        {
            "name": "Help",
            "reply_target_hours": 8,
            "non_participant_policy": "attach_flag",
            "ack_enabled": "on",
            "ack_subject": "Got it",
            "ack_body": "Hi {customer_name}. {expected_reply}.",
            "is_active": "on",
        },
    )
    assert ok.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.reply_target_hours, mailbox.non_participant_policy) == (8, "attach_flag")
    assert mailbox.ack_body == "Hi {customer_name}. {expected_reply}."


def test_the_mailbox_page_never_sends_stored_credentials_back(db, admin_user):
    web = _login(admin_user)
    mailbox = services.mailbox_create(
        address="relay@example.org",
        smtp_url="smtp://bot:Relay-Secret-99@smtp.example.org:587",
        imap_url="imaps://bot:Imap-Secret-77@imap.example.org:993/INBOX",
    )
    page = web.get(f"/email/mailboxes/{mailbox.pk}/")
    assert page.status_code == 200
    assert b"Relay-Secret-99" not in page.content and b"Imap-Secret-77" not in page.content
    form = {
        "name": "Relay",
        "reply_target_hours": 24,
        "non_participant_policy": "new_ticket",
        "ack_subject": "Got it",
        "ack_body": "Hi {customer_name}.",
        "is_active": "on",
    }
    assert web.post(f"/email/mailboxes/{mailbox.pk}/", form).status_code == 302
    mailbox.refresh_from_db()  # empty fields kept what was stored
    assert mailbox.smtp_url == "smtp://bot:Relay-Secret-99@smtp.example.org:587"
    assert mailbox.imap_url.startswith("imaps://bot:Imap-Secret-77@")
    cleared = web.post(f"/email/mailboxes/{mailbox.pk}/", {**form, "smtp_url_clear": "on"})
    assert cleared.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.smtp_url == ""


def test_agents_cannot_open_email_admin(db, agent):
    assert _login(agent).get("/email/").status_code == 403


def test_quarantine_page_lists_and_reprocesses(db, admin_user):
    row = services.inbound_ingest(
        raw=b"Subject: x\r\n\r\nno sender\r\n", transport=Transport.WEBHOOK
    )
    assert row.status == InboundStatus.QUARANTINED
    web = _login(admin_user)
    page = web.get("/email/quarantine/")
    assert b"no usable sender" in page.content
    assert web.get(f"/email/inbound/{row.pk}/raw/").content == b"Subject: x\r\n\r\nno sender\r\n"
    assert web.post(f"/email/inbound/{row.pk}/reprocess/").status_code == 302
    row.refresh_from_db()
    assert row.attempts == 2


def test_spam_page_releases_to_a_ticket(db, admin_user):
    from helpline.connectors.email.tests.test_ingest import SPAMMY

    row = services.inbound_ingest(
        raw=raw_email(sender="deals4u8@promo.biz", subject="FREE MONEY!!! ACT NOW", body=SPAMMY),
        transport=Transport.WEBHOOK,
    )
    web = _login(admin_user)
    assert b"FREE MONEY" in web.get("/email/spam/").content
    web.post(f"/email/inbound/{row.pk}/reprocess/")
    row.refresh_from_db()
    assert row.status == InboundStatus.PROCESSED and row.ticket_id


def test_ticket_page_shows_the_new_part_and_folds_quote_and_signature(db, agent):
    services.mailbox_create(address="support@example.org")
    row = services.inbound_ingest(
        raw=raw_email(
            body="Still broken.\n\nThanks,\nAda\n\nOn Sun, 22 Nov 2026 at 10:00, Support wrote:\n"
            "> Please try descaling it.\n",
            html="<p>Still broken.</p><blockquote>Please try descaling it.</blockquote>",
        ),
        transport=Transport.WEBHOOK,
    )
    message = row.message
    assert message.body_text == "Still broken." and message.body_html == ""
    page = _login(agent).get(f"/tickets/{row.ticket_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Quoted history" in html and "Please try descaling it." in html
    assert "Signature" in html
    original = _login(agent).get(f"/email/messages/{message.pk}/original/")
    assert original.status_code == 200 and "<blockquote>" in original.content.decode()
