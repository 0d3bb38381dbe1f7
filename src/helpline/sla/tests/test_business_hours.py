"""Business-hours arithmetic: worked examples for the tricky days, properties for the rest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from helpline.sla.business_hours import (
    TWENTY_FOUR_SEVEN,
    CalendarSpec,
    Holiday,
    WeeklyInterval,
    add_business_minutes,
    business_minutes_between,
    is_open,
    next_open,
    parse_hhmm,
    weekdays,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

OFFICE = CalendarSpec(tz="Europe/Berlin", intervals=weekdays("09:00", "17:00"), name="office")
ALL_DAY_BERLIN = CalendarSpec(
    tz="Europe/Berlin", intervals=tuple(WeeklyInterval(d, 0, 1440) for d in range(7))
)
NIGHTS = CalendarSpec(
    tz="Europe/Berlin", intervals=tuple(WeeklyInterval(d, 22 * 60, 6 * 60) for d in range(7))
)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone)


# --- worked examples -------------------------------------------------------------------------


def test_add_within_one_day_and_across_a_weekend():
    friday_4pm = local(2026, 11, 20, 16)
    assert add_business_minutes(OFFICE, friday_4pm, 30) == local(2026, 11, 20, 16, 30)
    # 60 minutes left on Friday, the other 60 on Monday morning.
    assert add_business_minutes(OFFICE, friday_4pm, 120) == local(2026, 11, 23, 10)


def test_start_outside_hours_counts_from_next_opening():
    saturday = local(2026, 11, 21, 12)
    assert add_business_minutes(OFFICE, saturday, 60) == local(2026, 11, 23, 10)
    assert next_open(OFFICE, saturday) == local(2026, 11, 23, 9)
    assert not is_open(OFFICE, saturday)


def test_spans_are_half_open():
    assert is_open(OFFICE, local(2026, 11, 23, 9))
    assert not is_open(OFFICE, local(2026, 11, 23, 17))
    assert add_business_minutes(OFFICE, local(2026, 11, 23, 9), 480) == local(2026, 11, 23, 17)


def test_zero_minutes_returns_start_even_when_closed():
    sunday = local(2026, 11, 22, 3)
    assert add_business_minutes(OFFICE, sunday, 0) == sunday


def test_spring_forward_day_is_23_hours_and_fall_back_day_is_25():
    assert (
        business_minutes_between(ALL_DAY_BERLIN, local(2026, 3, 29), local(2026, 3, 30)) == 23 * 60
    )
    assert (
        business_minutes_between(ALL_DAY_BERLIN, local(2026, 10, 25), local(2026, 10, 26))
        == 25 * 60
    )


def test_office_hours_keep_their_wall_clock_across_dst():
    # Friday before the spring change 16:00 + 2 h => Monday 10:00 local, summer time.
    result = add_business_minutes(OFFICE, local(2026, 3, 27, 16), 120)
    assert result == local(2026, 3, 30, 10)
    assert result.utcoffset() == timedelta(0)  # returned in UTC
    assert result == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_night_shift_crosses_midnight_and_dst():
    # Saturday 22:00 to Sunday 06:00 in the spring-forward night lasts 7 real hours.
    sat = local(2026, 3, 28, 22)
    assert business_minutes_between(NIGHTS, sat, local(2026, 3, 29, 6)) == 7 * 60
    assert is_open(NIGHTS, local(2026, 3, 29, 1))
    assert not is_open(NIGHTS, local(2026, 3, 29, 12))
    assert add_business_minutes(NIGHTS, local(2026, 3, 29, 5), 90) == local(2026, 3, 29, 22, 30)


def test_one_off_holiday_closes_that_date():
    cal = CalendarSpec(
        tz="Europe/Berlin", intervals=OFFICE.intervals, holidays=(Holiday(date(2026, 11, 23)),)
    )
    assert not is_open(cal, local(2026, 11, 23, 10))
    assert add_business_minutes(cal, local(2026, 11, 20, 16), 120) == local(2026, 11, 24, 10)
    # Only that year.
    assert is_open(cal, local(2027, 11, 23, 10))


def test_yearly_holiday_repeats_every_year():
    cal = CalendarSpec(
        tz="Europe/Berlin",
        intervals=OFFICE.intervals,
        holidays=(Holiday(date(2000, 12, 25), yearly=True),),
    )
    for year in (2026, 2028, 2031):
        christmas = local(year, 12, 25, 10)
        if christmas.weekday() < 5:
            assert not is_open(cal, christmas)
        assert is_open(cal, local(year, 12, 22, 10)) == (local(year, 12, 22).weekday() < 5)


def test_holiday_cancels_shifts_starting_that_day_not_the_night_before():
    cal = CalendarSpec(
        tz="Europe/Berlin", intervals=NIGHTS.intervals, holidays=(Holiday(date(2026, 12, 25)),)
    )
    assert is_open(cal, local(2026, 12, 25, 3))  # the shift of the 24th runs on
    assert not is_open(cal, local(2026, 12, 25, 23))  # the shift of the 25th is cancelled
    assert is_open(cal, local(2026, 12, 26, 23))


def test_twenty_four_seven_is_plain_elapsed_time():
    t = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert add_business_minutes(TWENTY_FOUR_SEVEN, t, 1440) == t + timedelta(days=1)
    assert business_minutes_between(TWENTY_FOUR_SEVEN, t, t + timedelta(hours=5)) == 300
    assert is_open(TWENTY_FOUR_SEVEN, t)


def test_overlapping_intervals_merge_and_are_not_counted_twice():
    cal = CalendarSpec(
        tz="UTC", intervals=(WeeklyInterval(0, 540, 720), WeeklyInterval(0, 660, 1020))
    )
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    assert business_minutes_between(cal, monday, monday + timedelta(days=1)) == 480


def test_naive_datetimes_and_bad_specs_are_refused():
    with pytest.raises(ValueError):
        add_business_minutes(OFFICE, datetime(2026, 1, 1), 5)
    with pytest.raises(ValueError):
        CalendarSpec(tz="UTC")
    with pytest.raises(ValueError):
        WeeklyInterval(7, 0, 60)
    with pytest.raises(ValueError):
        WeeklyInterval(0, 60, 60)
    with pytest.raises(ValueError):
        add_business_minutes(OFFICE, local(2026, 1, 1), -1)
    assert parse_hhmm("24:00") == 1440
    with pytest.raises(ValueError):
        parse_hhmm("9:75")


def test_between_is_negative_when_reversed():
    a, b = local(2026, 11, 23, 9), local(2026, 11, 23, 10)
    assert business_minutes_between(OFFICE, b, a) == -60


# --- properties ------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Santiago",
]


@st.composite
def interval(draw):
    start = draw(st.integers(0, 1439))
    duration = draw(st.integers(30, 1440 if start == 0 else 1439))
    end = start + duration if start + duration <= 1440 else start + duration - 1440
    return WeeklyInterval(draw(st.integers(0, 6)), start, end)


@st.composite
def calendars(draw):
    if draw(st.integers(0, 9)) == 0:
        return TWENTY_FOUR_SEVEN
    tz = draw(st.sampled_from(ZONES))
    ivs = tuple(draw(st.lists(interval(), min_size=1, max_size=8)))
    holidays = tuple(
        draw(
            st.lists(
                st.builds(
                    Holiday,
                    day=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
                    yearly=st.booleans(),
                ),
                max_size=6,
            )
        )
    )
    return CalendarSpec(tz=tz, intervals=ivs, holidays=holidays)


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
minutes = st.floats(0, 3_000, allow_nan=False, allow_infinity=False)

PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(calendars(), instants, minutes)
def test_between_inverts_add(cal, start, m):
    end = add_business_minutes(cal, start, m)
    assert end >= start
    assert business_minutes_between(cal, start, end) == pytest.approx(m, abs=1e-6)


@PROPERTY
@given(calendars(), instants, minutes)
def test_add_ends_inside_open_time(cal, start, m):
    assume(m >= 1 / 60)
    end = add_business_minutes(cal, start, m)
    # The last counted instant is open: the result is at or just after open time.
    assert is_open(cal, end - timedelta(microseconds=1))


@PROPERTY
@given(calendars(), instants, minutes, minutes)
def test_add_is_monotonic_and_additive(cal, start, m1, m2):
    a = add_business_minutes(cal, start, min(m1, m2))
    b = add_business_minutes(cal, start, max(m1, m2))
    assert a <= b
    chained = add_business_minutes(cal, add_business_minutes(cal, start, m1), m2)
    direct = add_business_minutes(cal, start, m1 + m2)
    assert abs((chained - direct).total_seconds()) < 1e-3


@PROPERTY
@given(
    calendars(),
    instants,
    st.timedeltas(timedelta(0), timedelta(days=40)),
    st.timedeltas(timedelta(0), timedelta(days=40)),
)
def test_between_is_additive_and_bounded_by_elapsed(cal, a, d1, d2):
    b, c = a + d1, a + d1 + d2
    ab = business_minutes_between(cal, a, b)
    bc = business_minutes_between(cal, b, c)
    assert ab + bc == pytest.approx(business_minutes_between(cal, a, c), abs=1e-6)
    assert 0 <= ab <= (b - a).total_seconds() / 60 + 1e-9


@PROPERTY
@given(calendars(), instants)
def test_next_open_is_the_first_open_instant(cal, t):
    n = next_open(cal, t)
    assert n >= t
    assert is_open(cal, n)
    assert business_minutes_between(cal, t, n) == 0


@PROPERTY
@given(calendars(), instants)
def test_is_open_agrees_with_counted_time(cal, t):
    t = t.replace(second=30, microsecond=0)  # spans start on whole minutes
    assert is_open(cal, t) == (business_minutes_between(cal, t, t + timedelta(seconds=1)) > 0)


@PROPERTY
@given(calendars(), st.integers(2025, 2028))
def test_holidays_cancel_shifts_that_start_on_them(cal, year):
    assume(not cal.always_open and cal.holidays)
    holiday = cal.holidays[0]
    d = holiday.day
    if holiday.yearly:
        assume(not (d.month == 2 and d.day == 29))
        d = d.replace(year=year)
    zone = ZoneInfo(cal.tz)
    # Any instant of that local date after all of the previous day's shifts have ended.
    previous_day_ends = [
        datetime(d.year, d.month, d.day, tzinfo=zone) + timedelta(minutes=iv.end)
        for iv in cal.intervals
        if iv.crosses_midnight and iv.weekday == (d.weekday() - 1) % 7
    ]
    t = max([datetime(d.year, d.month, d.day, tzinfo=zone), *previous_day_ends])
    day_end = datetime(d.year, d.month, d.day, tzinfo=zone) + timedelta(days=1)
    if t < day_end:
        assert business_minutes_between(cal, t, day_end) == 0


def test_new_york_office_week_is_forty_hours_across_the_dst_week():
    cal = CalendarSpec(tz="America/New_York", intervals=weekdays("09:00", "17:00"))
    # The week containing the November change (Sunday 2026-11-01).
    start = datetime(2026, 10, 31, tzinfo=NEW_YORK)
    assert business_minutes_between(cal, start, start + timedelta(days=7)) == 40 * 60
