"""The expected reply time promised to a customer (email acknowledgement, chat widget, web form).

Two layers:

* ``estimate_reply`` is pure: from the SLA due time, the calendar, the work ahead of the ticket
  and the queue's recent reply rate it returns a promise. The simulation (bench/reply_time_sim.py)
  calls exactly this function, so the honesty it measures is the production estimator's.
* ``expected_reply_at`` gathers those inputs from the database for one ticket.

Capacity: routing sits above sla in the layer order, so sla cannot ask routing who is online.
The reply rate is measured from data sla can read: public, non-automatic replies sent on the
same channel (and team) over the last hour of business time. That rate already reflects how
many agents are working and how fast they handle this kind of ticket. A caller that knows better
(routing: agents online x their capacity) passes ``capacity=`` explicitly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from helpline.core import clock
from helpline.sla.business_hours import (
    TWENTY_FOUR_SEVEN,
    CalendarSpec,
    add_business_minutes,
    business_minutes_between,
)
from helpline.sla.models import TicketSla
from helpline.sla.selectors import ticket_sla_compute
from helpline.tickets.choices import Direction, Status
from helpline.tickets.models import Message, Ticket

# The promise aims at this quantile of the waiting time, so it is kept about nine times in ten
# even when the rate estimate is a little optimistic (tuned with bench/reply_time_sim.py).
SAFETY_Z = 1.64
# Service slack in replies: the ticket's own handling plus one for variance in the first minutes.
SLACK_REPLIES = 1.5
# Measure the rate over at least this many business minutes.
RATE_WINDOW_MINUTES = 60
# Without a policy and without a measured rate, promise this much business time.
DEFAULT_MINUTES = 24 * 60


@dataclass(frozen=True)
class Capacity:
    """How fast the queue the ticket waits in is being worked, in replies per business minute."""

    replies_per_minute: float
    agents: int | None = None


@dataclass(frozen=True)
class ExpectedReply:
    at: datetime
    basis: str  # "queue", "policy" (the SLA due time), "default"
    calendar: CalendarSpec
    sla_due_at: datetime | None = None
    work_ahead: int | None = None


def estimate_reply(
    *,
    now: datetime,
    calendar: CalendarSpec,
    sla_due_at: datetime | None,
    work_ahead: int,
    capacity: Capacity | None,
) -> ExpectedReply:
    """The promise: when the queue should reach this ticket, never later than the SLA due time.

    With ``k`` tickets ahead plus this one served at rate ``r``, the wait is about ``k / r``
    with spread ``sqrt(k) / r`` (Poisson completions); the promise takes the upper quantile.
    When that is later than the SLA due time, the SLA due time is promised (and if it slips,
    ``services.promise_slip_notify`` tells the customer).
    """
    if capacity is None or capacity.replies_per_minute <= 0:
        if sla_due_at is not None:
            return ExpectedReply(max(sla_due_at, now), "policy", calendar, sla_due_at, work_ahead)
        return ExpectedReply(
            add_business_minutes(calendar, now, DEFAULT_MINUTES),
            "default",
            calendar,
            None,
            work_ahead,
        )
    k = work_ahead + 1
    wait = (k + SAFETY_Z * math.sqrt(k) + SLACK_REPLIES) / capacity.replies_per_minute
    at = add_business_minutes(calendar, now, wait)
    if sla_due_at is not None and at > sla_due_at:
        return ExpectedReply(max(sla_due_at, now), "policy", calendar, sla_due_at, work_ahead)
    return ExpectedReply(at, "queue", calendar, sla_due_at, work_ahead)


def rate_window_start(calendar: CalendarSpec, now: datetime) -> tuple[datetime, float]:
    """The start of a window ending at ``now`` holding at least an hour of business time, and
    the business minutes in it (so a queue just opened is measured on yesterday's last hour)."""
    for hours in (1, 2, 4, 8, 16, 24, 48, 72, 96, 168):
        start = now - timedelta(hours=hours)
        minutes = business_minutes_between(calendar, start, now)
        if minutes >= RATE_WINDOW_MINUTES:
            return start, minutes
    start = now - timedelta(days=7)
    return start, business_minutes_between(calendar, start, now)


def measured_capacity(
    *, channel: str, team_id: int | None, calendar: CalendarSpec, now: datetime
) -> Capacity | None:
    """Replies per business minute on this channel (and team) over the recent window."""
    start, minutes = rate_window_start(calendar, now)
    if minutes <= 0:
        return None
    replies = Message.objects.filter(
        direction=Direction.OUTBOUND,
        is_automatic=False,
        ticket__channel=channel,
        created_at__gte=start,
        created_at__lt=now,
    )
    if team_id is not None:
        replies = replies.filter(ticket__team_id=team_id)
    count = replies.count()
    if count == 0:
        return None
    agents = replies.exclude(author_user=None).values("author_user").distinct().count()
    return Capacity(replies_per_minute=count / minutes, agents=agents or None)


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


# --- phrasing --------------------------------------------------------------------------------

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "minutes": "within {n} minutes",
        "minute": "within a minute",
        "today": "today by {t}",
        "tomorrow": "tomorrow by {t}",
        "day_by": "{d} by {t}",
        "morning": "{d} morning",
        "date": "by {date}",
    },
    "de": {
        "minutes": "innerhalb von {n} Minuten",
        "minute": "innerhalb einer Minute",
        "today": "heute bis {t} Uhr",
        "tomorrow": "morgen bis {t} Uhr",
        "day_by": "{d} bis {t} Uhr",
        "morning": "{d} Vormittag",
        "date": "bis {date}",
    },
    "fr": {
        "minutes": "d'ici {n} minutes",
        "minute": "d'ici une minute",
        "today": "aujourd'hui avant {t}",
        "tomorrow": "demain avant {t}",
        "day_by": "{d} avant {t}",
        "morning": "{d} matin",
        "date": "d'ici le {date}",
    },
    "es": {
        "minutes": "en {n} minutos",
        "minute": "en un minuto",
        "today": "hoy antes de las {t}",
        "tomorrow": "mañana antes de las {t}",
        "day_by": "el {d} antes de las {t}",
        "morning": "el {d} por la mañana",
        "date": "antes del {date}",
    },
}
_DAYS: dict[str, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
}
_NICE_MINUTES = (2, 5, 10, 15, 20, 30, 45, 60)


