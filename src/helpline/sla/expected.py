"""The expected reply time promised to a customer (email acknowledgement, chat widget, web form).

Two layers:

* ``estimate.estimate_reply`` is pure: from the SLA due time, the calendar, the work ahead of
  the ticket and the queue's measured reply rate it returns a promise. The simulation
  (bench/reply_time_sim.py) calls exactly this function, so the honesty it measures is the
  production estimator's.
* ``expected_reply_at`` gathers those inputs from the database for one ticket.

Capacity: routing sits above sla in the layer order, so sla cannot ask routing who is online.
The reply rate is measured from data sla can read: public, non-automatic replies sent on the
same channel (and team) over the last hour of business time. That rate already reflects how
many agents are working and how fast they handle this kind of ticket. A caller that knows better
(routing: agents online x their capacity) passes ``capacity=`` explicitly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, QuerySet
from django.db.models.functions import TruncHour

from helpline.core import clock
from helpline.sla.business_hours import TWENTY_FOUR_SEVEN, CalendarSpec
from helpline.sla.clocks import History
from helpline.sla.estimate import (
    HOURS_PER_WEEK,
    PROFILE_WEEKS,
    SUSTAINED_WINDOW_MINUTES,
    Capacity,
    ExpectedReply,
    estimate_reply,
    phrase_expected_reply,
    rate_window_start,
)
from helpline.sla.models import TicketSla
from helpline.sla.policies import PolicyRule, load_policies
from helpline.sla.selectors import ticket_sla_compute
from helpline.tickets.choices import Direction, Status
from helpline.tickets.models import Message, Ticket

__all__ = [
    "Capacity",
    "ExpectedReply",
    "estimate_reply",
    "expected_reply_at",
    "measured_capacity",
    "phrase_expected_reply",
    "queue_capacity",
    "reuse_queue_inputs",
    "work_ahead_of",
]


# --- reusing the queue-wide inputs for a few seconds (opt-in) -------------------------------
#
# A burst of new tickets (mail arriving by the hundred) asks for one estimate each. The active
# policies and the measured reply rate (an hour, a day and four weeks of replies) are the same
# for all of them within seconds, so inside ``reuse_queue_inputs`` they are read once per
# ``seconds`` and per process. What differs per ticket is never reused: the ticket's own policy
# match and clocks, and the work ahead of it (one count), so a promise made in a burst still
# grows with the queue.

_reuse = threading.local()
_inputs_lock = threading.Lock()
_policies_cache: tuple[float, list[PolicyRule]] | None = None
_capacity_cache: dict[tuple[str, int | None, CalendarSpec], tuple[float, Capacity | None]] = {}
# Weekly reply profiles by (channel, team, time zone, clock hour): see measured_capacity.
_profile_cache: dict[tuple[str, int | None, str, datetime], tuple[float, list[float] | None]] = {}
PROFILE_REUSE = 1800.0  # seconds, and never across a clock hour


@contextmanager
def reuse_queue_inputs(seconds: float) -> Iterator[None]:
    """Inside the block, ``expected_reply_at`` may reuse policies and measured capacity read in
    the last ``seconds`` by this process (the email acknowledgement uses it)."""
    previous = getattr(_reuse, "seconds", 0.0)
    _reuse.seconds = seconds
    try:
        yield
    finally:
        _reuse.seconds = previous


def _reuse_seconds() -> float:
    return float(getattr(_reuse, "seconds", 0.0))


def _policies(max_age: float) -> list[PolicyRule]:
    global _policies_cache
    now = time.monotonic()
    with _inputs_lock:
        cached = _policies_cache
    if cached is not None and now - cached[0] < max_age:
        return cached[1]
    rules = load_policies()
    with _inputs_lock:
        _policies_cache = (now, rules)
    return rules


def _capacity(
    *, channel: str, team_id: int | None, calendar: CalendarSpec, now: datetime, max_age: float
) -> Capacity | None:
    key = (channel, team_id, calendar)
    mono = time.monotonic()
    with _inputs_lock:
        cached = _capacity_cache.get(key)
    if cached is not None and mono - cached[0] < max_age:
        return cached[1]
    capacity = measured_capacity(
        channel=channel,
        team_id=team_id,
        calendar=calendar,
        now=now,
        profile_max_age=PROFILE_REUSE,
    )
    with _inputs_lock:
        if len(_capacity_cache) > 256:
            _capacity_cache.clear()
        _capacity_cache[key] = (mono, capacity)
    return capacity


def queue_capacity(
    *, channel: str, team_id: int | None, calendar: CalendarSpec, now: datetime
) -> Capacity | None:
    """The queue's measured reply rate: inside ``reuse_queue_inputs`` the one this process read
    within the block's seconds (its weekly profile within the clock hour), else read now."""
    reuse = _reuse_seconds()
    if reuse <= 0:
        return measured_capacity(channel=channel, team_id=team_id, calendar=calendar, now=now)
    return _capacity(channel=channel, team_id=team_id, calendar=calendar, now=now, max_age=reuse)


