from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction

from helpline.core import bus, outbox
from helpline.core.models import OutboxEvent


@dataclass(frozen=True)
class Happened:
    value: int


@dataclass(frozen=True)
class Moved:
    ticket_id: int
    changes: tuple[str, ...]
    note: str | None = None


@pytest.fixture
def received():
    got: list[int] = []

    def handler(event: Happened) -> None:
        got.append(event.value)

    bus.subscribe(Happened, handler)
    yield got
    bus.unsubscribe(Happened, handler)


@pytest.fixture
def deferred_received():
    got: list[object] = []
    bus.subscribe(Moved, got.append, deferred=True)
    yield got
    bus.unsubscribe(Moved, got.append)


@pytest.mark.django_db(transaction=True)
def test_event_is_delivered_after_commit_only(received):
    with transaction.atomic():
        bus.publish(Happened(1))
        assert received == []
    assert received == [1]


@pytest.mark.django_db(transaction=True)
def test_event_of_rolled_back_transaction_is_never_delivered(received):
    with pytest.raises(RuntimeError), transaction.atomic():
        bus.publish(Happened(2))
        raise RuntimeError("rollback")
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_failing_handler_does_not_stop_the_others(received):
    def broken(event: Happened) -> None:
        raise ValueError("boom")

    bus._inline[Happened].insert(0, broken)
    try:
        bus.publish(Happened(3))
    finally:
        bus.unsubscribe(Happened, broken)
    assert received == [3]


def test_subscribing_twice_registers_once(received):
    def handler(event: Happened) -> None:
        return None

    bus.subscribe(Happened, handler)
    bus.subscribe(Happened, handler)
    names = bus.subscribers()[f"{__name__}.Happened"]
    assert len(names) == 2
    bus.unsubscribe(Happened, handler)


# --- deferred subscribers: the outbox --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_deferred_event_is_written_in_the_transaction_and_delivered_after_commit(
    deferred_received,
):
    with transaction.atomic():
        bus.publish(Moved(ticket_id=7, changes=("status", "team")))
        # The row is part of the writer's transaction: it exists before the commit...
        assert OutboxEvent.objects.filter(topic=bus.topic_of(Moved)).count() == 1
        assert deferred_received == []
    # ...and (tasks run immediately under test) is delivered and removed right after it.
    assert deferred_received == [Moved(ticket_id=7, changes=("status", "team"))]
    assert isinstance(deferred_received[0].changes, tuple)
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_deferred_event_of_rolled_back_transaction_leaves_no_row(deferred_received):
    with pytest.raises(RuntimeError), transaction.atomic():
        bus.publish(Moved(ticket_id=8, changes=()))
        raise RuntimeError("rollback")
    assert OutboxEvent.objects.count() == 0
    assert deferred_received == []


@pytest.mark.django_db(transaction=True)
def test_a_crash_after_commit_loses_nothing_the_next_drain_delivers(
    deferred_received, monkeypatch
):
    """Simulate a process that died between its commit and waking the worker: the row is
    there, a later drain (the worker or the tick) delivers it exactly as published."""
    monkeypatch.setattr(outbox, "kick", lambda: None)
    with transaction.atomic():
        bus.publish(Moved(ticket_id=9, changes=("priority",), note="x"))
    assert deferred_received == []
    assert OutboxEvent.objects.count() == 1
    assert outbox.outbox_drain() == 1
    assert deferred_received == [Moved(ticket_id=9, changes=("priority",), note="x")]
    assert outbox.outbox_drain() == 0  # delivered once, row gone


