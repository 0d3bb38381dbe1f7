"""Business-hours arithmetic on a plain, immutable calendar spec.

Pure functions, no database: the ``BusinessCalendar`` model converts itself to a ``CalendarSpec``
(``calendar.to_spec()``), and the simulation builds specs directly.

Semantics (pinned by tests in ``tests/test_business_hours.py``):

* A calendar is a time zone, weekly intervals and holidays, or "24/7" (always open, holidays
  ignored).
* A weekly interval is a weekday (0 = Monday) and a start and end as minutes after local
  midnight. ``end <= start`` means the shift crosses midnight and ends the next day
  (22:00-06:00); ``end == 1440`` means midnight at the end of the day.
* Times are wall-clock times in the calendar's zone; business minutes are real elapsed minutes
  inside open spans, so a 00:00-24:00 day is 23 hours long on a spring-forward day and 25 on a
  fall-back day. A wall time that does not exist (the spring-forward gap) moves forward by the
  gap, as clocks do; an ambiguous one (fall-back) means its first occurrence.
* A holiday cancels every interval that *starts* on that local date, so a night shift that
  starts the evening before a holiday still runs into the holiday's morning. A yearly holiday
  repeats on the same month and day (29 February only in leap years).
* Open spans are half-open: open at ``start``, closed at ``end``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 1440
# A calendar with no open span in this many days is treated as never open.
_SEARCH_DAYS = 3 * 366


@dataclass(frozen=True, order=True)
class WeeklyInterval:
    weekday: int  # 0 = Monday ... 6 = Sunday
    start: int  # minutes after local midnight, 0..1439
    end: int  # minutes after local midnight, 0..1440; end <= start crosses midnight

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {self.weekday}")
        if not 0 <= self.start < MINUTES_PER_DAY:
            raise ValueError(f"start must be 0..1439 minutes, got {self.start}")
        if not 0 <= self.end <= MINUTES_PER_DAY:
            raise ValueError(f"end must be 0..1440 minutes, got {self.end}")
        if self.end == self.start:
            raise ValueError("an interval cannot start and end at the same minute")

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, order=True)
class Holiday:
    day: date
    yearly: bool = False
    name: str = field(default="", compare=False)

    def falls_on(self, d: date) -> bool:
        if self.yearly:
            return (d.month, d.day) == (self.day.month, self.day.day)
        return d == self.day


@dataclass(frozen=True)
class CalendarSpec:
    """Everything the arithmetic needs to know about a calendar; hashable, so results cache."""

    tz: str = "UTC"
    intervals: tuple[WeeklyInterval, ...] = ()
    holidays: tuple[Holiday, ...] = ()
    always_open: bool = False
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # raises for an unknown zone
        if not self.always_open and not self.intervals:
            raise ValueError("a calendar needs weekly intervals unless it is 24/7")

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.tz)


TWENTY_FOUR_SEVEN = CalendarSpec(tz="UTC", always_open=True, name="24/7")


def weekdays(
    start: str, end: str, *, days: tuple[int, ...] = (0, 1, 2, 3, 4)
) -> tuple[WeeklyInterval, ...]:
    """Intervals ``start``-``end`` ("09:00", "17:30") on each of ``days``; a convenience."""
    s, e = parse_hhmm(start), parse_hhmm(end)
    return tuple(WeeklyInterval(weekday=d, start=s, end=e) for d in days)


def parse_hhmm(value: str) -> int:
    """ "09:30" -> 570; "24:00" -> 1440."""
    hours, _, minutes = value.strip().partition(":")
    total = int(hours) * 60 + int(minutes or 0)
    if not 0 <= total <= MINUTES_PER_DAY or not 0 <= int(minutes or 0) < 60:
        raise ValueError(f"not a time of day: {value!r}")
    return total


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _require_aware(t: datetime) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError("business-hours arithmetic needs time-zone-aware datetimes")


def _local_to_utc(d: date, minutes: int, zone: ZoneInfo) -> datetime:
    wall = datetime(d.year, d.month, d.day) + timedelta(minutes=minutes)
    return wall.replace(tzinfo=zone).astimezone(UTC)


@functools.lru_cache(maxsize=16384)
def _day_spans(spec: CalendarSpec, d: date) -> tuple[tuple[datetime, datetime], ...]:
    """UTC spans of the intervals that start on local date ``d``, sorted by start."""
    if any(h.falls_on(d) for h in spec.holidays):
        return ()
    zone = spec.zone
    weekday = d.weekday()
    spans = []
    for interval in spec.intervals:
        if interval.weekday != weekday:
            continue
        start = _local_to_utc(d, interval.start, zone)
        end_minutes = interval.end + (MINUTES_PER_DAY if interval.crosses_midnight else 0)
        end = _local_to_utc(d, end_minutes, zone)
        if end > start:
            spans.append((start, end))
    spans.sort()
    return tuple(spans)


def _spans_from(spec: CalendarSpec, t: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open spans, ascending and non-overlapping, that end after ``t`` (the first may contain
    ``t``). Overlapping intervals are clipped, not merged, so a calendar open round the clock
    still yields one span per day and the stream never stalls."""
    _require_aware(t)
    t = t.astimezone(UTC)
    if spec.always_open:
        yield t, datetime.max.replace(tzinfo=UTC)
        return
    # A shift that started the day before can still be running at t.
    d = t.astimezone(spec.zone).date() - timedelta(days=1)
    last_end = t
    empty_days = 0
    while True:
        spans = _day_spans(spec, d)
        if spans:
            empty_days = 0
        else:
            empty_days += 1
            if empty_days > _SEARCH_DAYS:
                raise ValueError(f"calendar {spec.name or spec.tz!r} is never open")
        for start, end in spans:
            if end <= last_end:
                continue
            # The first span may start before t (it contains t); later ones never overlap.
            yield (max(start, last_end) if last_end > t else start), end
            last_end = end
        d += timedelta(days=1)


