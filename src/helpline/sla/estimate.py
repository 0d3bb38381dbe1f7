"""The expected-reply estimator and its phrasing: pure functions, no database.

``expected.expected_reply_at`` feeds it from the database; bench/reply_time_sim.py feeds it from
a simulated month, so the honesty the simulation measures is this code's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from helpline.sla.business_hours import (
    CalendarSpec,
    add_business_minutes,
    business_minutes_between,
    open_on,
)

# The promise aims at this quantile of the waiting time, so it is kept about nine times in ten
# even when the rate estimate is a little optimistic (tuned with bench/reply_time_sim.py).
SAFETY_Z = 1.64
# Work that will jump the queue while the ticket waits (more urgent tickets arriving later) and
# staffing that varies from week to week: plan for this much more work than is ahead now.
SAFETY_SHARE = 0.15
# Service slack in replies: the ticket's own handling plus one for variance in the first minutes.
SLACK_REPLIES = 1.5
# The recent rate is measured over the last hour of business time; the sustained rate over the
# last business day, which includes the quieter shifts a long wait will also run through.
RATE_WINDOW_MINUTES = 60
SUSTAINED_WINDOW_MINUTES = 600
# The weekly profile: how many past weeks, and how far ahead a promise may be walked.
HOURS_PER_WEEK = 168
PROFILE_WEEKS = 4
PROFILE_HORIZON_DAYS = 14
# Without a policy and without a measured rate, promise this much business time.
DEFAULT_MINUTES = 24 * 60


@dataclass(frozen=True)
class Capacity:
    """How fast the queue the ticket waits in is being worked, in replies per business minute."""

    replies_per_minute: float  # over the last hour of business time
    sustained_per_minute: float | None = None  # over the last business day
    # Replies per hour for each local hour of the week (0 = Monday 00:00-01:00), averaged over
    # recent weeks: the shape of the agents' schedules as the replies show it.
    weekly_profile: tuple[float, ...] | None = None
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
    usable = capacity is not None and (
        capacity.replies_per_minute > 0 or any(capacity.weekly_profile or ())
    )
    if capacity is None or not usable:
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
    need = k * (1 + SAFETY_SHARE) + SAFETY_Z * math.sqrt(k) + SLACK_REPLIES
    at: datetime | None = None
    if capacity.weekly_profile is not None and len(capacity.weekly_profile) == HOURS_PER_WEEK:
        at = _walk_profile(now, calendar, need, capacity)
    if at is None and capacity.replies_per_minute > 0:
        # No profile, or too little history to place the reply: assume the recent rate holds
        # over business time.
        wait = need / capacity.replies_per_minute
        if wait > RATE_WINDOW_MINUTES and capacity.sustained_per_minute:
            # A long wait runs through other shifts too: do not assume the busiest hour lasts.
            wait = need / min(capacity.replies_per_minute, capacity.sustained_per_minute)
        at = add_business_minutes(calendar, now, wait)
    if at is None or (sla_due_at is not None and at > sla_due_at):
        if sla_due_at is None:
            return ExpectedReply(
                add_business_minutes(calendar, now, DEFAULT_MINUTES),
                "default",
                calendar,
                None,
                work_ahead,
            )
        return ExpectedReply(max(sla_due_at, now), "policy", calendar, sla_due_at, work_ahead)
    return ExpectedReply(at, "queue", calendar, sla_due_at, work_ahead)


def _walk_profile(
    now: datetime, calendar: CalendarSpec, need: float, capacity: Capacity
) -> datetime | None:
    """Walk forward hour by hour, each hour clearing what agents usually reply in that hour of
    the week, until ``need`` replies are done. Today's hours are scaled down when the last hour
    ran slower than usual (absences); closed days (holidays) clear nothing."""
    assert capacity.weekly_profile is not None
    profile = capacity.weekly_profile
    zone = calendar.zone
    local_now = now.astimezone(zone)
    usual_now = profile[local_now.weekday() * 24 + local_now.hour] / 60
    today_factor = 1.0
    if usual_now > 0 and capacity.replies_per_minute > 0:
        today_factor = min(1.0, max(0.5, capacity.replies_per_minute / usual_now))
    remaining = need
    t = now
    limit = now + timedelta(days=PROFILE_HORIZON_DAYS)
    while t < limit:
        boundary = t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        local_t = t.astimezone(zone)
        per_minute = profile[local_t.weekday() * 24 + local_t.hour] / 60
        if local_t.date() == local_now.date():
            per_minute *= today_factor
        if not open_on(calendar, local_t.date()):
            per_minute = 0.0
        minutes = (boundary - t).total_seconds() / 60
        if per_minute > 0 and per_minute * minutes >= remaining:
            return t + timedelta(minutes=remaining / per_minute)
        remaining -= per_minute * minutes
        t = boundary
    return None


def weekly_profile(
    reply_times: list[datetime], *, zone_name: str, now: datetime, weeks: int = PROFILE_WEEKS
) -> tuple[float, ...]:
    """Replies per hour for each local hour of the week over the ``weeks`` before ``now``."""
    zone = ZoneInfo(zone_name)
    counts = [0] * HOURS_PER_WEEK
    start = now - timedelta(weeks=weeks)
    for t in reply_times:
        if start <= t < now:
            lt = t.astimezone(zone)
            counts[lt.weekday() * 24 + lt.hour] += 1
    return tuple(c / weeks for c in counts)


def rate_window_start(
    calendar: CalendarSpec, now: datetime, minutes: float = RATE_WINDOW_MINUTES
) -> tuple[datetime, float]:
    """The latest start of a window ending at ``now`` that holds ``minutes`` of business time
    (so a queue that just opened is measured on the previous day's last hour), and the business
    minutes it holds. Looks back at most 14 days."""
    for days in (1, 3, 14):
        lo, hi = now - timedelta(days=days), now
        total = business_minutes_between(calendar, lo, now)
        if total > minutes:
            break
    else:
        return lo, total
    # business_minutes_between(calendar, t, now) falls as t grows: bisect to the second.
    while (hi - lo) > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if business_minutes_between(calendar, mid, now) >= minutes:
            lo = mid
        else:
            hi = mid
    return lo, business_minutes_between(calendar, lo, now)


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
