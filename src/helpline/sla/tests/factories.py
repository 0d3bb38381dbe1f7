from __future__ import annotations

from collections.abc import Iterable

from helpline.sla.business_hours import parse_hhmm
from helpline.sla.models import (
    BusinessCalendar,
    CalendarHoliday,
    CalendarInterval,
    SlaPolicy,
    SlaTarget,
)


def make_calendar(
    *,
    name: str = "Office",
    time_zone: str = "Europe/Berlin",
    hours: tuple[str, str] = ("09:00", "17:00"),
    days: Iterable[int] = (0, 1, 2, 3, 4),
    holidays: Iterable[tuple[str, bool]] = (),
) -> BusinessCalendar:
    from datetime import date

    calendar = BusinessCalendar.objects.create(name=name, time_zone=time_zone)
    for day in days:
        CalendarInterval.objects.create(
            calendar=calendar,
            weekday=day,
            start_minute=parse_hhmm(hours[0]),
            end_minute=parse_hhmm(hours[1]),
        )
    for iso, yearly in holidays:
        CalendarHoliday.objects.create(
            calendar=calendar, day=date.fromisoformat(iso), yearly=yearly
        )
    return calendar


def make_policy(
    *,
    name: str = "Gold",
    position: int = 10,
    first: int | None = 60,
    nxt: int | None = 120,
    resolution: int | None = 480,
    priorities: Iterable[str] = ("low", "normal", "high", "urgent"),
    **kwargs,
) -> SlaPolicy:
    policy = SlaPolicy.objects.create(name=name, position=position, **kwargs)
    for priority in priorities:
        SlaTarget.objects.create(
            policy=policy,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=nxt,
            resolution_minutes=resolution,
        )
    return policy
