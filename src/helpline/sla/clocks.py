"""The SLA clocks of one ticket, derived from its history: a pure function, no database.

Deriving the state from the whole history (status changes and public messages) instead of
patching it event by event makes every recompute idempotent: a duplicated, late or re-ordered
bus event cannot leave a clock running or paused by mistake.

Semantics (docs/sla.md, pinned by tests/test_clocks.py):

* A clock runs only while the ticket's status is active and not one of the policy's pausing
  statuses (default pending and on hold); solved and closed stop every clock.
* First response: from the ticket's creation until the first public, non-automatic reply.
* Next response: after the first response, each time the customer writes while no reply is
  owed, a cycle starts at that message and ends at the next public, non-automatic reply.
* Resolution: from creation until solved; a reopen resumes it with the minutes already used.
* Minutes are business minutes of the policy's calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from helpline.sla.business_hours import (
    CalendarSpec,
    add_business_minutes,
    business_minutes_between,
)
from helpline.sla.choices import STOPPED_STATUSES

Segment = tuple[datetime, datetime | None]  # end None: still running


@dataclass(frozen=True)
class History:
    """What the clocks need to know about a ticket, oldest first."""

    created_at: datetime
    status_changes: tuple[tuple[datetime, str], ...]  # (when, new status); starts as "new"
    customer_messages: tuple[datetime, ...]
    agent_replies: tuple[datetime, ...]  # public and not automatic


@dataclass(frozen=True)
class Targets:
    first_response: int | None
    next_response: int | None
    resolution: int | None
    pausing_statuses: frozenset[str]
    warn_share: float = 0.75


@dataclass(frozen=True)
class Clock:
    target: int | None
    started_at: datetime | None  # start of the current cycle (None: no cycle)
    consumed: float  # business minutes used up to now
    running: bool  # counting right now (not paused, not met)
    met_at: datetime | None  # the reply / solve that stopped it
    reached_at: datetime | None  # when consumption reaches the target (may be in the future)
    warn_reached_at: datetime | None

    @property
    def due_at(self) -> datetime | None:
        """The due time shown and ordered by: only while the clock is running."""
        return self.reached_at if self.running else None

    @property
    def breached(self) -> bool:
        """Whether the target was passed (known once ``reached_at`` lies before ``met_at``)."""
        if self.reached_at is None:
            return False
        return self.met_at is None or self.reached_at < self.met_at


@dataclass(frozen=True)
class Clocks:
    first_response: Clock
    next_response: Clock
    resolution: Clock
    paused: bool


_NONE = Clock(None, None, 0.0, False, None, None, None)


def _status_segments(history: History, pausing: frozenset[str]) -> list[Segment]:
    """Spans of time when the ticket's status lets clocks run; the last may be open-ended."""

    def live(status: str) -> bool:
        return status not in pausing and status not in STOPPED_STATUSES

    segments: list[Segment] = []
    status, since = "new", history.created_at
    for at, new_status in history.status_changes:
        at = max(at, since)
        if live(status) and at > since:
            segments.append((since, at))
        status, since = new_status, at
    if live(status):
        segments.append((since, None))
    return segments


def _clip(segments: Sequence[Segment], start: datetime, end: datetime | None) -> list[Segment]:
    out: list[Segment] = []
    for s, e in segments:
        lo = max(s, start)
        if e is None:
            hi = end
        elif end is None:
            hi = e
        else:
            hi = min(e, end)
        if hi is None or hi > lo:
            out.append((lo, hi))
    return out


def _reach(spec: CalendarSpec, segments: Sequence[Segment], amount: float) -> datetime | None:
    """When ``amount`` business minutes have been consumed over ``segments``."""
    used = 0.0
    for s, e in segments:
        if e is None:
            return add_business_minutes(spec, s, amount - used)
        span = business_minutes_between(spec, s, e)
        if used + span >= amount:
            return add_business_minutes(spec, s, amount - used)
        used += span
    return None


def _consumed(spec: CalendarSpec, segments: Sequence[Segment], now: datetime) -> float:
    return sum(business_minutes_between(spec, s, e or max(now, s)) for s, e in segments)


def _clock(
    spec: CalendarSpec,
    live: Sequence[Segment],
    *,
    target: int | None,
    start: datetime,
    met_at: datetime | None,
    now: datetime,
    warn_share: float,
) -> Clock:
    if target is None:
        return _NONE
    segments = _clip(live, start, met_at)
    running = met_at is None and bool(segments) and segments[-1][1] is None
    return Clock(
        target=target,
        started_at=start,
        consumed=_consumed(spec, segments, now),
        running=running,
        met_at=met_at,
        reached_at=_reach(spec, segments, target),
        warn_reached_at=_reach(spec, segments, target * warn_share),
    )


def compute_clocks(
    *, history: History, targets: Targets, calendar: CalendarSpec, now: datetime
) -> Clocks:
    live = _status_segments(history, targets.pausing_statuses)
    current = history.status_changes[-1][1] if history.status_changes else "new"

    replies = sorted(history.agent_replies)
    first_reply = replies[0] if replies else None
    first = _clock(
        calendar,
        live,
        target=targets.first_response,
        start=history.created_at,
        met_at=first_reply,
        now=now,
        warn_share=targets.warn_share,
    )

    # Next-response cycles: after the first reply, a customer message opens a cycle when none
    # is open; the next reply closes it. Only the latest cycle is reported.
    cycle_start: datetime | None = None
    cycle_end: datetime | None = None
    if first_reply is not None:
        timeline = sorted(
            [(t, 1, "customer") for t in history.customer_messages if t > first_reply]
            + [(t, 0, "reply") for t in replies if t > first_reply]
        )
        open_cycle = False
        for t, _order, kind in timeline:
            if kind == "customer" and not open_cycle:
                cycle_start, cycle_end, open_cycle = t, None, True
            elif kind == "reply" and open_cycle:
                cycle_end, open_cycle = t, False
    if cycle_start is None:
        nxt = _NONE
    else:
        nxt = _clock(
            calendar,
            live,
            target=targets.next_response,
            start=cycle_start,
            met_at=cycle_end,
            now=now,
            warn_share=targets.warn_share,
        )

    solved_at = history.status_changes[-1][0] if current in STOPPED_STATUSES else None
    resolution = _clock(
        calendar,
        live,
        target=targets.resolution,
        start=history.created_at,
        met_at=solved_at,
        now=now,
        warn_share=targets.warn_share,
    )
    paused = current in targets.pausing_statuses
    return Clocks(first_response=first, next_response=nxt, resolution=resolution, paused=paused)
