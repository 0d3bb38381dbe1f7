"""End-of-batch work in the outbox (``outbox.at_batch_end``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from helpline.core import bus, outbox
from helpline.core.models import OutboxEvent


@dataclass(frozen=True)
class Poked:
    n: int


@dataclass(frozen=True)
class Prodded:
    n: int


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr(outbox, "kick", lambda: None)


def test_outside_a_delivery_nothing_is_gathered():
    assert outbox.at_batch_end("k", lambda items: None, [1]) is False
    assert outbox.batch_end_items("k") == frozenset()


@pytest.mark.django_db(transaction=True)
def test_work_is_gathered_from_every_handler_and_done_once_after_all_of_them(quiet):
    log: list[object] = []

    def finish(items: list[int]) -> None:
        log.append(("end", items, outbox.batch_end_items("k")))

    def one(event: Poked) -> None:
        outbox.at_batch_end("k", finish, [event.n, event.n])  # duplicates dropped
        log.append(("one", event.n))

    def bulk(events) -> None:
        log.append(("bulk", [e.n for e in events], sorted(outbox.batch_end_items("k"))))
        outbox.at_batch_end("k", finish, [99, 1])

    bus.subscribe(Poked, one, deferred=True)
    bus.subscribe_batch(Prodded, bulk)
    try:
        for n in (1, 2):
            bus.publish(Poked(n), Prodded(n))
        assert outbox.outbox_drain() == 4
    finally:
        bus.unsubscribe(Poked, one)
        bus.unsubscribe(Prodded, bulk)
    # Work done at the end sees no gathering in progress: whatever it triggers runs at once.
    assert log == [
        ("one", 1),
        ("one", 2),
        ("bulk", [1, 2], [1, 2]),
        ("end", [1, 2, 99], frozenset()),
    ]
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_failing_end_work_retries_only_the_events_that_asked_for_it(quiet, frozen_clock):
    calls: list[list[int]] = []

    def finish(items: list[int]) -> None:
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("the bulk write failed")

    def one(event: Poked) -> None:
        if event.n % 2:
            outbox.at_batch_end("k", finish, [event.n])

    bus.subscribe(Poked, one, deferred=True)
    try:
        for n in range(4):
            bus.publish(Poked(n))
        assert outbox.outbox_drain() == 2  # 0 and 2 asked for nothing
        left = sorted(r.payload["n"] for r in OutboxEvent.objects.all())
        assert left == [1, 3]
        assert all("the bulk write failed" in r.last_error for r in OutboxEvent.objects.all())
        frozen_clock.advance(seconds=outbox.backoff(1).total_seconds())
        delivered = sum(outbox.outbox_drain() for _ in range(2))
    finally:
        bus.unsubscribe(Poked, one)
    assert delivered == 2 and OutboxEvent.objects.count() == 0
    assert calls == [[1, 3], [1], [3]]


@pytest.mark.django_db(transaction=True)
def test_a_record_listener_sees_one_publish_s_events_together_in_the_transaction(quiet):
    from django.db import transaction

    seen: list[tuple[list[int], bool]] = []

    def listener(payloads) -> None:
        seen.append(([p["n"] for p in payloads], transaction.get_connection().in_atomic_block))

    bus.subscribe(Poked, lambda e: None, deferred=True)
    outbox.on_record(bus.topic_of(Poked), listener)
    outbox.on_record(bus.topic_of(Poked), listener)  # once only
    try:
        with transaction.atomic():
            bus.publish(Poked(1), Prodded(5), Poked(2))
            bus.publish(Poked(3))
        assert seen == [([1, 2], True), ([3], True)]
        assert outbox.record_listeners()[bus.topic_of(Poked)] == [
            f"{__name__}.test_a_record_listener_sees_one_publish_s_events_together_in_the_"
            "transaction.<locals>.listener"
        ]
    finally:
        outbox._record_listeners.pop(bus.topic_of(Poked), None)
        bus._deferred.pop(Poked, None)


@pytest.mark.django_db(transaction=True)
def test_a_failing_record_listener_never_undoes_the_write(quiet):
    from django.db import transaction

    def broken(payloads) -> None:
        raise RuntimeError("listener bug")

    bus.subscribe(Poked, lambda e: None, deferred=True)
    outbox.on_record(bus.topic_of(Poked), broken)
    try:
        with transaction.atomic():
            bus.publish(Poked(7))
    finally:
        outbox._record_listeners.pop(bus.topic_of(Poked), None)
        bus._deferred.pop(Poked, None)
    assert [r.payload for r in OutboxEvent.objects.all()] == [{"n": 7}]
