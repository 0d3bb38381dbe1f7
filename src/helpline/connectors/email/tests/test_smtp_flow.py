# mypy: disable-error-code="union-attr,arg-type,operator"
"""End to end over real SMTP: a customer writes to the listener, gets an acknowledgement from the
capture relay, an agent replies, the customer answers from their client, all on one ticket."""

from __future__ import annotations

import smtplib

import pytest

from helpline.connectors.email.choices import InboundStatus
from helpline.connectors.email.models import InboundEmail
from helpline.connectors.email.tests.factories import raw_email
from helpline.tickets.choices import DeliveryStatus, Direction
from helpline.tickets.models import Message, Ticket
from helpline.tickets.services import note_add, reply_add


def send(
    listener, raw: bytes, *, to: str = "support@example.org", sender: str = "ada@customer.test"
) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP(listener.hostname, listener.port, timeout=10) as client:
        return client.sendmail(sender, [to], raw)


def test_customer_mail_opens_a_ticket_and_is_acknowledged_by_name(listener, capture):
    send(listener, raw_email(message_id="<first@customer.test>"))

    ticket = Ticket.objects.get()
    assert ticket.subject == "My kettle does not boil"
    assert ticket.customer.name == "Ada Lovelace"
    inbound = ticket.messages.get(direction=Direction.INBOUND)
    assert inbound.body_text.startswith("Hello,")
    ack = capture.wait_for(1)[0]
    assert ack.rcpt_tos == ["ada@customer.test"]
    msg = ack.message
    assert f"[#{ticket.pk}]" in msg["Subject"]
    assert msg["In-Reply-To"] == "<first@customer.test>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Reply-To"] == f"support+t{ticket.pk}@example.org"
    text = msg.get_body(("plain",)).get_content()
    assert "Hello Ada Lovelace" in text
    assert f"#{ticket.pk}" in text
    assert "You will hear from us" in text
    assert msg.get_body(("html",)) is not None
    outbound = ticket.messages.get(direction=Direction.OUTBOUND)
    assert outbound.is_automatic
    assert outbound.delivery_status == DeliveryStatus.SENT
    assert "250" in outbound.delivery_detail


def test_unknown_recipient_is_refused_at_rcpt(listener):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(listener, raw_email(to="nobody@example.org"), to="nobody@example.org")
    assert not InboundEmail.objects.exists()


def test_agent_reply_threads_and_customer_answer_lands_on_same_ticket(listener, capture, agent):
    send(listener, raw_email(message_id="<q1@customer.test>"))
    ticket = Ticket.objects.get()
    capture.wait_for(1)

    reply_add(ticket=ticket, author=agent, body_text="Please try descaling it.")
    sent = capture.wait_for(2)[1].message
    assert sent["In-Reply-To"] == "<q1@customer.test>"
    assert "<q1@customer.test>" in sent["References"]
    assert sent["Subject"] == f"Re: My kettle does not boil [#{ticket.pk}]"
    assert sent["Auto-Submitted"] is None

    answer = raw_email(
        subject=f"Re: My kettle does not boil [#{ticket.pk}]",
        message_id="<a1@customer.test>",
        headers={
            "In-Reply-To": sent["Message-ID"],
            "References": f"<q1@customer.test> {sent['Message-ID']}",
        },
        body=(
            "That worked, thanks!\n\nOn Mon, 23 Nov 2026 at 10:00, Example Support "
            "<support@example.org> wrote:\n> Please try descaling it.\n"
        ),
    )
    send(listener, answer, to=f"support+t{ticket.pk}@example.org")
    assert Ticket.objects.count() == 1
    last = ticket.messages.filter(direction=Direction.INBOUND).order_by("-id").first()
    assert last.body_text == "That worked, thanks!"
    assert "Please try descaling it." in last.metadata["email"]["quoted"]
    assert len(capture.wait_for(3, timeout=0.5)) == 2  # no acknowledgement on a follow-up


def test_internal_note_never_leaves(listener, capture, agent):
    send(listener, raw_email())
    ticket = Ticket.objects.get()
    capture.wait_for(1)
    note_add(ticket=ticket, author=agent, body_text="Customer sounds upset; be gentle.")
    assert len(capture.wait_for(2, timeout=1.0)) == 1
    assert not Message.objects.filter(
        direction=Direction.NOTE, delivery_status=DeliveryStatus.SENT
    ).exists()