def reuse_cache_clear() -> None:
    global _policies_cache
    with _inputs_lock:
        _policies_cache = None
        _capacity_cache.clear()
        _profile_cache.clear()


def _fresh_history(ticket: Ticket) -> History | None:
    """The history of a ticket nothing has happened to since it opened (its first message,
    no reply, no status change), read from the row alone; None when that is not certain."""
    if (
        ticket.message_count == 1
        and ticket.status == Status.NEW
        and ticket.first_responded_at is None
        and ticket.updated_at == ticket.created_at
        and ticket.last_message_at == ticket.created_at
    ):
        return History(
            created_at=ticket.created_at,
            status_changes=(),
            customer_messages=(ticket.created_at,),
            agent_replies=(),
        )
    return None


def measured_capacity(
    *,
    channel: str,
    team_id: int | None,
    calendar: CalendarSpec,
    now: datetime,
    profile_max_age: float = 0.0,
) -> Capacity | None:
    """How fast this channel's (and team's) queue is worked, from the public, non-automatic
    replies sent: over the last business hour, the last business day, and per hour of the week
    over the last few weeks (five queries on the replies' time index, ``message_reply_time``).

    The weekly profile (two queries over weeks of replies: ~0.4 s each at 1,700,000 replies)
    changes little within an hour: with ``profile_max_age`` > 0 it is reused for that many
    seconds within the same clock hour (the acknowledgements' path); the last hour's and day's
    rates are always read."""
    replies = Message.objects.filter(
        direction=Direction.OUTBOUND, is_automatic=False, ticket__channel=channel
    )
    if team_id is not None:
        replies = replies.filter(ticket__team_id=team_id)
    start, minutes = rate_window_start(calendar, now)
    recent = replies.filter(created_at__gte=start, created_at__lt=now)
    count = recent.count()
    day_start, day_minutes = rate_window_start(calendar, now, SUSTAINED_WINDOW_MINUTES)
    day_count = replies.filter(created_at__gte=day_start, created_at__lt=now).count()
    zone = calendar.zone
    hour = now.replace(minute=0, second=0, microsecond=0)
    key = (channel, team_id, str(zone), hour)
    mono = time.monotonic()
    with _inputs_lock:
        cached = _profile_cache.get(key)
    if cached is not None and mono - cached[0] < profile_max_age:
        profile = cached[1]
    else:
        profile = _weekly_profile(replies, zone, now)
        if profile_max_age > 0:
            with _inputs_lock:
                if len(_profile_cache) > 256:
                    _profile_cache.clear()
                _profile_cache[key] = (mono, profile)
    if count == 0 and not any(profile or ()):
        return None
    agents = recent.exclude(author_user=None).values("author_user").distinct().count()
    return Capacity(
        replies_per_minute=count / minutes if minutes > 0 else 0.0,
        sustained_per_minute=day_count / day_minutes if day_minutes > 0 else None,
        weekly_profile=tuple(profile) if profile is not None else None,
        agents=agents or None,
    )