def open_on(spec: CalendarSpec, d: date) -> bool:
    """Whether any interval starts on local date ``d`` (False on holidays and closed days)."""
    return spec.always_open or bool(_day_spans(spec, d))


def is_open(spec: CalendarSpec, t: datetime) -> bool:
    """Whether the calendar is open at instant ``t``."""
    _require_aware(t)
    if spec.always_open:
        return True
    t = t.astimezone(UTC)
    for start, _end in _spans_from(spec, t):
        return start <= t
    return False  # pragma: no cover - _spans_from never ends without raising


def next_open(spec: CalendarSpec, t: datetime) -> datetime:
    """The first instant at or after ``t`` when the calendar is open (``t`` itself if open)."""
    _require_aware(t)
    t = t.astimezone(UTC)
    for start, _end in _spans_from(spec, t):
        return max(start, t)
    raise ValueError("calendar is never open")  # pragma: no cover


def next_close(spec: CalendarSpec, t: datetime) -> datetime | None:
    """When the open span at or after ``t`` ends (None for a 24/7 calendar)."""
    if spec.always_open:
        return None
    close: datetime | None = None
    for start, end in _spans_from(spec, t):
        if close is not None and (start > close or end - t > timedelta(days=31)):
            break
        close = end
    return close


def add_business_minutes(spec: CalendarSpec, start: datetime, minutes: float) -> datetime:
    """The instant when ``minutes`` business minutes have passed since ``start`` (UTC).

    Zero minutes returns ``start`` itself, even when closed. The result is the end of the last
    open minute counted, so it may fall exactly on a closing time.
    """
    _require_aware(start)
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    start = start.astimezone(UTC)
    if minutes == 0:
        return start
    if spec.always_open:
        return start + timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
    for span_start, span_end in _spans_from(spec, start):
        begin = max(span_start, start)
        available = span_end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ValueError("calendar is never open")  # pragma: no cover


def business_minutes_between(spec: CalendarSpec, a: datetime, b: datetime) -> float:
    """Open minutes in ``[a, b)``; negative when ``b`` is before ``a``."""
    _require_aware(a)
    _require_aware(b)
    if b < a:
        return -business_minutes_between(spec, b, a)
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    if spec.always_open:
        return (b - a).total_seconds() / 60
    total = timedelta(0)
    for span_start, span_end in _spans_from(spec, a):
        if span_start >= b:
            break
        total += min(span_end, b) - max(span_start, a)
    return total.total_seconds() / 60