def test_same_message_twice_makes_one_message(listener):
    raw = raw_email(message_id="<dup@customer.test>")
    send(listener, raw)
    send(listener, raw)
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 1
    assert InboundEmail.objects.get().status == InboundStatus.PROCESSED


@pytest.fixture
def listener_env(monkeypatch):
    from helpline.connectors.email.conf import email_config

    def start(**env: str):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        email_config.cache_clear()
        from helpline.connectors.email.smtp_server import start_listener
        from helpline.connectors.email.tests.conftest import free_port

        return start_listener(host="127.0.0.1", port=free_port())

    yield start
    email_config.cache_clear()


def test_message_over_the_size_limit_is_refused(mailbox, listener_env):
    running = listener_env(HELPLINE_EMAIL_MAX_BYTES="2048")
    try:
        with pytest.raises(smtplib.SMTPException) as refused:
            send(running, raw_email(body="x" * 5000))
        assert "552" in str(refused.value) or "size" in str(refused.value).lower()
        assert not InboundEmail.objects.exists()
    finally:
        running.stop()


def test_listener_with_auth_requires_login(mailbox, listener_env):
    running = listener_env(HELPLINE_SMTP_LISTENER_AUTH="relay:s3cret")
    try:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            send(running, raw_email())
        assert refused.value.smtp_code == 530
        with smtplib.SMTP(running.hostname, running.port, timeout=10) as client:
            client.login("relay", "s3cret")
            client.sendmail("ada@customer.test", ["support@example.org"], raw_email())
        assert Ticket.objects.count() == 1
    finally:
        running.stop()


def _handler_data(peer: str, raw: bytes) -> str:
    """The listener's DATA step as aiosmtpd calls it, for a client at ``peer``."""
    import asyncio
    from types import SimpleNamespace

    from helpline.connectors.email.smtp_server import HelplineHandler

    session = SimpleNamespace(peer=(peer, 40000))
    envelope = SimpleNamespace(
        original_content=raw, content=raw, mail_from="ada@customer.test",
        rcpt_tos=["support@example.org"],
    )
    return asyncio.run(HelplineHandler().handle_DATA(None, session, envelope))


def test_a_busy_peer_is_told_to_come_back_later_and_nothing_is_lost(
    mailbox, monkeypatch, transactional_db
):
    from helpline.connectors.email.conf import email_config

    monkeypatch.setenv("HELPLINE_SMTP_LISTENER_RATE_PER_MINUTE", "2")
    email_config.cache_clear()
    try:
        answers = [
            _handler_data("203.0.113.5", raw_email(subject=f"n{n}", message_id=f"<n{n}@x>"))
            for n in range(3)
        ]
        assert [a[:3] for a in answers] == ["250", "250", "451"]
        assert answers[2].startswith("451 4.7.1 Too many messages from your address")
        assert InboundEmail.objects.count() == 2  # the third stays with its sender, who retries
        # Another address, and a relay on this host (loopback), are not held back.
        assert _handler_data("198.51.100.9", raw_email(subject="other"))[:3] == "250"
        for n in range(4):
            assert _handler_data("127.0.0.1", raw_email(subject=f"local {n}"))[:3] == "250"
    finally:
        email_config.cache_clear()


def test_the_listener_gives_pooled_connections_back(mailbox, transactional_db):
    """The listener stores on executor threads that may end (a loop per test here, a loop's
    threads in production): each message's PostgreSQL connection goes back to the pool."""
    from django.db import connection

    pool = getattr(connection, "pool", None)  # PostgreSQL's backend has one
    if connection.vendor != "postgresql" or pool is None:
        pytest.skip("the connection pool is PostgreSQL's")

    def checked_out() -> int:
        stats = pool.get_stats()
        return int(stats.get("pool_size", 0)) - int(stats.get("pool_available", 0))

    before = checked_out()
    for n in range(6):
        answer = _handler_data("127.0.0.1", raw_email(subject=f"p{n}", message_id=f"<p{n}@x>"))
        assert answer.startswith("250")
    assert checked_out() == before
    assert InboundEmail.objects.count() == 6