@pytest.mark.django_db(transaction=True)
def test_failing_deferred_handler_is_retried_with_backoff_then_kept_as_failed(frozen_clock):
    calls: list[int] = []

    def flaky(event: Moved) -> None:
        calls.append(event.ticket_id)
        raise ValueError("database of record is down")

    bus.subscribe(Moved, flaky, deferred=True)
    try:
        bus.publish(Moved(ticket_id=10, changes=()))
        row = OutboxEvent.objects.get()
        assert calls == [10]
        assert row.attempts == 1 and row.failed_at is None
        assert "database of record is down" in row.last_error
        assert row.available_at == frozen_clock.current + outbox.backoff(1)
        assert outbox.outbox_drain() == 0  # not due yet: nothing retried early
        for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
            frozen_clock.advance(seconds=outbox.backoff(attempt - 1).total_seconds())
            outbox.outbox_drain()
            assert len(calls) == attempt
        row.refresh_from_db()
        assert row.failed_at is not None  # kept for an operator, never retried again
        frozen_clock.advance(days=1)
        outbox.outbox_drain()
        assert len(calls) == outbox.MAX_ATTEMPTS
    finally:
        bus.unsubscribe(Moved, flaky)


@pytest.mark.django_db(transaction=True)
def test_a_dead_workers_lease_runs_out_and_another_worker_takes_the_event(
    deferred_received, frozen_clock, monkeypatch
):
    monkeypatch.setattr(outbox, "kick", lambda: None)
    bus.publish(Moved(ticket_id=11, changes=()))
    claimed, _ = outbox._claim(10)  # a worker claims the row, then dies before delivering it
    assert [r.topic for r in claimed] == [bus.topic_of(Moved)]
    assert outbox.outbox_drain() == 0  # leased: nobody else takes it meanwhile
    frozen_clock.advance(seconds=outbox.LEASE.total_seconds() + 1)
    assert outbox.outbox_drain() == 1
    assert deferred_received == [Moved(ticket_id=11, changes=())]


def test_only_dataclasses_can_be_deferred():
    class Plain:
        pass

    with pytest.raises(TypeError):
        bus.subscribe(Plain, lambda event: None, deferred=True)


def test_wiring_names_deferred_subscribers(deferred_received):
    assert bus.subscribers()[bus.topic_of(Moved)] == ["None.list.append (deferred)"]


