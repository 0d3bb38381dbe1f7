"""The worker's order: stored mail before the outbox reactions and the deliveries, but not for
ever (a drain while reactions have waited too long queues at the normal priority)."""

from __future__ import annotations

from datetime import timedelta

from helpline.connectors.email import services, tasks
from helpline.connectors.email.choices import InboundStatus, Transport
from helpline.connectors.email.models import InboundEmail
from helpline.connectors.email.tests.factories import raw_email
from helpline.core import clock
from helpline.core import tasks as core_tasks
from helpline.core.models import OutboxEvent


def test_a_woken_drain_is_queued_ahead_of_reactions_and_deliveries():
    assert tasks.email_drain.s().priority == tasks.DRAIN_PRIORITY > 0
    # the rest at the normal priority: the reactions, the deliveries, a drain's continuation
    for other in (core_tasks.outbox_drain_task, tasks.email_deliver_due, tasks.email_drain_later):
        assert not other.s().priority


def test_a_drain_queues_behind_reactions_that_waited_too_long(mailbox, monkeypatch):
    later: list[bool] = []
    monkeypatch.setattr(tasks, "email_drain_later", lambda: later.append(True))
    monkeypatch.setattr(tasks, "_later_queued", [0.0])
    row, _ = services.inbound_store(raw=raw_email(), transport=Transport.SMTP, mailbox=mailbox)
    old = clock.now() - tasks.OUTBOX_PATIENCE - timedelta(seconds=1)
    event = OutboxEvent.objects.create(topic="t", payload={}, created_at=old, available_at=old)

    tasks.email_drain.call_local()
    assert later == [True]  # queued behind them
    assert InboundEmail.objects.get(pk=row.pk).status == InboundStatus.RECEIVED
    tasks.email_drain.call_local()
    assert later == [True]  # one queued per process at a time

    OutboxEvent.objects.filter(pk=event.pk).delete()
    tasks.email_drain.call_local()
    assert InboundEmail.objects.get(pk=row.pk).status == InboundStatus.PROCESSED


def test_a_drain_past_its_budget_hands_over_to_a_fresh_task(mailbox, monkeypatch):
    fresh: list[bool] = []
    monkeypatch.setattr(tasks, "email_drain", _Recorder(tasks.email_drain, fresh))
    monkeypatch.setattr(tasks, "DRAIN_BUDGET", 0.0)  # one batch, then hand over
    for n in range(3):
        services.inbound_store(
            raw=raw_email(message_id=f"<budget{n}@customer.test>"),
            transport=Transport.SMTP,
            mailbox=mailbox,
        )
    monkeypatch.setattr(services, "batch_size", lambda: 2)
    tasks.email_drain.call_local()
    assert InboundEmail.objects.filter(status=InboundStatus.PROCESSED).count() == 2
    assert fresh == [True]  # the rest: a new drain (ahead of other work unless it waited)


class _Recorder:
    def __init__(self, task, calls: list[bool]) -> None:
        self.call_local = task.call_local
        self.calls = calls

    def __call__(self) -> None:
        self.calls.append(True)


def test_the_listener_decides_recipients_from_a_fresh_cache_without_the_database(mailbox):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from helpline.connectors.email import selectors

    selectors.mailbox_cache_clear()
    assert selectors.mailbox_id_if_cached("support@example.org") == (False, None)
    assert selectors.mailbox_id_for_address("support@example.org") == mailbox.pk  # reads
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.mailbox_id_if_cached("Support+t12@Example.org") == (True, mailbox.pk)
        assert selectors.mailbox_id_if_cached("nobody@example.org") == (True, None)
    assert ctx.captured_queries == []
    services.mailbox_update(mailbox=mailbox, is_active=False)  # this process's change: at once
    assert selectors.mailbox_id_if_cached("support@example.org") == (False, None)


def _stored(mailbox, n: int, tag: str) -> list[InboundEmail]:
    return [
        services.inbound_store(
            raw=raw_email(message_id=f"<{tag}{i}@customer.test>"),
            transport=Transport.SMTP,
            mailbox=mailbox,
        )[0]
        for i in range(n)
    ]


def test_one_drain_at_a_time_per_process_and_no_try_counted_for_nothing(mailbox):
    rows = _stored(mailbox, 3, "one")
    with services._drain_lock:  # another thread of this process is draining
        assert services.inbound_drain() == 0
        assert services.inbound_resume_pending(older_than=timedelta(0)) == 0
    assert set(InboundEmail.objects.values_list("status", "tries")) == {("received", 0)}
    assert services.inbound_drain() == 3
    assert [InboundEmail.objects.get(pk=r.pk).tries for r in rows] == [1, 1, 1]


def test_a_wake_up_that_came_while_another_thread_drained_is_not_lost(mailbox, monkeypatch):
    """The drain that holds the lock looks for stored mail again after letting go, so a
    message stored (and its wake-up turned away) just after its last look is taken."""
    _stored(mailbox, 2, "first")
    real = services.inbound_process_batch
    late: list[InboundEmail] = []

    def batch(**kwargs):
        taken = real(**kwargs)
        if taken == 0 and not late:
            late.extend(_stored(mailbox, 1, "late"))
            assert services.inbound_drain() == 0  # its wake-up: turned away, lock held
        return taken

    monkeypatch.setattr(services, "inbound_process_batch", batch)
    assert services.inbound_drain() == 3
    assert InboundEmail.objects.get(pk=late[0].pk).status == InboundStatus.PROCESSED
