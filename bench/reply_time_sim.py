"""A simulated month of email traffic, to measure how honest the expected-reply promise is.

Every customer gets a promise at the moment their message arrives, computed by the production
estimator (helpline.sla.estimate.estimate_reply) from what Helpline itself could observe at that
moment: the policy's calendar and due time, the tickets ahead in the queue, and the replies sent
over the last hour of business time. The simulation then plays out what really happens (agents on
shifts, some absent, picking the most urgent ticket, each ticket taking a random handling time)
and compares each promise with the actual reply.

    python bench/reply_time_sim.py [--days 30] [--seed 7] [--per-day 180]

The last line is ``promises kept: P% median error: M min``: P is the share of customers answered
no later than promised, M the median of |reply - promise| in minutes. Promises are never later
than the SLA due time (the estimator caps them there).
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import math
import os
import platform
import random
import statistics
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from helpline.sla.business_hours import (
    CalendarSpec,
    WeeklyInterval,
    add_business_minutes,
    parse_hhmm,
)
from helpline.sla.estimate import (
    HOURS_PER_WEEK,
    PROFILE_WEEKS,
    SUSTAINED_WINDOW_MINUTES,
    Capacity,
    estimate_reply,
    rate_window_start,
)

ZONE = ZoneInfo("Europe/Berlin")
# The shop's support hours: the policy calendar. Weekdays 08:00-18:00, Saturday 10:00-14:00.
CALENDAR = CalendarSpec(
    tz="Europe/Berlin",
    intervals=(
        *(WeeklyInterval(d, parse_hhmm("08:00"), parse_hhmm("18:00")) for d in range(5)),
        WeeklyInterval(5, parse_hhmm("10:00"), parse_hhmm("14:00")),
    ),
    name="Shop support hours",
)
# First-response targets in business minutes: normal one business day, urgent two hours.
TARGETS = {"normal": 600, "urgent": 120}
URGENT_SHARE = 0.1

# Arrivals per hour of the local day (relative), and per weekday (relative).
HOURLY_SHAPE = [
    0.2,
    0.15,
    0.1,
    0.1,
    0.1,
    0.2,
    0.4,
    0.8,
    1.3,
    1.7,
    1.9,
    1.8,
    1.5,
    1.6,
    1.7,
    1.6,
    1.4,
    1.2,
    1.0,
    0.9,
    0.8,
    0.7,
    0.5,
    0.3,
]
WEEKLY_SHAPE = [1.35, 1.15, 1.05, 1.0, 0.95, 0.6, 0.5]

# Shifts: (weekday set, start, end, agents).
SHIFTS = [
    (range(5), "08:00", "16:00", 3),
    (range(5), "10:00", "18:00", 3),
    (range(5), "12:00", "18:00", 1),
    ([5], "10:00", "14:00", 2),
]
ABSENCE = 0.06  # chance an agent misses a given shift
HANDLING_MEAN_MIN = 11.0
HANDLING_SIGMA = 0.6  # of the log-normal


@dataclass(order=True)
class Waiting:
    due: datetime
    seq: int
    arrived: datetime = field(compare=False)
    promise: datetime = field(compare=False)
    capped: bool = field(compare=False)


@dataclass
class Outcome:
    arrived: datetime
    promise: datetime
    due: datetime
    capped: bool
    replied: datetime | None = None


def local(day: datetime, hhmm: str) -> datetime:
    minutes = parse_hhmm(hhmm)
    wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return wall.replace(tzinfo=ZONE).astimezone(UTC)


def arrivals(rng: random.Random, start: datetime, days: int, per_day: float) -> list[datetime]:
    """A non-homogeneous Poisson process, thinned from the peak rate."""
    mean_shape = sum(HOURLY_SHAPE) / 24 * sum(WEEKLY_SHAPE) / 7
    peak = per_day / 24 / mean_shape * max(HOURLY_SHAPE) * max(WEEKLY_SHAPE)  # per hour
    out: list[datetime] = []
    t = start
    end = start + timedelta(days=days)
    while True:
        t += timedelta(hours=rng.expovariate(peak))
        if t >= end:
            return out
        lt = t.astimezone(ZONE)
        rate = per_day / 24 / mean_shape * HOURLY_SHAPE[lt.hour] * WEEKLY_SHAPE[lt.weekday()]
        if rng.random() < rate / peak:
            out.append(t)


def shifts(rng: random.Random, start: datetime, days: int) -> list[tuple[datetime, datetime]]:
    out = []
    for offset in range(days + 1):
        day = (start + timedelta(days=offset)).astimezone(ZONE)
        for weekdays, begin, end, agents in SHIFTS:
            if day.weekday() not in weekdays:
                continue
            for _ in range(agents):
                if rng.random() >= ABSENCE:
                    out.append((local(day, begin), local(day, end)))
    return out


def simulate(*, days: int, seed: int, per_day: float) -> list[Outcome]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 2, tzinfo=ZONE).astimezone(UTC)  # a Monday
    # Warm-up: four weeks before the measured month, so the weekly profile has a history.
    warmup = 7 * PROFILE_WEEKS
    begin = start - timedelta(days=warmup)
    arrival_times = arrivals(rng, begin, days + warmup, per_day)
    shift_list = shifts(rng, begin, days + warmup)
    mu = math.log(HANDLING_MEAN_MIN) - HANDLING_SIGMA**2 / 2

    # Events: (time, order, kind, payload). Order makes completions free an agent before the
    # same-minute arrival is estimated, and shift ends come last.
    events: list[tuple[datetime, int, int, str, int]] = []
    seq = 0

    def push(t: datetime, order: int, kind: str, payload: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, order, seq, kind, payload))

    for i, t in enumerate(arrival_times):
        push(t, 2, "arrive", i)
    for a, (s, e) in enumerate(shift_list):
        push(s, 1, "shift_start", a)
        push(e, 3, "shift_end", a)

    queue: list[Waiting] = []
    outcomes: list[Outcome] = []
    reply_times: list[datetime] = []  # sorted, every reply sent
    on_shift: set[int] = set()
    idle: set[int] = set()
    busy: dict[int, int] = {}  # agent -> outcome index
    in_service = 0
    # The weekly profile over the last PROFILE_WEEKS weeks, kept incrementally.
    how_counts = [0] * HOURS_PER_WEEK
    window_first = 0  # index in reply_times of the oldest reply still in the profile window

    def hour_of_week(t: datetime) -> int:
        lt = t.astimezone(ZONE)
        return lt.weekday() * 24 + lt.hour

    def start_work(agent: int, now: datetime) -> None:
        nonlocal in_service
        if not queue:
            idle.add(agent)
            return
        item = heapq.heappop(queue)
        idle.discard(agent)
        busy[agent] = item.seq
        in_service += 1
        handling = timedelta(minutes=rng.lognormvariate(mu, HANDLING_SIGMA))
        push(now + handling, 0, "done", agent)

    while events:
        now, _order, _seq, kind, payload = heapq.heappop(events)
        if kind == "shift_start":
            on_shift.add(payload)
            start_work(payload, now)
        elif kind == "shift_end":
            on_shift.discard(payload)
            idle.discard(payload)  # a busy agent finishes the ticket in hand, then leaves
        elif kind == "done":
            agent = payload
            outcomes[busy.pop(agent)].replied = now
            in_service -= 1
            reply_times.append(now)  # events come in time order: the list stays sorted
            how_counts[hour_of_week(now)] += 1
            if agent in on_shift:
                start_work(agent, now)
        elif kind == "arrive":
            urgent = rng.random() < URGENT_SHARE
            due = add_business_minutes(CALENDAR, now, TARGETS["urgent" if urgent else "normal"])
            index = len(outcomes)
            # What Helpline can observe now: tickets owed a reply that the queue serves first
            # (queued with an earlier due time, or already in an agent's hands) ...
            ahead = in_service + sum(1 for w in queue if (w.due, w.seq) < (due, index))
            # ... and the replies of the last hour of business time.
            window_start, minutes = rate_window_start(CALENDAR, now)
            count = len(reply_times) - bisect.bisect_left(reply_times, window_start)
            day_start, day_minutes = rate_window_start(CALENDAR, now, SUSTAINED_WINDOW_MINUTES)
            day_count = len(reply_times) - bisect.bisect_left(reply_times, day_start)
            while window_first < len(reply_times) and reply_times[window_first] < now - timedelta(
                weeks=PROFILE_WEEKS
            ):
                how_counts[hour_of_week(reply_times[window_first])] -= 1
                window_first += 1
            capacity = Capacity(
                count / minutes if minutes > 0 else 0.0,
                day_count / day_minutes if day_minutes else None,
                weekly_profile=tuple(c / PROFILE_WEEKS for c in how_counts),
            )
            expected = estimate_reply(
                now=now, calendar=CALENDAR, sla_due_at=due, work_ahead=ahead, capacity=capacity
            )
            outcomes.append(Outcome(now, expected.at, due, expected.basis == "policy"))
            heapq.heappush(queue, Waiting(due, index, now, expected.at, expected.basis == "policy"))
            if idle:
                start_work(min(idle), now)
    return [o for o in outcomes if o.arrived >= start]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-day", type=float, default=180.0)
    args = parser.parse_args()

    outcomes = simulate(days=args.days, seed=args.seed, per_day=args.per_day)
    answered = [(o, o.replied) for o in outcomes if o.replied is not None]
    kept = sum(1 for o, replied in answered if replied <= o.promise)
    errors = [abs((replied - o.promise).total_seconds()) / 60 for o, replied in answered]
    sla_met = sum(1 for o, replied in answered if replied <= o.due)
    late_promises = sum(1 for o in outcomes if o.promise > o.due)
    capped = sum(1 for o in outcomes if o.capped)
    waits = [(replied - o.arrived).total_seconds() / 60 for o, replied in answered]
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"simulated: {args.days} days from 2026-11-02, seed {args.seed}, "
        f"{len(outcomes)} tickets ({len(answered)} answered), calendar {CALENDAR.name}"
    )
    print(
        f"SLA first response met: {100 * sla_met / len(answered):.1f}%  "
        f"promises later than the SLA due time: {late_promises}  "
        f"promises at the SLA cap: {100 * capped / len(outcomes):.1f}%  "
        f"slipped (customer told): {len(answered) - kept}"
    )
    free = [(o, replied) for o, replied in answered if not o.capped]
    free_kept = sum(1 for o, replied in free if replied <= o.promise)
    print(
        f"promises below the SLA cap: {len(free)}, kept {100 * free_kept / max(len(free), 1):.1f}%;"
        f" at the cap: {len(answered) - len(free)}, kept "
        f"{100 * (kept - free_kept) / max(len(answered) - len(free), 1):.1f}%"
    )
    print(
        f"actual wait (real minutes): median {statistics.median(waits):.0f}, "
        f"p90 {statistics.quantiles(waits, n=10)[-1]:.0f}"
    )
    print(
        f"promises kept: {100 * kept / len(answered):.1f}% "
        f"median error: {statistics.median(errors):.0f} min"
    )


if __name__ == "__main__":
    main()