def test_wake_ups_of_a_burst_are_coalesced_and_sent_after_the_commits(monkeypatch):
    import threading

    from huey.contrib.djhuey import HUEY

    from helpline.core import tasks

    sent = threading.Semaphore(0)
    count: list[int] = []

    def fake_task() -> None:
        count.append(1)
        sent.release()

    monkeypatch.setattr(HUEY, "immediate", False)
    monkeypatch.setattr(tasks, "outbox_drain_task", fake_task)
    for _ in range(50):  # fifty commits within the kick delay
        outbox.kick()
    assert sent.acquire(timeout=5)
    assert not sent.acquire(timeout=outbox.KICK_DELAY * 5)
    assert count == [1]
    outbox.kick()  # a commit after the wake-up went out gets a wake-up of its own
    assert sent.acquire(timeout=5)
    assert count == [1, 1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_at_once_deliver_every_event_exactly_once(monkeypatch):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        # The in-memory test database of SQLite locks whole tables across threads; an install's
        # file database serialises the two claims on its busy timeout instead.
        pytest.skip("needs a server database for real concurrency")

    seen: list[int] = []
    lock = threading.Lock()

    def handler(event: Moved) -> None:
        with lock:
            seen.append(event.ticket_id)

    monkeypatch.setattr(outbox, "kick", lambda: None)  # nobody drains at commit time
    bus.subscribe(Moved, handler, deferred=True)
    try:
        for n in range(120):
            bus.publish(Moved(ticket_id=n, changes=()))
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                outbox.outbox_drain(batch=7)  # small batches: the two workers interleave
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        bus.unsubscribe(Moved, handler)
    assert errors == []
    assert sorted(seen) == list(range(120))  # each once, none lost
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_operator_command_lists_failed_events_and_retries_them(monkeypatch, frozen_clock):
    from io import StringIO

    from django.core.management import call_command

    calls: list[int] = []

    def broken(event: Moved) -> None:
        calls.append(1)
        raise ValueError("template missing")

    bus.subscribe(Moved, broken, deferred=True)
    try:
        bus.publish(Moved(ticket_id=1, changes=()))
        OutboxEvent.objects.update(attempts=outbox.MAX_ATTEMPTS - 1)
        frozen_clock.advance(hours=2)
        outbox.outbox_drain()
        out = StringIO()
        call_command("outbox", stdout=out)
        assert "failed: 1" in out.getvalue() and "template missing" in out.getvalue()
        bus.unsubscribe(Moved, broken)
        got: list[object] = []
        bus.subscribe(Moved, got.append, deferred=True)  # the fix is deployed
        out = StringIO()
        call_command("outbox", "--retry-failed", "--drain", stdout=out)
        assert got == [Moved(ticket_id=1, changes=())]
        assert "failed: 0" in out.getvalue() and "waiting: 0" in out.getvalue()
    finally:
        bus.unsubscribe(Moved, broken)
        bus.unsubscribe(Moved, got.append)


class WorkerDied(BaseException):
    """What no exception handler sees: the process is gone (killed, out of memory)."""


@pytest.mark.django_db(transaction=True)
def test_an_event_that_keeps_killing_the_worker_is_set_aside_and_the_rest_are_delivered(
    frozen_clock, monkeypatch
):
    monkeypatch.setattr(outbox, "kick", lambda: None)
    got: list[int] = []

    def handler(event: Moved) -> None:
        if event.ticket_id == 2:
            raise WorkerDied
        got.append(event.ticket_id)

    bus.subscribe(Moved, handler, deferred=True)
    try:
        for n in range(5):
            bus.publish(Moved(ticket_id=n, changes=()))
        crashes = 0
        for _ in range(40):  # a supervisor restarts the worker; leases run out meanwhile
            try:
                outbox.outbox_drain()
            except WorkerDied:
                crashes += 1
            frozen_clock.advance(seconds=outbox.LEASE.total_seconds() + 1)
            if not outbox.outbox_due():
                break
    finally:
        bus.unsubscribe(Moved, handler)
    assert sorted(set(got)) == [0, 1, 3, 4]
    poison = OutboxEvent.objects.get()
    assert poison.failed_at is not None and "worker stopped" in poison.last_error
    assert crashes == outbox.MAX_ATTEMPTS


@pytest.mark.django_db(transaction=True)
def test_a_batch_subscriber_gets_a_batch_s_events_together_and_in_order(monkeypatch):
    monkeypatch.setattr(outbox, "kick", lambda: None)
    batches: list[list[int]] = []

    def bulk(events) -> None:
        batches.append([e.ticket_id for e in events])

    bus.subscribe_batch(Moved, bulk)
    try:
        assert bus.subscribers()[bus.topic_of(Moved)] == [
            f"{__name__}.test_a_batch_subscriber_gets_a_batch_s_events_together_and_in_order"
            ".<locals>.bulk (deferred, batch)"
        ]
        for n in range(5):
            bus.publish(Moved(ticket_id=n, changes=()))
        assert outbox.outbox_drain(batch=3) == 5
    finally:
        bus.unsubscribe(Moved, bulk)
    assert batches == [[0, 1, 2], [3, 4]]


@pytest.mark.django_db(transaction=True)
def test_a_failing_batch_subscriber_retries_every_event_it_was_given(monkeypatch, frozen_clock):
    monkeypatch.setattr(outbox, "kick", lambda: None)
    calls: list[int] = []

    def bulk(events) -> None:
        calls.append(len(events))
        if len(calls) == 1:
            raise RuntimeError("the bulk write failed")

    bus.subscribe_batch(Moved, bulk)
    try:
        for n in range(3):
            bus.publish(Moved(ticket_id=n, changes=()))
        assert outbox.outbox_drain() == 0
        assert all("the bulk write failed" in r.last_error for r in OutboxEvent.objects.all())
        frozen_clock.advance(seconds=outbox.backoff(1).total_seconds())
        delivered = 0
        for _ in range(3):  # retried events go one at a time
            delivered += outbox.outbox_drain()
    finally:
        bus.unsubscribe(Moved, bulk)
    assert delivered == 3 and OutboxEvent.objects.count() == 0
    assert calls == [3, 1, 1, 1]
