from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction

from helpline.core import bus


@dataclass(frozen=True)
class Happened:
    value: int


@pytest.fixture
def received():
    got: list[int] = []

    def handler(event: Happened) -> None:
        got.append(event.value)

    bus.subscribe(Happened, handler)
    yield got
    bus._subscribers.pop(Happened, None)


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

    bus._subscribers[Happened].insert(0, broken)
    bus.publish(Happened(3))
    assert received == [3]


def test_subscribing_twice_registers_once(received):
    def handler(event: Happened) -> None:
        return None

    bus.subscribe(Happened, handler)
    bus.subscribe(Happened, handler)
    names = bus.subscribers()[f"{__name__}.Happened"]
    assert len(names) == 2
