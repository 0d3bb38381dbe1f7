# mypy: disable-error-code="union-attr,arg-type,return-value"
"""A burst of replies goes out over one SMTP connection per relay, each built as it would be
alone, and a refused or failing one does not take the others with it."""

from __future__ import annotations

import pytest

from helpline.connectors.email import outbound, services, tasks
from helpline.connectors.email.choices import OutboundStatus, Transport
from helpline.connectors.email.models import OutboundEmail
from helpline.connectors.email.tests.conftest import free_port
from helpline.connectors.email.tests.factories import raw_email
from helpline.tickets.choices import DeliveryStatus
from helpline.tickets.models import Message
from helpline.tickets.services import reply_add


@pytest.fixture
def held(monkeypatch):
    """Deliveries are queued but not sent as they are written (the worker sends them later)."""
    monkeypatch.setattr(tasks, "deliver_soon", lambda outbound_id: None)


def _acknowledged(mailbox, n: int) -> list[OutboundEmail]:
    for i in range(n):
        services.inbound_store(
            raw=raw_email(sender=f"C{i} <c{i}@burst.test>", message_id=f"<burst{i}@burst.test>"),
            transport=Transport.SMTP,
            mailbox=mailbox,
        )
    services.inbound_process_batch(limit=50)
    return list(OutboundEmail.objects.order_by("id"))


def test_a_burst_of_acknowledgements_shares_one_connection(mailbox, capture, held):
    rows = _acknowledged(mailbox, 5)
    assert len(rows) == 5 and capture.messages == []

    statuses = services.outbound_deliver_many(outbound_ids=[r.pk for r in rows])

    assert statuses == {r.pk: OutboundStatus.SENT for r in rows}
    got = capture.wait_for(5)
    assert sorted(c.rcpt_tos[0] for c in got) == [f"c{i}@burst.test" for i in range(5)]
    assert {c.connection for c in got} == {1}  # one conversation for the five
    for row in OutboundEmail.objects.all():
        assert row.status == OutboundStatus.SENT and row.sent_at is not None
        assert row.last_response.startswith("250 2.0.0 Captured")
        message = Message.objects.get(pk=row.message_id)
        assert message.delivery_status == DeliveryStatus.SENT
    # leased and sent: a second call finds nothing due
    assert services.outbound_deliver_many(outbound_ids=[r.pk for r in rows]) == {}


def test_a_refused_recipient_fails_alone_and_the_connection_goes_on(mailbox, capture, held):
    rows = _acknowledged(mailbox, 3)
    capture.refuse_rcpt = {"c1@burst.test"}

    statuses = services.outbound_deliver_many(outbound_ids=[r.pk for r in rows])

    assert [statuses[r.pk] for r in rows] == ["sent", "failed", "sent"]
    got = capture.wait_for(2)
    assert sorted(c.rcpt_tos[0] for c in got) == ["c0@burst.test", "c2@burst.test"]
    assert {c.connection for c in got} == {1}
    failed = OutboundEmail.objects.get(pk=rows[1].pk)
    assert failed.last_response.startswith("550")
    assert Message.objects.get(pk=failed.message_id).delivery_status == DeliveryStatus.FAILED


def test_an_unreachable_relay_fails_the_burst_for_a_retry(mailbox, capture, held):
    rows = _acknowledged(mailbox, 3)
    services.mailbox_update(mailbox=mailbox, smtp_url=f"smtp://127.0.0.1:{free_port()}")

    statuses = services.outbound_deliver_many(outbound_ids=[r.pk for r in rows])

    assert set(statuses.values()) == {OutboundStatus.QUEUED}
    for row in OutboundEmail.objects.all():
        assert row.attempts == 1 and "Refused" in row.last_response  # ConnectionRefusedError
        assert row.next_attempt_at > row.created_at  # waits for its backoff


def test_a_reply_built_in_a_burst_is_the_reply_built_alone(mailbox, capture, agent, held):
    """The headers read for a burst together (recipients, Cc, thread) are those one reply
    reads for itself, on a ticket with a Cc'd participant, a Reply-To and a thread."""
    first = services.inbound_ingest(
        raw=raw_email(
            message_id="<t1@customer.test>",
            headers={"Cc": "bob@customer.test", "Reply-To": "ada.home@customer.test"},
        ),
        transport=Transport.SMTP,
    )
    services.inbound_ingest(
        raw=raw_email(
            subject=f"Re: [#{first.ticket_id}]",
            message_id="<t2@customer.test>",
            headers={"In-Reply-To": "<t1@customer.test>"},
        ),
        transport=Transport.SMTP,
    )
    reply_add(ticket=first.ticket, author=agent, body_text="On its way.")
    rows = list(OutboundEmail.objects.select_related("message__ticket", "mailbox").order_by("id"))
    context = outbound.ReplyContext.load([row.message for row in rows])
    for row in rows:
        alone, sender, to = outbound.build_reply(row)
        together, sender2, to2 = outbound.build_reply(row, context)
        assert (sender, to) == (sender2, to2)
        for header in ("To", "Cc", "Subject", "In-Reply-To", "References", "Auto-Submitted"):
            assert alone[header] == together[header], header
        assert (
            alone.get_body(("plain",)).get_content() == together.get_body(("plain",)).get_content()
        )
    agent_reply = outbound.build_reply(rows[-1], context)[0]
    assert agent_reply["To"] == "ada@customer.test"  # who wrote last (no Reply-To then)
    assert agent_reply["Cc"] == "bob@customer.test"
    assert agent_reply["In-Reply-To"] == "<t2@customer.test>"


def test_deliveries_step_aside_while_stored_mail_waits(mailbox, held):
    rows = _acknowledged(mailbox, 1)
    assert not services.deliveries_should_wait()
    services.inbound_store(raw=raw_email(), transport=Transport.SMTP, mailbox=mailbox)
    assert services.deliveries_should_wait()
    # ... but not forever: a delivery due for long enough goes anyway
    from datetime import timedelta

    from helpline.core import clock

    OutboundEmail.objects.filter(pk=rows[0].pk).update(
        next_attempt_at=clock.now() - timedelta(minutes=1)
    )
    assert not services.deliveries_should_wait()
