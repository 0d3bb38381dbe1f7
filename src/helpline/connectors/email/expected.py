"""When the customer will hear back, in words, for the acknowledgement.

Uses the SLA app's live estimate (``helpline.sla.expected``: the SLA due time, the work ahead
and the queue's measured reply rate) when it is available; otherwise the mailbox's reply target
from now, phrased the same way ("today by 15:00", "Monday morning").
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from helpline.core import clock
from helpline.tickets.models import Ticket

logger = logging.getLogger(__name__)

ACK_ESTIMATE_REUSE = 15.0  # seconds the SLA's policies and measured reply rate are reused


def _sla_module() -> Any:
    try:
        return importlib.import_module("helpline.sla.expected")
    except ImportError:
        return None


def phrase_for(due: datetime, *, now: datetime) -> str:
    local_due = timezone.localtime(due)
    local_now = timezone.localtime(now)
    days = (local_due.date() - local_now.date()).days
    clock_text = local_due.strftime("%H:%M")
    if days <= 0:
        return f"today by {clock_text}"
    if days == 1:
        return f"tomorrow by {clock_text}"
    part = "morning" if local_due.hour < 12 else "afternoon"
    if days < 7:
        return f"{local_due.strftime('%A')} {part}"
    return f"by {local_due.strftime('%A %d %B')}"


def expected_reply_sentence(
    *, ticket: Ticket, target_hours: int, guarded: bool = True
) -> tuple[datetime, str]:
    """(when, "You will hear from us today by 15:00") for a new ticket.

    ``guarded=False``: no savepoint of its own, and a failing SLA estimate raises (for a
    caller that holds one savepoint around many estimates and falls back itself)."""
    now = clock.now()
    sla = _sla_module()
    if sla is not None and hasattr(sla, "expected_reply_at"):
        if not guarded:
            expected = sla.expected_reply_at(ticket=ticket, now=now)
            phrase = sla.phrase_expected_reply(expected, now, ticket.customer.language or "en")
            return expected.at, f"You will hear from us {phrase}"
        try:
            # A savepoint: if the SLA tables are not there yet, the ingestion transaction lives on.
            with transaction.atomic():
                expected = sla.expected_reply_at(ticket=ticket, now=now)
                phrase = sla.phrase_expected_reply(expected, now, ticket.customer.language or "en")
            return expected.at, f"You will hear from us {phrase}"
        except Exception as exc:
            logger.warning("SLA estimate unavailable, using the mailbox target: %s", exc)
    due = now + timedelta(hours=target_hours)
    return due, f"You will hear from us {phrase_for(due, now=now)}"


def expected_reply_sentences(
    *, tickets: Sequence[Ticket], target_hours: Sequence[int]
) -> list[tuple[datetime, str]]:
    """``expected_reply_sentence`` for many new tickets acknowledged together, in order, each
    as if it were made after the promises of the ones before it (one at a time, the promise of
    each is recorded before the next estimate). No savepoint of its own: a failing SLA estimate
    raises, and the caller falls back to one ticket at a time.

    What tickets share is read once per group the SLA cannot tell apart (the same facts its
    policies match on, opened at the same instant, nothing happened to them since): policy,
    calendar and due time, the measured reply rate (read fresh, once per group), and the work
    ahead of the group's first ticket (one count). For the k-th ticket of a group, the queue
    ahead is the first's plus the promises made just before it: those are rows owed since the
    same instant with a lower ticket number, which ``sla.expected.work_ahead_of`` counts when
    there is no due time, and does not count when there is one (the queue is ordered by due
    time, and a promise's row has none until the SLA worker computes the clocks). So: the
    first's count, plus k without a due time. Tests compare the promises with one-at-a-time.
    """
    sla = _sla_module()
    if sla is None or not hasattr(sla, "expected_reply_at"):
        return [
            expected_reply_sentence(ticket=t, target_hours=h, guarded=False)
            for t, h in zip(tickets, target_hours, strict=True)
        ]
    from helpline.sla.estimate import estimate_reply
    from helpline.sla.policies import ticket_facts

    now = clock.now()
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, ticket in enumerate(tickets):
        fresh = ticket.message_count == 1 and ticket.first_responded_at is None
        key = (ticket_facts(ticket, tags=()), ticket.created_at) if fresh else ("alone", index)
        groups.setdefault(key, []).append(index)
    results: list[tuple[datetime, str] | None] = [None] * len(tickets)
    # Policies and the reply rate read for one ticket are reused for ACK_ESTIMATE_REUSE s.
    with sla.reuse_queue_inputs(ACK_ESTIMATE_REUSE):
        for indexes in groups.values():
            first = tickets[indexes[0]]
            if len(indexes) == 1 or first.tags.exists():
                for index in indexes:
                    ticket = tickets[index]
                    results[index] = _sentence(
                        sla.expected_reply_at(ticket=ticket, now=now), ticket, now, sla
                    )
                continue
            estimate = sla.expected_reply_at(ticket=first, now=now)
            # The rate the whole group is estimated with (the first's included): read once per
            # ACK_ESTIMATE_REUSE seconds, the same reading expected_reply_at used for the first.
            capacity = sla.queue_capacity(
                channel=first.channel, team_id=first.team_id, calendar=estimate.calendar, now=now
            )
            for k, index in enumerate(indexes):
                ahead = (estimate.work_ahead or 0) + (k if estimate.sla_due_at is None else 0)
                expected = estimate_reply(
                    now=now,
                    calendar=estimate.calendar,
                    sla_due_at=estimate.sla_due_at,
                    work_ahead=ahead,
                    capacity=capacity,
                )
                results[index] = _sentence(expected, tickets[index], now, sla)
    return [r for r in results if r is not None]


def _sentence(expected: Any, ticket: Ticket, now: datetime, sla: Any) -> tuple[datetime, str]:
    phrase = sla.phrase_expected_reply(expected, now, ticket.customer.language or "en")
    return expected.at, f"You will hear from us {phrase}"