def _weekly_profile(replies: QuerySet[Message], zone: Any, now: datetime) -> list[float] | None:
    """Replies per hour of the week over the last PROFILE_WEEKS weeks (None with less than a
    week of history)."""
    window = replies.filter(
        created_at__gte=now - timedelta(weeks=PROFILE_WEEKS), created_at__lt=now
    )
    oldest = window.aggregate(oldest=Min("created_at"))["oldest"]
    # A profile needs at least a week of history to know the shape of a week; divide by the
    # weeks actually covered so a young helpdesk's rates are not understated.
    if oldest is None or now - oldest < timedelta(days=7):
        return None
    weeks = min(float(PROFILE_WEEKS), (now - oldest) / timedelta(weeks=1))
    profile = [0.0] * HOURS_PER_WEEK
    hourly = (
        window.annotate(hour=TruncHour("created_at", tzinfo=zone))
        .values("hour")
        .annotate(n=Count("id"))
    )
    for row in hourly:
        local = row["hour"].astimezone(zone)
        profile[local.weekday() * 24 + local.hour] += row["n"] / weeks
    return profile


def work_ahead_of(*, ticket: Ticket, due_at: datetime | None, owed_since: datetime) -> int:
    """Tickets owed a reply in the same channel and team that the queue serves first: those due
    earlier (the queue is ordered by due time), or owed earlier when there is no due time.

    Read off the rows' ``queue_channel`` (set while a ticket owed a reply is new or open): one
    range of ``sla_queue_due`` or ``sla_queue_owed``, whose columns answer the whole filter."""
    qs = TicketSla.objects.filter(queue_channel=ticket.channel).exclude(ticket_id=ticket.pk)
    qs = (
        qs.filter(team_id=ticket.team_id)
        if ticket.team_id is not None
        else qs.filter(team__isnull=True)
    )
    # The queue's order: due time, then ticket number (ties go to the older ticket). Written
    # as "up to and including the bound, less the tie's later tickets" so that the bound is
    # the index range and the rest a filter on the index's own columns.
    if due_at is not None:
        qs = qs.filter(next_due_at__lte=due_at).exclude(
            next_due_at=due_at, ticket_id__gte=ticket.pk
        )
    else:
        qs = qs.filter(reply_owed_since__lte=owed_since).exclude(
            reply_owed_since=owed_since, ticket_id__gte=ticket.pk
        )
    return qs.count()


def expected_reply_at(
    *, ticket: Ticket, now: datetime | None = None, capacity: Capacity | None = None
) -> ExpectedReply:
    """When the customer of ``ticket`` can expect the reply they are now owed."""
    now = now or clock.now()
    reuse = _reuse_seconds()
    if reuse > 0:
        computed = ticket_sla_compute(
            ticket=ticket, now=now, policies=_policies(reuse), history=_fresh_history(ticket)
        )
    else:
        computed = ticket_sla_compute(ticket=ticket, now=now)
    calendar = computed.rule.calendar if computed.rule else TWENTY_FOUR_SEVEN
    due: datetime | None = None
    owed_since = ticket.created_at
    if computed.clocks is not None:
        first, nxt = computed.clocks.first_response, computed.clocks.next_response
        if first.target is not None and first.met_at is None:
            due = first.reached_at
        elif nxt.target is not None and nxt.started_at is not None and nxt.met_at is None:
            due, owed_since = nxt.reached_at, nxt.started_at
    if capacity is None:
        capacity = queue_capacity(
            channel=ticket.channel, team_id=ticket.team_id, calendar=calendar, now=now
        )
    ahead = work_ahead_of(ticket=ticket, due_at=due, owed_since=owed_since)
    return estimate_reply(
        now=now, calendar=calendar, sla_due_at=due, work_ahead=ahead, capacity=capacity
    )
