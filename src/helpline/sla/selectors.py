"""Reads for SLAs: a ticket's history as the clocks see it, its computed clocks, the queue
views ("breaching soon", "breached") and a user's notifications."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)

from helpline.accounts.models import User
from helpline.sla.clocks import Clocks, History, compute_clocks
from helpline.sla.models import Notification, TicketSla
from helpline.sla.policies import PolicyRule, load_policies, match_policy, ticket_facts
from helpline.tickets.choices import ACTIVE_STATUSES, PRIORITY_RANK, Direction, EventKind, Status
from helpline.tickets.models import Message, Ticket, TicketEvent

# --- history ---------------------------------------------------------------------------------


def _history(
    ticket: Ticket,
    status_events: Iterable[tuple[datetime, str]],
    messages: Iterable[tuple[datetime, str, bool]],
) -> History:
    changes = sorted(status_events)
    # Tickets written without a timeline (bulk imports) still end in their current status.
    last = changes[-1][1] if changes else Status.NEW
    if last != ticket.status:
        changes.append((max(ticket.updated_at, ticket.created_at), ticket.status))
    customer: list[datetime] = []
    replies: list[datetime] = []
    for at, direction, automatic in messages:
        if direction == Direction.INBOUND and not automatic:  # an out-of-office owes nothing
            customer.append(at)
        elif direction == Direction.OUTBOUND and not automatic:
            replies.append(at)
    if ticket.first_responded_at is not None and not replies:
        replies.append(ticket.first_responded_at)
    return History(
        created_at=ticket.created_at,
        status_changes=tuple(changes),
        customer_messages=tuple(sorted(customer)),
        agent_replies=tuple(sorted(replies)),
    )


def ticket_histories(tickets: Sequence[Ticket]) -> dict[int, History]:
    """Histories of many tickets in two queries."""
    ids = [t.pk for t in tickets]
    statuses: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for ticket_id, at, data in TicketEvent.objects.filter(
        ticket_id__in=ids, kind=EventKind.STATUS
    ).values_list("ticket_id", "created_at", "data"):
        if isinstance(data, dict) and "to" in data:
            statuses[ticket_id].append((at, str(data["to"])))
    messages: dict[int, list[tuple[datetime, str, bool]]] = defaultdict(list)
    for ticket_id, at, direction, automatic in Message.objects.filter(
        ticket_id__in=ids, direction__in=(Direction.INBOUND, Direction.OUTBOUND)
    ).values_list("ticket_id", "created_at", "direction", "is_automatic"):
        messages[ticket_id].append((at, direction, automatic))
    return {t.pk: _history(t, statuses[t.pk], messages[t.pk]) for t in tickets}


@dataclass(frozen=True)
class Computed:
    rule: PolicyRule | None
    clocks: Clocks | None


def ticket_sla_compute(
    *,
    ticket: Ticket,
    now: datetime,
    policies: Sequence[PolicyRule] | None = None,
    history: History | None = None,
    tags: Iterable[str] | None = None,
) -> Computed:
    """The policy and clocks of ``ticket`` at ``now``, without writing anything."""
    rules = load_policies() if policies is None else policies
    rule = match_policy(rules, ticket_facts(ticket, tags=tags))
    if rule is None:
        return Computed(None, None)
    targets = rule.targets_for(ticket.priority)
    assert targets is not None  # match_policy only returns rules with targets
    if history is None:
        history = ticket_histories([ticket])[ticket.pk]
    return Computed(
        rule, compute_clocks(history=history, targets=targets, calendar=rule.calendar, now=now)
    )


def ticket_sla_get(*, ticket_id: int) -> TicketSla | None:
    return TicketSla.objects.select_related("policy").filter(ticket_id=ticket_id).first()


def tickets_breaching_soon(
    *, queryset: QuerySet[Ticket], now: datetime, within: timedelta = timedelta(hours=1)
) -> QuerySet[Ticket]:
    """Active tickets with a running clock due within ``within`` and not yet breached,
    most urgent first. ``queryset`` is already scoped to what the viewer may see."""
    return queryset.filter(
        status__in=ACTIVE_STATUSES,
        sla__next_due_at__gt=now,
        sla__next_due_at__lte=now + within,
    ).order_by("sla__next_due_at", "id")


def tickets_breached(*, queryset: QuerySet[Ticket], now: datetime) -> QuerySet[Ticket]:
    """Active tickets with a running clock past its due time, most overdue first."""
    return queryset.filter(status__in=ACTIVE_STATUSES, sla__next_due_at__lte=now).order_by(
        "sla__next_due_at", "id"
    )


def tickets_by_urgency(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The priority-queue order: earliest due time first (tickets without a running clock
    last), then higher priority, then oldest."""
    rank = Case(
        *(When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    return queryset.annotate(_urgency=rank).order_by(
        F("sla__next_due_at").asc(nulls_last=True), "-_urgency", "created_at", "id"
    )


# How many of the earliest running clocks the queue looks at per ticket it shows: a first
# window, then a wider one for a narrow view (an agent restricted to a small team).
_CLOCK_WINDOWS = (10, 100)


def _running_clocks() -> QuerySet[TicketSla]:
    return TicketSla.objects.filter(next_due_at__isnull=False).order_by("next_due_at", "ticket_id")


def _window_edge(window: int) -> datetime | None:
    """The due time of the ``window``-th earliest running clock; None when there are fewer."""
    edge = list(_running_clocks().values_list("next_due_at", flat=True)[window - 1 : window])
    return edge[0] if edge else None


def _running_clock_ids(queryset: QuerySet[Ticket], limit: int) -> list[int] | None:
    """Ids of the first ``limit`` tickets of ``queryset`` with a running clock, in queue order,
    looking only at the ``limit * window`` clocks due first (primary-key lookups off the
    ``next_due_at`` index), so an agent who sees a share of the backlog (restricted to her
    teams) does not make PostgreSQL read and sort her whole share. None when no window can
    prove the answer (too few of its tickets visible, or a tie at its edge): the caller then
    asks for the full ordering."""
    edge: datetime | None = None
    for step, per_ticket in enumerate(_CLOCK_WINDOWS):
        window = limit * per_ticket
        clocks: list[int] | Subquery
        if step == 0:
            # The first window's ids in hand (a range read of a few hundred index entries):
            # PostgreSQL then looks each one up by primary key. Given them as a subquery, it
            # may read every open ticket instead and hash-join them against it (25-50 ms on
            # hl_bench, where the default random_page_cost makes 500 lookups look dearer).
            clocks = list(_running_clocks().values_list("ticket_id", flat=True)[:window])
            edge = _window_edge(window) if len(clocks) == window else None
        else:
            clocks = Subquery(_running_clocks().values("ticket_id")[:window])
        rows = list(
            tickets_by_urgency(queryset.filter(sla__next_due_at__isnull=False, pk__in=clocks))
            .prefetch_related(None)
            .values_list("id", "sla__next_due_at")[:limit]
        )
        if edge is None:  # fewer running clocks than the window: every one was considered
            return [pk for pk, _ in rows]
        last_due = rows[-1][1] if len(rows) == limit else None
        if last_due is not None and last_due < edge:
            # Every clock outside the window is due at or after its edge, later than the last.
            return [pk for pk, _ in rows]
        if len(rows) == limit:
            return None  # a tie at the edge: a wider window would not settle it cheaply
        if step + 1 == len(_CLOCK_WINDOWS):
            return None
        wider = _CLOCK_WINDOWS[step + 1]
        edge = _window_edge(limit * wider)
        if edge is not None and len(rows) * wider // per_ticket < limit:
            # The viewer sees so little of this window that the wider one (which does not hold
            # every running clock either) would likely not fill the page: go straight to the
            # full ordering of her share. When the wider window holds every running clock
            # (few clocks, as on an install whose SLAs are new), it is complete: read it.
            return None
    return None


def _clockless_ids(queryset: QuerySet[Ticket], limit: int) -> list[int]:
    """The first ``limit`` tickets without a running clock in queue order (higher priority,
    then oldest), one priority at a time: each is a range read of the active tickets' index on
    (priority, created_at, id) that stops at ``limit``, instead of ranking every clockless
    ticket the viewer may see with a CASE expression no index can serve. "No running clock" is
    a NOT EXISTS (an anti-join probing the clocks' primary key per ticket read): a LEFT JOIN
    with ``next_due_at IS NULL`` made PostgreSQL expect a handful of rows and read and sort
    every visible ticket of the priority instead (restricted agent: 12 ms -> 0.5 ms)."""
    running = TicketSla.objects.filter(ticket_id=OuterRef("pk"), next_due_at__isnull=False)
    ids: list[int] = []
    for priority in sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__, reverse=True):
        if len(ids) >= limit:
            break
        ids += (
            queryset.filter(~Exists(running), priority=priority)
            .prefetch_related(None)
            .order_by("created_at", "id")
            .values_list("id", flat=True)[: limit - len(ids)]
        )
    return ids


def _urgency_key(row: tuple[int, datetime, str, datetime]) -> tuple[datetime, int, datetime, int]:
    """``tickets_by_urgency``'s ORDER BY, for a ticket with a running clock."""
    pk, due, priority, created_at = row
    return (due, -PRIORITY_RANK.get(priority, 0), created_at, pk)


_Row = tuple[int, datetime, str, datetime]


def _urgent_rows(part: QuerySet[Ticket], limit: int) -> list[_Row]:
    """The first ``limit`` of ``part`` (tickets with a running clock) in queue order."""
    rows: list[_Row] = []
    for pk, due, priority, created_at in (
        tickets_by_urgency(part)
        .prefetch_related(None)
        .values_list("id", "sla__next_due_at", "priority", "created_at")[:limit]
    ):
        assert due is not None  # a running clock
        rows.append((pk, due, priority, created_at))
    return rows


def _team_rows(queryset: QuerySet[Ticket], limit: int, team_id: int) -> list[_Row]:
    """The first ``limit`` tickets of ``queryset`` whose running clock is the team's, in queue
    order. The team's first ``2 * limit`` clocks are read off the index first and their tickets
    looked up by primary key: joined in one query, PostgreSQL (which cannot know that nearly
    every one of her team's clocks is on a ticket she sees) expects to walk thousands of clocks
    and starts a parallel worker for it (30 ms at 13,000 running clocks on her team). Every
    clock past the window is due at or after its edge; when the page does not end before the
    edge, the one query over all the team's clocks decides."""
    part = queryset.filter(sla__team_id=team_id, sla__next_due_at__isnull=False)
    window = 2 * limit
    clocks = list(
        TicketSla.objects.filter(team_id=team_id, next_due_at__isnull=False)
        .order_by("next_due_at", "ticket_id")
        .values_list("ticket_id", "next_due_at")[:window]
    )
    rows = _urgent_rows(part.filter(pk__in=[pk for pk, _ in clocks]), limit)
    edge = clocks[-1][1] if clocks else None
    if len(clocks) < window or (edge is not None and len(rows) == limit and rows[-1][1] < edge):
        return rows
    return _urgent_rows(part, limit)


def _restricted_clock_ids(
    queryset: QuerySet[Ticket], limit: int, team_ids: Sequence[int], assignee_id: int
) -> list[int]:
    """Ids of the first ``limit`` tickets of ``queryset`` with a running clock, in queue order,
    when every ticket of ``queryset`` is in one of ``team_ids`` or assigned to ``assignee_id``
    (an agent restricted to her teams): the first ``limit`` of each team, read off the clocks'
    ``(team, next_due_at)`` index (``TicketSla.team`` is the ticket's team), and of her own
    tickets, then merged in queue order. Each part is a prefix of the same total order, so the
    first ``limit`` of their union are the first ``limit`` of all of them."""
    rows: set[_Row] = set()
    for team_id in sorted(set(team_ids)):
        rows.update(_team_rows(queryset, limit, team_id))
    own = queryset.filter(assignee_id=assignee_id, sla__next_due_at__isnull=False)
    rows.update(_urgent_rows(own, limit))
    return [row[0] for row in sorted(rows, key=_urgency_key)[:limit]]


def tickets_most_urgent(
    *, queryset: QuerySet[Ticket], limit: int, viewer: User | None = None
) -> list[Ticket]:
    """The first ``limit`` tickets of ``tickets_by_urgency(queryset)``, in that order.

    ``viewer``: whom ``queryset`` is scoped to (``ticket_visible_to``). For an agent restricted
    to her teams the tickets with a running clock are read per team off the clocks' team index
    (``_restricted_clock_ids``) instead of the windows over every running clock, which cannot
    settle her queue while the earliest clocks are on tickets she cannot see.

    One ORDER BY over the left join makes PostgreSQL sort every open ticket with its columns
    (150 ms at 40,000 open of 1 M, spilling to disk). Split at the NULLS LAST boundary instead:
    tickets with a running clock come off the ``next_due_at`` index in order; only if they are
    fewer than ``limit`` are the others ranked, and then by id alone (a narrow sort). The rows
    themselves are read last, by primary key, with whatever ``queryset`` selects and prefetches.
    """
    ids: list[int] | None
    if viewer is not None and viewer.restricted_to_teams and not viewer.is_supervisor_or_admin:
        team_ids = list(viewer.teams.values_list("id", flat=True))
        ids = _restricted_clock_ids(queryset, limit, team_ids, viewer.pk)
    else:
        ids = _running_clock_ids(queryset, limit)
    if ids is None:
        ids = list(
            tickets_by_urgency(queryset.filter(sla__next_due_at__isnull=False))
            .prefetch_related(None)
            .values_list("id", flat=True)[:limit]
        )
    if len(ids) < limit:
        ids += _clockless_ids(queryset, limit - len(ids))
    if not ids:
        return []
    by_id = {t.pk: t for t in queryset.filter(pk__in=ids).order_by()}
    return [by_id[pk] for pk in ids if pk in by_id]


def notification_list(*, user_id: int, unread_only: bool = True) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user_id=user_id).select_related("ticket")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs
