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

from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncHour

from helpline.core import clock
from helpline.sla.business_hours import TWENTY_FOUR_SEVEN, CalendarSpec
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
    "work_ahead_of",
]


def measured_capacity(
    *, channel: str, team_id: int | None, calendar: CalendarSpec, now: datetime
) -> Capacity | None:
    """How fast this channel's (and team's) queue is worked, from the public, non-automatic
    replies sent: over the last business hour, the last business day, and per hour of the week
    over the last few weeks (four queries, each on the indexed message time)."""
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
    window = replies.filter(
        created_at__gte=now - timedelta(weeks=PROFILE_WEEKS), created_at__lt=now
    )
    oldest = window.aggregate(oldest=Min("created_at"))["oldest"]
    profile: list[float] | None = None
    # A profile needs at least a week of history to know the shape of a week; divide by the
    # weeks actually covered so a young helpdesk's rates are not understated.
    if oldest is not None and now - oldest >= timedelta(days=7):
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
    if count == 0 and not any(profile or ()):
        return None
    agents = recent.exclude(author_user=None).values("author_user").distinct().count()
    return Capacity(
        replies_per_minute=count / minutes if minutes > 0 else 0.0,
        sustained_per_minute=day_count / day_minutes if day_minutes > 0 else None,
        weekly_profile=tuple(profile) if profile is not None else None,
        agents=agents or None,
    )


def work_ahead_of(*, ticket: Ticket, due_at: datetime | None, owed_since: datetime) -> int:
    """Tickets owed a reply in the same channel and team that the queue serves first: those due
    earlier (the queue is ordered by due time), or owed earlier when there is no due time."""
    qs = TicketSla.objects.filter(
        reply_owed_since__isnull=False,
        ticket__channel=ticket.channel,
        ticket__status__in=(Status.NEW, Status.OPEN),
    ).exclude(ticket_id=ticket.pk)
    qs = (
        qs.filter(ticket__team_id=ticket.team_id)
        if ticket.team_id
        else qs.filter(ticket__team__isnull=True)
    )
    # The queue's order: due time, then ticket number (ties go to the older ticket).
    if due_at is not None:
        qs = qs.filter(Q(next_due_at__lt=due_at) | Q(next_due_at=due_at, ticket_id__lt=ticket.pk))
    else:
        qs = qs.filter(
            Q(reply_owed_since__lt=owed_since)
            | Q(reply_owed_since=owed_since, ticket_id__lt=ticket.pk)
        )
    return qs.count()


def expected_reply_at(
    *, ticket: Ticket, now: datetime | None = None, capacity: Capacity | None = None
) -> ExpectedReply:
    """When the customer of ``ticket`` can expect the reply they are now owed."""
    now = now or clock.now()
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
        capacity = measured_capacity(
            channel=ticket.channel, team_id=ticket.team_id, calendar=calendar, now=now
        )
    ahead = work_ahead_of(ticket=ticket, due_at=due, owed_since=owed_since)
    return estimate_reply(
        now=now, calendar=calendar, sla_due_at=due, work_ahead=ahead, capacity=capacity
    )
