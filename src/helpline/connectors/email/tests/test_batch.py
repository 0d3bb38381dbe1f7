# mypy: disable-error-code="union-attr,arg-type,operator"
"""Store first, process in batches: the SMTP listener answers once the raw message is stored,
a worker puts stored rows on tickets in batches, and nothing is lost or done twice whatever
fails in between."""

from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection

from helpline.connectors.email import services, tasks
from helpline.connectors.email.choices import InboundStatus, Transport
from helpline.connectors.email.models import AddressState, InboundEmail, OutboundEmail
from helpline.connectors.email.tests.factories import raw_email
from helpline.core import clock
from helpline.tickets.choices import Direction
from helpline.tickets.models import Message, Ticket


def store(raw: bytes, mailbox) -> InboundEmail:
    row, created = services.inbound_store(raw=raw, transport=Transport.SMTP, mailbox=mailbox)
    assert created
    return row


def senders(n: int) -> list[bytes]:
    return [
        raw_email(sender=f"Person {i} <p{i}@customer.test>", message_id=f"<b{i}@customer.test>")
        for i in range(n)
    ]


def test_the_listener_answers_once_stored_and_a_worker_makes_the_ticket(
    listener, capture, monkeypatch
):
    woken: list[bool] = []
    # The worker is not running yet: record the wake-up instead of processing.
    monkeypatch.setattr(tasks, "inbound_kick", lambda: woken.append(True))
    raw = raw_email(message_id="<early@customer.test>")
    with smtplib.SMTP(listener.hostname, listener.port, timeout=10) as client:
        client.ehlo()
        client.mail("ada@customer.test")
        client.rcpt("support@example.org")
        code, answer = client.data(raw)

    row = InboundEmail.objects.get()
    assert code == 250 and f"Stored as {row.pk} (received)".encode() in answer
    assert row.status == InboundStatus.RECEIVED
    # SMTP carries CRLF line ends and a final line end.
    assert bytes(row.raw).replace(b"\r\n", b"\n").rstrip() == raw.rstrip()
    assert row.mailbox_id is not None
    assert woken == [True]
    assert not Ticket.objects.exists()

    assert services.inbound_process_batch() == 1

    row.refresh_from_db()
    assert row.status == InboundStatus.PROCESSED
    ticket = Ticket.objects.get()
    assert row.ticket_id == ticket.pk
    assert row.message.external_id == "mid:<early@customer.test>"
    ack = ticket.messages.get(direction=Direction.OUTBOUND)
    assert ack.is_automatic
    assert OutboundEmail.objects.filter(message=ack).exists()  # committed with the ticket
    assert capture.wait_for(1)[0].rcpt_tos == ["ada@customer.test"]


def test_a_batch_takes_every_stored_row_oldest_first(mailbox):
    rows = [store(raw, mailbox) for raw in senders(5)]

    assert services.inbound_process_batch(limit=3) == 3
    statuses = dict(InboundEmail.objects.values_list("pk", "status"))
    assert [statuses[r.pk] for r in rows] == ["processed"] * 3 + ["received"] * 2

    assert services.inbound_drain() == 2
    assert Ticket.objects.count() == 5
    assert services.inbound_drain() == 0


def test_a_failing_message_is_quarantined_without_undoing_the_rest(mailbox, monkeypatch):
    rows = [store(raw, mailbox) for raw in senders(3)]
    real = services._check

    def fail_the_second(inbound, parsed, *, allow_spam, lookups):
        if inbound.pk == rows[1].pk:
            raise RuntimeError("disk full while storing an attachment")
        return real(inbound, parsed, allow_spam=allow_spam, lookups=lookups)

    monkeypatch.setattr(services, "_check", fail_the_second)
    assert services.inbound_process_batch() == 3

    by_pk = {r.pk: r for r in InboundEmail.objects.all()}
    assert by_pk[rows[0].pk].status == InboundStatus.PROCESSED
    assert by_pk[rows[2].pk].status == InboundStatus.PROCESSED
    failed = by_pk[rows[1].pk]
    assert failed.status == InboundStatus.QUARANTINED
    assert failed.error.startswith("RuntimeError: disk full")
    assert failed.ticket_id is None
    # Its half-made ticket was rolled back with its savepoint; the others' stayed.
    assert Ticket.objects.count() == 2
    assert not Message.objects.filter(external_id="mid:<b1@customer.test>").exists()


def lease_runs_out() -> None:
    InboundEmail.objects.update(taken_until=clock.now() - timedelta(seconds=1))


class WorkerDied(BaseException):
    """Not an Exception: nothing in the batch catches it, as with a killed process."""


def test_a_worker_dying_mid_batch_loses_nothing_and_does_nothing_twice(mailbox, monkeypatch):
    rows = [store(raw, mailbox) for raw in senders(3)]
    real = services._check
    calls: list[int] = []

    def die_on_the_third(inbound, parsed, *, allow_spam, lookups):
        calls.append(inbound.pk)
        if len(calls) == 3:
            raise WorkerDied
        return real(inbound, parsed, allow_spam=allow_spam, lookups=lookups)

    monkeypatch.setattr(services, "_check", die_on_the_third)
    with pytest.raises(WorkerDied):
        services.inbound_process_batch()
    # Its rows stay taken until the dead worker's lease runs out: no other batch takes them.
    assert services.inbound_process_batch() == 0
    lease_runs_out()

    # Nothing of the batch committed: the two finished tickets went with it.
    assert set(InboundEmail.objects.values_list("status", flat=True)) == {"received"}
    assert not Ticket.objects.exists()

    monkeypatch.setattr(services, "_check", real)
    # After a crash the batch is taken apart: one message per transaction, oldest first.
    assert services.inbound_process_batch() == 1
    assert services.inbound_drain() == 2
    assert Ticket.objects.count() == 3
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 3
    assert all(r.status == InboundStatus.PROCESSED for r in InboundEmail.objects.all())
    assert {r.pk for r in rows} == set(InboundEmail.objects.values_list("pk", flat=True))


def test_a_message_that_keeps_killing_the_worker_is_set_aside_and_the_rest_go_through(
    mailbox, monkeypatch
):
    rows = [store(raw, mailbox) for raw in senders(4)]
    poison = rows[1].pk
    real = services._check

    def die_on_poison(inbound, parsed, *, allow_spam, lookups):
        if inbound.pk == poison:
            raise WorkerDied  # e.g. the process runs out of memory on this message
        return real(inbound, parsed, allow_spam=allow_spam, lookups=lookups)

    monkeypatch.setattr(services, "_check", die_on_poison)
    crashes = 0
    for _ in range(20):  # a worker restarted after every crash, as a supervisor would
        try:
            if services.inbound_drain() == 0:
                break
        except WorkerDied:
            crashes += 1
            lease_runs_out()  # the worker is restarted a minute later, as a supervisor would
    assert crashes == services.MAX_TRIES
    statuses = dict(InboundEmail.objects.values_list("pk", "status"))
    assert statuses.pop(poison) == InboundStatus.QUARANTINED
    assert set(statuses.values()) == {InboundStatus.PROCESSED}
    assert "stopped the worker" in InboundEmail.objects.get(pk=poison).error
    assert Ticket.objects.count() == 3
    # Fixed: reprocessing it starts its tries afresh and puts it on a ticket.
    monkeypatch.setattr(services, "_check", real)
    again = services.inbound_reprocess(inbound=InboundEmail.objects.get(pk=poison))
    assert again.status == InboundStatus.PROCESSED and Ticket.objects.count() == 4


def test_the_tick_takes_only_rows_a_wake_up_should_have_taken(mailbox):
    row = store(raw_email(), mailbox)
    assert services.inbound_resume_pending() == 0  # just stored: the wake-up is on its way
    InboundEmail.objects.filter(pk=row.pk).update(received_at=clock.now() - timedelta(minutes=1))
    assert services.inbound_resume_pending() == 1
    row.refresh_from_db()
    assert row.status == InboundStatus.PROCESSED


def test_storing_the_same_message_again_is_one_row_and_one_ticket(mailbox):
    raw = raw_email(message_id="<again@customer.test>")
    first = store(raw, mailbox)
    again, created = services.inbound_store(raw=raw, transport=Transport.IMAP, mailbox=mailbox)
    assert not created and again.pk == first.pk
    services.inbound_drain()
    again, created = services.inbound_store(raw=raw, transport=Transport.SMTP, mailbox=mailbox)
    assert not created and again.status == InboundStatus.PROCESSED
    assert services.inbound_drain() == 0
    assert Ticket.objects.count() == 1


def test_concurrent_workers_put_each_message_on_exactly_one_ticket(mailbox):
    if connection.vendor != "postgresql":
        # The test database of SQLite is in memory with a shared cache, whose table locks do
        # not wait; SQLite files (production) serialise writers and the claim decides.
        pytest.skip("concurrent writers need PostgreSQL in the test setup")
    rows = [store(raw, mailbox) for raw in senders(24)]
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def worker() -> None:
        try:
            start.wait()
            while services.inbound_process_batch(limit=4):
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    assert set(InboundEmail.objects.values_list("status", flat=True)) == {"processed"}
    assert Ticket.objects.count() == len(rows)
    assert Message.objects.filter(direction=Direction.INBOUND).count() == len(rows)
    assert InboundEmail.objects.filter(attempts=1).count() == len(rows)  # each claimed once


def test_acknowledgements_are_counted_per_sender_per_hour(db):
    address = "counted@customer.test"
    assert [services.ack_allowed(address=address, per_hour=2) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    state = AddressState.objects.get(email=address)
    assert state.ack_count == 2
    # An hour later the window starts again.
    AddressState.objects.filter(pk=state.pk).update(
        ack_window_start=clock.now() - timedelta(hours=1, seconds=1)
    )
    assert services.ack_allowed(address=address, per_hour=2)
    assert AddressState.objects.get(pk=state.pk).ack_count == 1
    # A bouncing address gets none, and stays bouncing.
    AddressState.objects.filter(pk=state.pk).update(bouncing=True, ack_count=0)
    assert not services.ack_allowed(address=address, per_hour=2)
    assert AddressState.objects.get(pk=state.pk).bouncing
    assert not services.ack_allowed(address="other@customer.test", per_hour=0)
    assert not AddressState.objects.filter(email="other@customer.test").exists()


def test_rows_a_batch_has_taken_are_left_alone_by_another_workers_batch(mailbox):
    """Between counting its tries and locking its rows a batch holds no lock: another worker
    (process) choosing then must not take the same rows and count tries that never ran."""
    rows = [store(raw, mailbox) for raw in senders(3)]
    taken = services._batch_start(limit=10, older_than=None)  # a worker about to process them
    assert sorted(taken) == [r.pk for r in rows]
    assert services.inbound_process_batch() == 0  # another worker: nothing to take
    assert set(InboundEmail.objects.values_list("tries", "status")) == {(1, "received")}
    lease_runs_out()  # the first one died: its rows are taken again
    assert services.inbound_process_batch() == 1  # tried before: one at a time
    assert InboundEmail.objects.filter(status="processed", tries=2).count() == 1
