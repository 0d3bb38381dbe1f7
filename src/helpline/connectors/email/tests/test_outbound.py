# mypy: disable-error-code="union-attr,arg-type,return-value"
"""Outbound replies through a real SMTP capture server: headers clients thread on, text and HTML,
attachments, and queued → sent | failed with the server's answer, with retries and backoff."""

from __future__ import annotations

from datetime import timedelta

from helpline.connectors.email import services
from helpline.connectors.email.choices import OutboundStatus, Transport
from helpline.connectors.email.models import OutboundEmail
from helpline.connectors.email.tests.conftest import free_port
from helpline.connectors.email.tests.factories import raw_email
from helpline.core import clock
from helpline.tickets.choices import DeliveryStatus
from helpline.tickets.models import Ticket
from helpline.tickets.services import AttachmentIn, reply_add


def _ticket(**kw: object) -> Ticket:
    return services.inbound_ingest(raw=raw_email(**kw), transport=Transport.SMTP).ticket


def test_reply_has_text_html_attachment_and_cc_participants(mailbox, capture, agent):
    ticket = _ticket(headers={"Cc": "bob@customer.test"}, message_id="<o1@customer.test>")
    capture.wait_for(1)
    reply_add(
        ticket=ticket,
        author=agent,
        body_text="Label attached.",
        body_html="<p>Label <b>attached</b>.</p>",
        attachments=[
            AttachmentIn(
                filename="label.pdf", content=b"%PDF-1.4 label", content_type="application/pdf"
            )
        ],
    )
    got = capture.wait_for(2)[1]
    msg = got.message
    assert sorted(got.rcpt_tos) == ["ada@customer.test", "bob@customer.test"]
    assert got.mail_from == "support@example.org"
    assert msg["From"] == "Example Support <support@example.org>"
    assert msg["Cc"] == "bob@customer.test"
    assert msg.get_body(("plain",)).get_content().strip() == "Label attached."
    assert "<b>attached</b>" in msg.get_body(("html",)).get_content()
    files = list(msg.iter_attachments())
    assert [(a.get_filename(), a.get_content()) for a in files] == [
        ("label.pdf", b"%PDF-1.4 label")
    ]
    assert msg["Message-ID"].endswith("@example.org>")
    assert msg["In-Reply-To"] == "<o1@customer.test>"


def test_temporary_failure_retries_with_backoff_then_sends(mailbox, capture, agent):
    ticket = _ticket()
    capture.wait_for(1)
    capture.reject_with = "451 4.3.0 Try again later"
    reply = reply_add(ticket=ticket, author=agent, body_text="First try fails.")
    row = OutboundEmail.objects.get(message=reply)
    reply.refresh_from_db()
    assert row.status == OutboundStatus.QUEUED and row.attempts == 1
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert "451" in reply.delivery_detail and "retrying" in reply.delivery_detail
    assert row.next_attempt_at > clock.now() + timedelta(seconds=20)
    assert services.outbound_due_ids() == []  # not before its time

    capture.reject_with = None
    OutboundEmail.objects.filter(pk=row.pk).update(next_attempt_at=clock.now())
    from helpline.connectors.email.handlers import tick_email

    tick_email()
    row.refresh_from_db()
    reply.refresh_from_db()
    assert row.status == OutboundStatus.SENT and row.attempts == 2
    assert reply.delivery_status == DeliveryStatus.SENT and "250" in reply.delivery_detail


def test_permanent_failure_is_failed_with_the_servers_answer(mailbox, capture, agent):
    ticket = _ticket()
    capture.wait_for(1)
    capture.reject_with = "554 5.7.1 Message rejected as spam"
    reply = reply_add(ticket=ticket, author=agent, body_text="This will bounce.")
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.delivery_detail == "554 5.7.1 Message rejected as spam"


def test_unreachable_relay_gives_up_after_max_attempts(mailbox, agent, capture):
    ticket = _ticket()
    capture.wait_for(1)
    services.mailbox_update(mailbox=mailbox, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    reply = reply_add(ticket=ticket, author=agent, body_text="Nobody listens.")
    row = OutboundEmail.objects.get(message=reply)
    for _ in range(services.MAX_ATTEMPTS):
        OutboundEmail.objects.filter(pk=row.pk).update(next_attempt_at=clock.now())
        services.outbound_deliver(outbound_id=row.pk)
    row.refresh_from_db()
    reply.refresh_from_db()
    assert row.status == OutboundStatus.FAILED and row.attempts == services.MAX_ATTEMPTS
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "ConnectionRefused" in reply.delivery_detail


def test_a_broken_mailbox_relay_is_a_retryable_failure_with_the_reason(mailbox, agent, capture):
    ticket = _ticket()
    capture.wait_for(1)
    # Stored past validation (an older release, a hand edit): the send must say why it failed.
    type(mailbox).objects.filter(pk=mailbox.pk).update(smtp_url="ftp://relay.example.org")
    reply = reply_add(ticket=ticket, author=agent, body_text="Where does this go?")
    row = OutboundEmail.objects.get(message=reply)
    reply.refresh_from_db()
    assert row.status != OutboundStatus.SENT and row.attempts == 1
    assert "smtp:// or smtps://" in reply.delivery_detail
    assert reply.delivery_status != DeliveryStatus.SENT


def test_backoff_doubles():
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_reply_after_a_participant_wrote_goes_to_them_and_copies_the_customer(
    mailbox, capture, agent
):
    ticket = _ticket(headers={"Cc": "bob@customer.test"})
    capture.wait_for(1)
    services.inbound_ingest(
        raw=raw_email(sender="bob@customer.test", subject=f"Re: [#{ticket.pk}]", body="Me too."),
        transport=Transport.SMTP,
    )
    reply_add(ticket=ticket, author=agent, body_text="Noted, both of you.")
    got = capture.wait_for(2)[1]
    assert got.message["To"] == "bob@customer.test"
    assert got.message["Cc"] == "ada@customer.test"
