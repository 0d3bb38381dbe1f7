"""The expected reply time: the pure estimator, its phrasing, and the database inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from helpline.accounts.tests.factories import TeamFactory
from helpline.sla.business_hours import TWENTY_FOUR_SEVEN, CalendarSpec, Holiday, weekdays
from helpline.sla.expected import (
    Capacity,
    ExpectedReply,
    estimate_reply,
    expected_reply_at,
    phrase_expected_reply,
    work_ahead_of,
)
from helpline.sla.models import TicketSla
from helpline.sla.tests.factories import make_calendar, make_policy
from helpline.tickets.choices import Status
from helpline.tickets.services import reply_add, ticket_update
from helpline.tickets.tests.factories import make_ticket

BERLIN_OFFICE = CalendarSpec(tz="Europe/Berlin", intervals=weekdays("09:00", "17:00"))
# Monday 23 November 2026 10:00 in Berlin.
MONDAY_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def phrase(at: datetime, now: datetime = MONDAY_10, lang: str = "en") -> str:
    return phrase_expected_reply(ExpectedReply(at, "queue", BERLIN_OFFICE), now, language=lang)


def test_phrases_in_the_calendars_time_zone():
    assert phrase(MONDAY_10 + timedelta(seconds=30)) == "within a minute"
    assert phrase(MONDAY_10 + timedelta(minutes=4)) == "within 5 minutes"
    assert phrase(MONDAY_10 + timedelta(minutes=50)) == "within 60 minutes"
    # 14:52 Berlin rounds up to the quarter hour: never earlier than the promise.
    assert phrase(MONDAY_10 + timedelta(hours=4, minutes=52)) == "today by 15:00"
    assert phrase(MONDAY_10 + timedelta(days=1)) == "tomorrow by 10:00"
    assert phrase(MONDAY_10 + timedelta(days=3, hours=-1)) == "Thursday morning"
    assert phrase(MONDAY_10 + timedelta(days=3, hours=4)) == "Thursday by 14:00"
    assert phrase(MONDAY_10 + timedelta(days=10)) == "by 3 December"
    assert phrase(MONDAY_10 + timedelta(days=1), lang="de") == "morgen bis 10:00 Uhr"
    assert phrase(MONDAY_10 + timedelta(days=1), lang="fr-CA") == "demain avant 10:00"
    assert phrase(MONDAY_10 + timedelta(days=1), lang="xx") == "tomorrow by 10:00"


def test_without_a_measured_rate_the_sla_due_time_is_promised():
    due = MONDAY_10 + timedelta(hours=3)
    result = estimate_reply(
        now=MONDAY_10, calendar=TWENTY_FOUR_SEVEN, sla_due_at=due, work_ahead=4, capacity=None
    )
    assert (result.at, result.basis) == (due, "policy")


def test_queue_estimate_grows_with_work_ahead_and_is_capped_by_the_sla():
    due = MONDAY_10 + timedelta(hours=3)
    rate = Capacity(replies_per_minute=0.5)
    short = estimate_reply(
        now=MONDAY_10, calendar=TWENTY_FOUR_SEVEN, sla_due_at=due, work_ahead=0, capacity=rate
    )
    longer = estimate_reply(
        now=MONDAY_10, calendar=TWENTY_FOUR_SEVEN, sla_due_at=due, work_ahead=20, capacity=rate
    )
    assert short.basis == longer.basis == "queue"
    assert MONDAY_10 < short.at < longer.at < due
    swamped = estimate_reply(
        now=MONDAY_10, calendar=TWENTY_FOUR_SEVEN, sla_due_at=due, work_ahead=500, capacity=rate
    )
    assert (swamped.at, swamped.basis) == (due, "policy")


def test_queue_estimate_counts_only_business_time():
    friday_1650 = datetime(2026, 11, 27, 15, 50, tzinfo=UTC)
    result = estimate_reply(
        now=friday_1650,
        calendar=BERLIN_OFFICE,
        sla_due_at=None,
        work_ahead=5,
        capacity=Capacity(replies_per_minute=0.2),
    )
    assert result.at.weekday() == 0  # Monday, the queue does not move at the weekend


@pytest.mark.django_db(transaction=True)
def test_expected_reply_at_uses_policy_then_the_measured_queue(frozen, agent):
    office = make_calendar(time_zone="UTC", hours=("08:00", "18:00"))
    make_policy(first=240, calendar=office)
    first = make_ticket()
    expected = expected_reply_at(ticket=first)
    assert expected.basis == "policy"
    assert expected.at == frozen.current + timedelta(minutes=240)
    assert expected.calendar.tz == "UTC"

    # An hour of agents answering two tickets a minute... well, 30 in an hour.
    for _ in range(30):
        t = make_ticket()
        frozen.advance(minutes=2)
        reply_add(ticket=t, author=agent, body_text="answer")
    waiting = [make_ticket() for _ in range(3)]
    expected = expected_reply_at(ticket=waiting[-1])
    assert expected.basis == "queue"
    assert expected.work_ahead == 3  # the first ticket and the two before it
    assert frozen.current < expected.at < frozen.current + timedelta(minutes=240)


def test_weekly_profile_carries_the_queue_over_closed_hours_and_holidays():
    # Agents reply 6 an hour on weekdays 09-17 (Berlin); nothing otherwise.
    profile = tuple(6.0 if d < 5 and 9 <= h < 17 else 0.0 for d in range(7) for h in range(24))
    friday_1630 = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
    capacity = Capacity(replies_per_minute=0.1, weekly_profile=profile)
    result = estimate_reply(
        now=friday_1630,
        calendar=BERLIN_OFFICE,
        sla_due_at=None,
        work_ahead=10,
        capacity=capacity,
    )
    local = result.at.astimezone(BERLIN_OFFICE.zone)
    assert result.basis == "queue"
    assert (local.weekday(), 9) <= (0, local.hour) < (0, 12)  # Monday morning
    closed_monday = CalendarSpec(
        tz="Europe/Berlin",
        intervals=BERLIN_OFFICE.intervals,
        holidays=(Holiday(date(2026, 11, 30)),),
    )
    later = estimate_reply(
        now=friday_1630,
        calendar=closed_monday,
        sla_due_at=None,
        work_ahead=10,
        capacity=capacity,
    )
    assert later.at.astimezone(BERLIN_OFFICE.zone).weekday() == 1  # the holiday is skipped


def test_the_weekly_profile_is_reused_within_the_hour_and_the_live_rates_are_not(frozen, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from helpline.sla.expected import measured_capacity, reuse_cache_clear

    channel = make_ticket().channel
    for _ in range(6):
        reply_add(ticket=make_ticket(), author=agent, body_text="answer")
    frozen.advance(days=8)  # a week and more of history: a profile exists
    reuse_cache_clear()

    def measure(max_age: float):
        with CaptureQueriesContext(connection) as queries:
            capacity = measured_capacity(
                channel=channel,
                team_id=None,
                calendar=TWENTY_FOUR_SEVEN,
                now=frozen.current,
                profile_max_age=max_age,
            )
        return capacity, len(queries)

    first, full = measure(1800)
    assert first is not None and first.weekly_profile is not None
    assert sum(first.weekly_profile) > 0
    again, fewer = measure(1800)
    assert fewer == full - 2  # the profile's two queries are not run again
    assert again == first
    # Replies sent now change the live rate at once, not the profile (until the hour turns).
    for _ in range(3):
        reply_add(ticket=make_ticket(), author=agent, body_text="answer")
    frozen.advance(minutes=1)  # the same clock hour
    live, _ = measure(1800)
    assert live is not None and live.replies_per_minute > first.replies_per_minute
    assert live.weekly_profile == first.weekly_profile
    assert measure(0)[0].weekly_profile != first.weekly_profile  # not reused: read afresh
    frozen.advance(hours=1)
    turned, queries = measure(1800)
    assert queries == full  # a new clock hour reads the profile again
    assert turned.weekly_profile != first.weekly_profile


def test_queue_capacity_is_read_once_inside_a_reuse_block_and_afresh_outside(frozen, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from helpline.sla.expected import queue_capacity, reuse_queue_inputs

    channel = make_ticket().channel
    reply_add(ticket=make_ticket(), author=agent, body_text="answer")
    frozen.advance(minutes=5)

    def read() -> tuple[object, int]:
        with CaptureQueriesContext(connection) as queries:
            capacity = queue_capacity(
                channel=channel, team_id=None, calendar=TWENTY_FOUR_SEVEN, now=frozen.current
            )
        return capacity, len(queries)

    outside, reads = read()
    assert outside is not None and reads > 0
    assert read()[1] == reads  # no block: every call reads
    with reuse_queue_inputs(15.0):
        inside, first = read()
        again, second = read()  # e.g. the batch's estimate, then the group's rate
    assert first == reads and second == 0
    assert inside == again == outside


@pytest.mark.django_db(transaction=True)
def test_work_ahead_counts_the_queue_of_the_tickets_channel_and_team_only(frozen, agent):
    """The place in the queue is read off the rows' ``queue_channel``: tickets owed a reply,
    new or open, of the same channel and team, served before this one. A ticket put on pending
    leaves the queue and comes back when it reopens; an answered one leaves it."""
    make_policy(first=240)
    team = TeamFactory()
    earlier = make_ticket()
    frozen.advance(minutes=1)
    make_ticket(channel="web")  # another channel's queue
    make_ticket(team=team)  # another team's queue
    parked = make_ticket()
    answered = make_ticket()
    twin = make_ticket()  # the same instant as parked, a higher number
    frozen.advance(minutes=1)
    mine = make_ticket()
    make_ticket()  # after mine: behind it
    reply_add(ticket=answered, author=agent, body_text="Here you go.")

    def ahead() -> tuple[int, int]:
        row = TicketSla.objects.get(ticket_id=mine.pk)
        return (
            work_ahead_of(ticket=mine, due_at=row.next_due_at, owed_since=mine.created_at),
            work_ahead_of(ticket=mine, due_at=None, owed_since=mine.created_at),
        )

    assert ahead() == (3, 3)  # earlier, parked and twin
    rows = dict(TicketSla.objects.values_list("ticket_id", "queue_channel"))
    assert rows[earlier.pk] == "email" and rows[answered.pk] is None

    ticket_update(ticket=parked, actor=agent, status=Status.PENDING)
    assert TicketSla.objects.get(ticket_id=parked.pk).queue_channel is None
    assert ahead() == (2, 2)
    parked.refresh_from_db()
    ticket_update(ticket=parked, actor=agent, status=Status.OPEN)
    assert ahead() == (3, 3)
    # The same due time and the same instant: the lower number goes first.
    for ticket, expected in ((parked, 1), (twin, 2)):
        due = TicketSla.objects.get(ticket_id=ticket.pk).next_due_at
        assert due == parked.created_at + timedelta(minutes=240)
        assert work_ahead_of(ticket=ticket, due_at=due, owed_since=ticket.created_at) == expected
        assert work_ahead_of(ticket=ticket, due_at=None, owed_since=ticket.created_at) == expected