def _round_up_quarter(t: datetime) -> datetime:
    """The next quarter hour at or after ``t``: a phrase never promises earlier than ``at``."""
    floor = t.replace(minute=(t.minute // 15) * 15, second=0, microsecond=0)
    return floor if floor == t else floor + timedelta(minutes=15)


def phrase_expected_reply(expected: ExpectedReply, now: datetime, language: str = "en") -> str:
    """Plain words for the promise, in the calendar's time zone, never earlier than ``at``:
    "within 5 minutes", "today by 15:00", "tomorrow by 10:00", "Monday morning", "by 3 March".
    """
    lang = language[:2].lower() if language[:2].lower() in _WORDS else "en"
    words = _WORDS[lang]
    seconds = (expected.at - now).total_seconds()
    if seconds <= 60:
        return words["minute"]
    if seconds <= 3600:
        minutes = math.ceil(seconds / 60)
        nice = next(n for n in _NICE_MINUTES if n >= minutes)
        return words["minutes"].format(n=nice)
    zone = expected.calendar.zone
    at = _round_up_quarter(expected.at.astimezone(zone))
    today = now.astimezone(zone).date()
    days = (at.date() - today).days
    hhmm = f"{at:%H:%M}"
    if days == 0:
        return words["today"].format(t=hhmm)
    if days == 1:
        return words["tomorrow"].format(t=hhmm)
    weekday = _DAYS[lang][at.weekday()]
    if days < 7:
        if (at.hour, at.minute) <= (12, 0):
            return words["morning"].format(d=weekday)
        return words["day_by"].format(d=weekday, t=hhmm)
    month = _MONTHS[lang][at.month - 1]
    date_text = f"{at.day}. {month}" if lang == "de" else f"{at.day} {month}"
    return words["date"].format(date=date_text)
