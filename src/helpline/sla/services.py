"""Writes for SLAs: recompute a ticket's clocks, raise warnings and breaches exactly once,
record and keep promises made to customers.

Transitions (warning, breach, slipped promise) are conditional updates on the flag column
(``filter(pk=..., <flag>__isnull=True).update(...)``): whichever worker's update returns 1 owns
the transition and writes its timeline event and notifications in the same transaction, so two
workers checking the same row never raise it twice (no row locks, SQLite has none).
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce

from helpline.accounts.choices import Role
from helpline.accounts.models import Team, User
from helpline.core import clock
from helpline.core.bulk import insert_rows, update_rows
from helpline.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from helpline.customers.choices import Channel
from helpline.customers.models import Organisation
from helpline.sla.business_hours import WeeklyInterval, parse_hhmm
from helpline.sla.choices import QUEUED_STATUSES, STOPPED_STATUSES, NotificationKind, Target
from helpline.sla.clocks import Clock, Clocks
from helpline.sla.expected import expected_reply_at, phrase_expected_reply, reuse_queue_inputs
from helpline.sla.models import (
    BusinessCalendar,
    CalendarHoliday,
    CalendarInterval,
    Notification,
    SlaPolicy,
    SlaTarget,
    TicketSla,
)
from helpline.sla.policies import PolicyRule, load_policies
from helpline.sla.selectors import Computed, ticket_histories, ticket_sla_compute
from helpline.tickets.choices import (
    ACTIVE_STATUSES,
    PRIORITY_RANK,
    EventKind,
    Priority,
    Status,
)
from helpline.tickets.models import Message, Ticket, TicketEvent
from helpline.tickets.services import reply_add, ticket_update

logger = logging.getLogger(__name__)

TARGETS: tuple[str, ...] = tuple(t.value for t in Target)
MAX_PROMISE_NOTICES = 2
SLIP_ESTIMATE_REUSE = 15.0  # seconds; see promise_slip_notify


# --- recompute -------------------------------------------------------------------------------


def _owed_since(clocks: Clocks | None, ticket: Ticket) -> datetime | None:
    """Since when the customer has been waiting for a reply (None: no reply owed)."""
    if ticket.status in STOPPED_STATUSES:
        return None
    if ticket.first_responded_at is None:
        return ticket.created_at
    nxt = clocks.next_response if clocks else None
    if nxt is not None and nxt.started_at is not None and nxt.met_at is None:
        return nxt.started_at
    return None


def _queue_channel(ticket: Ticket, owed_since: datetime | None) -> str | None:
    """The channel whose reply queue the ticket waits in: owed a reply, and new or open."""
    if owed_since is None or ticket.status not in QUEUED_STATUSES:
        return None
    return ticket.channel


def _fields(computed: Computed, ticket: Ticket, now: datetime) -> dict[str, Any]:
    clocks = computed.clocks
    owed_since = _owed_since(clocks, ticket)
    fields: dict[str, Any] = {
        "policy_id": computed.rule.id if computed.rule else None,
        "paused": bool(clocks and clocks.paused),
        "computed_at": now,
        "reply_owed_since": owed_since,
        # Kept equal to the ticket's: the restricted agent's queue reads clocks by team.
        "team_id": ticket.team_id,
        "queue_channel": _queue_channel(ticket, owed_since),
    }
    dues: list[datetime] = []
    for target in TARGETS:
        c: Clock | None = getattr(clocks, target) if clocks else None
        fields[f"{target}_target"] = c.target if c else None
        fields[f"{target}_consumed"] = round(c.consumed, 3) if c else 0.0
        due = c.due_at if c else None
        fields[f"{target}_due_at"] = due
        fields[f"{target}_warn_at"] = c.warn_reached_at if c and c.running else None
        if due is not None:
            dues.append(due)
    fields["next_response_started_at"] = clocks.next_response.started_at if clocks else None
    fields["next_due_at"] = min(dues) if dues else None
    return fields


def ticket_sla_recompute(
    *,
    ticket_id: int,
    now: datetime | None = None,
    policies: Sequence[PolicyRule] | None = None,
) -> TicketSla | None:
    """Derive the ticket's clocks from its history, store them, and raise any warning or breach
    that is already due. Idempotent; returns None when the ticket no longer exists."""
    now = now or clock.now()
    ticket = Ticket.objects.select_related("customer__organisation").filter(pk=ticket_id).first()
    if ticket is None:
        return None
    computed = ticket_sla_compute(ticket=ticket, now=now, policies=policies)
    row = _store(ticket, computed, now)
    _check_row(row, now, computed)
    return row


def _store(ticket: Ticket, computed: Computed, now: datetime) -> TicketSla:
    fields = _fields(computed, ticket, now)
    row = TicketSla.objects.filter(ticket_id=ticket.pk).first()
    if row is None:
        try:
            with transaction.atomic():
                # Stored with its first check time, so the check that follows writes nothing.
                return TicketSla.objects.create(
                    ticket_id=ticket.pk, next_check_at=_first_check(fields, None), **fields
                )
        except IntegrityError:
            row = TicketSla.objects.get(ticket_id=ticket.pk)  # a concurrent recompute won
    updates = _store_updates(row, fields)
    TicketSla.objects.filter(pk=row.pk).update(**updates)
    row.refresh_from_db()
    return row


def _store_updates(row: TicketSla, fields: dict[str, Any]) -> dict[str, Any]:
    """What storing freshly computed ``fields`` writes on an existing ``row``."""
    updates = dict(fields)
    if row.next_response_started_at != fields["next_response_started_at"]:
        # A new next-response cycle: its warning and breach are still to come.
        updates["next_response_warned_at"] = None
        updates["next_response_breached_at"] = None
    if row.reply_owed_since != fields["reply_owed_since"]:
        # The reply the promise was about was sent (or a new one is owed): promise settled.
        updates["promised_at"] = None
        updates["promise_notices"] = 0
    return updates


def tickets_sla_recompute(*, ticket_ids: Sequence[int], now: datetime | None = None) -> None:
    """``ticket_sla_recompute`` for many tickets (the worker's batch of customer messages):
    tickets, tags, histories and rows read together, the rows written by one bulk update per
    set of columns (each row gets exactly the columns the one-ticket path writes, so a flag
    another worker raised meanwhile is never written over), then anything due raised as the
    one-ticket path does. A ticket without a row yet takes the one-ticket path."""
    now = now or clock.now()
    ids = list(dict.fromkeys(ticket_ids))
    tickets = list(
        Ticket.objects.filter(pk__in=ids)
        .select_related("customer__organisation")
        .prefetch_related("tags")
        .order_by("id")
    )
    rows = {row.ticket_id: row for row in TicketSla.objects.filter(ticket_id__in=ids)}
    present = [t for t in tickets if t.pk in rows]
    rules = load_policies()
    histories = ticket_histories(present)
    groups: dict[tuple[str, ...], list[TicketSla]] = {}
    checks: list[tuple[TicketSla, Computed]] = []
    for ticket in present:
        computed = ticket_sla_compute(
            ticket=ticket,
            now=now,
            policies=rules,
            history=histories[ticket.pk],
            tags=[tag.name for tag in ticket.tags.all()],
        )
        row = rows[ticket.pk]
        updates = _store_updates(row, _fields(computed, ticket, now))
        for name, value in updates.items():
            setattr(row, name, value)
        # Written with the row: the time _check_row would store when nothing is due yet (it
        # then writes only for what is due).
        row.next_check_at = _first_check(_row_fields(row), row)
        groups.setdefault(tuple(sorted(updates)), []).append(row)
        checks.append((row, computed))
    with transaction.atomic():
        for names, group in groups.items():
            update_rows(group, [*names, "next_check_at"])
    for row, computed in checks:
        _check_row(row, now, computed)
    for ticket in tickets:
        if ticket.pk not in rows:
            ticket_sla_recompute(ticket_id=ticket.pk, now=now, policies=rules)


def tickets_sla_open(*, ticket_ids: Sequence[int], now: datetime | None = None) -> None:
    """The first clocks of newly opened tickets, in bulk: policies, histories and the new rows
    in a handful of statements for the whole batch. Tickets that already have a row (a promise
    recorded first, as every acknowledged email does; a redelivered event; a change recomputed
    meanwhile) take ``tickets_sla_recompute``, which keeps what the row holds as the one-ticket
    path does, and anything already due is raised at once, as a recompute would."""
    now = now or clock.now()
    have = set(
        TicketSla.objects.filter(ticket_id__in=ticket_ids).values_list("ticket_id", flat=True)
    )
    fresh = list(
        Ticket.objects.filter(pk__in=[pk for pk in ticket_ids if pk not in have])
        .select_related("customer__organisation")
        .prefetch_related("tags")
        .order_by("id")
    )
    try:
        ticket_sla_recompute_many(tickets=fresh, now=now)
    except IntegrityError:  # a row appeared meanwhile: one at a time, each path knows how
        have |= {ticket.pk for ticket in fresh}
    if have:  # rows that exist already (most often a promise): the bulk recompute of rows
        tickets_sla_recompute(ticket_ids=sorted(have), now=now)
    due = TicketSla.objects.filter(
        ticket_id__in=[ticket.pk for ticket in fresh if ticket.pk not in have],
        next_check_at__lte=now,
    )
    for row in due:  # opened with a clock already past due (an import, a delayed delivery)
        _check_row(row, now)


def ticket_sla_recompute_many(
    *,
    tickets: Sequence[Ticket],
    now: datetime | None = None,
    policies: Sequence[PolicyRule] | None = None,
) -> int:
    """Recompute many tickets at once (backfill, policy edits): bulk reads, bulk writes.

    ``tickets`` should come with ``customer__organisation`` selected and ``tags`` prefetched.
    Transitions already due are left to the next tick, which raises them exactly once.
    """
    now = now or clock.now()
    rules = load_policies() if policies is None else policies
    histories = ticket_histories(tickets)
    existing = set(
        TicketSla.objects.filter(ticket_id__in=[t.pk for t in tickets]).values_list(
            "ticket_id", flat=True
        )
    )
    creates: list[TicketSla] = []
    updates: list[TicketSla] = []
    for ticket in tickets:
        computed = ticket_sla_compute(
            ticket=ticket,
            now=now,
            policies=rules,
            history=histories[ticket.pk],
            tags=[tag.name for tag in ticket.tags.all()],
        )
        fields = _fields(computed, ticket, now)
        fields["next_check_at"] = _first_check(fields, None)
        row = TicketSla(ticket_id=ticket.pk, **fields)
        (updates if ticket.pk in existing else creates).append(row)
    with transaction.atomic():
        TicketSla.objects.bulk_create(creates, batch_size=1000)
        if updates:
            update_rows(updates, [*fields.keys()])
    return len(tickets)


# --- transitions -----------------------------------------------------------------------------


def _first_check(fields: dict[str, Any], row: TicketSla | None) -> datetime | None:
    """When the tick must next look at a row with these values."""
    candidates: list[datetime] = []
    for target in TARGETS:
        breached = getattr(row, f"{target}_breached_at") if row else None
        warned = getattr(row, f"{target}_warned_at") if row else None
        due, warn = fields[f"{target}_due_at"], fields[f"{target}_warn_at"]
        if breached is None and due is not None:
            candidates.append(due)
        if warned is None and breached is None and warn is not None:
            candidates.append(warn)
    promised = row.promised_at if row else None
    if (
        promised is not None
        and fields["reply_owed_since"] is not None
        and row is not None
        and row.promise_notices < MAX_PROMISE_NOTICES
    ):
        candidates.append(promised)
    return min(candidates) if candidates else None


def _row_fields(row: TicketSla) -> dict[str, Any]:
    out: dict[str, Any] = {"reply_owed_since": row.reply_owed_since}
    for target in TARGETS:
        out[f"{target}_due_at"] = getattr(row, f"{target}_due_at")
        out[f"{target}_warn_at"] = getattr(row, f"{target}_warn_at")
    return out


def _check_row(row: TicketSla, now: datetime, computed: Computed | None = None) -> None:
    """Raise whatever is due on ``row``, then store when to look again."""
    attempted = False
    for target in TARGETS:
        due = getattr(row, f"{target}_due_at")
        warn = getattr(row, f"{target}_warn_at")
        breached = getattr(row, f"{target}_breached_at")
        if breached is None and computed is not None and computed.clocks is not None:
            # A clock that was met late (a reply after the due time before the tick saw it)
            # is a breach too.
            c: Clock = getattr(computed.clocks, target)
            if c.target is not None and c.met_at is not None and c.breached:
                _transition(row, target, NotificationKind.BREACH, now, c.reached_at or now)
                attempted = True
                continue
        if breached is None and due is not None and due <= now:
            _transition(row, target, NotificationKind.BREACH, now, due)
            attempted = True
        elif (
            getattr(row, f"{target}_warned_at") is None
            and breached is None
            and warn is not None
            and warn <= now
        ):
            _transition(row, target, NotificationKind.WARNING, now, due)
            attempted = True
    if (
        row.promised_at is not None
        and row.promised_at <= now
        and row.reply_owed_since is not None
        and row.promise_notices < MAX_PROMISE_NOTICES
    ):
        promise_slip_notify(ticket_id=row.ticket_id, now=now)
        attempted = True
    if attempted:
        # Won or lost, the flags moved (a lost race means another worker moved them).
        row.refresh_from_db()
    next_check = _first_check(_row_fields(row), row)
    if attempted or next_check != row.next_check_at:
        TicketSla.objects.filter(pk=row.pk).update(next_check_at=next_check)


def _transition(
    row: TicketSla, target: str, kind: str, now: datetime, due: datetime | None
) -> bool:
    flag = f"{target}_{'breached' if kind == NotificationKind.BREACH else 'warned'}_at"
    qs = TicketSla.objects.filter(pk=row.pk, **{f"{flag}__isnull": True})
    if target == Target.NEXT_RESPONSE:
        qs = qs.filter(next_response_started_at=row.next_response_started_at)
    updates: dict[str, Any] = {flag: now}
    if kind == NotificationKind.BREACH:
        # A breach implies the warning; never warn after the breach.
        updates[f"{target}_warned_at"] = Coalesce(F(f"{target}_warned_at"), now)
    escalate = False
    email = (
        kind == NotificationKind.BREACH
        and row.policy is not None
        and row.policy.escalate_notify_email
    )
    with transaction.atomic():
        if qs.update(**updates) != 1:
            return False
        ticket = Ticket.objects.select_related("assignee").get(pk=row.ticket_id)
        label = Target(target).label
        policy_name = row.policy.name if row.policy_id and row.policy else ""
        TicketEvent.objects.create(
            ticket=ticket,
            actor=None,
            kind=EventKind.SLA_BREACH if kind == NotificationKind.BREACH else EventKind.SLA_WARNING,
            data={
                "target": target,
                "due_at": due.isoformat() if due else None,
                "policy": policy_name,
            },
            created_at=now,
        )
        if kind == NotificationKind.BREACH:
            text = f"#{ticket.pk} breached its {label.lower()} target"
        else:
            text = f"#{ticket.pk} is close to its {label.lower()} target"
        if due is not None and kind == NotificationKind.WARNING:
            text += f" (due {due:%Y-%m-%d %H:%M} UTC)"
        Notification.objects.bulk_create(
            Notification(
                user=user,
                ticket=ticket,
                kind=kind,
                target=target,
                text=text[:300],
                created_at=now,
                email_wanted=email,
            )
            for user in _recipients(ticket, kind)
        )
        escalate = kind == NotificationKind.BREACH
    policy = row.policy
    if (
        escalate
        and policy is not None
        and (policy.escalate_raise_priority or policy.escalate_team_id)
    ):
        _escalate(ticket_id=row.ticket_id, policy_id=row.policy_id)
    return True


def _recipients(ticket: Ticket, kind: str) -> list[User]:
    """The assignee; for breaches (or unassigned tickets) also the supervisors of the ticket's
    team, or every supervisor when it has no team."""
    users: dict[int, User] = {}
    if ticket.assignee is not None and ticket.assignee.is_active:
        users[ticket.assignee.pk] = ticket.assignee
    if kind == NotificationKind.BREACH or ticket.assignee is None:
        supervisors = User.objects.filter(is_active=True, role=Role.SUPERVISOR)
        if ticket.team_id is not None:
            team_supervisors = list(supervisors.filter(teams=ticket.team_id))
            chosen = team_supervisors or list(supervisors)
        else:
            chosen = list(supervisors)
        for user in chosen:
            users.setdefault(user.pk, user)
    return list(users.values())


def _escalate(*, ticket_id: int, policy_id: int | None) -> None:
    """The policy's escalation actions: raise the priority one step, hand to a team."""
    if policy_id is None:
        return
    policy = SlaPolicy.objects.filter(pk=policy_id).select_related("escalate_team").first()
    if policy is None or not (policy.escalate_raise_priority or policy.escalate_team_id):
        return
    ticket = Ticket.objects.get(pk=ticket_id)
    changes: dict[str, Any] = {}
    if policy.escalate_raise_priority:
        rank = PRIORITY_RANK[ticket.priority]
        higher = [p for p, r in PRIORITY_RANK.items() if r == rank + 1]
        if higher:
            changes["priority"] = Priority(higher[0])
    team: Team | None = policy.escalate_team
    if team is not None and ticket.team_id != team.pk:
        changes["team"] = team
    if not changes:
        return
    try:
        ticket_update(ticket=ticket, actor=None, **changes)
    except (Conflict, InvalidTransition):
        # Someone changed the ticket at the same moment; the breach itself is recorded and
        # the supervisor is notified, so escalation is skipped rather than forced.
        logger.warning(
            "SLA escalation of ticket %s skipped: ticket changed concurrently", ticket_id
        )


MAX_EMAIL_ATTEMPTS = 5
EMAIL_CLAIM_STALE_AFTER = timedelta(minutes=10)


def notification_emails_send(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send the email copies of notifications that want one; returns how many were sent.

    Each row is claimed with a conditional update before sending, so two workers never send
    the same one; ``emailed_at`` is written only after the relay accepted it. A failed send
    releases the claim with the server's answer and is retried on the next tick, up to
    MAX_EMAIL_ATTEMPTS; a claim left by a worker that died mid-send is retaken once stale.
    """
    if not settings.STAFF_EMAIL_ENABLED:
        return 0  # no relay configured: the notifications stay in the UI only
    now = now or clock.now()
    unclaimed = Q(email_claimed_at__isnull=True) | Q(
        email_claimed_at__lt=now - EMAIL_CLAIM_STALE_AFTER
    )
    pending = list(
        Notification.objects.filter(
            unclaimed,
            email_wanted=True,
            emailed_at__isnull=True,
            email_attempts__lt=MAX_EMAIL_ATTEMPTS,
        )
        .select_related("user", "ticket")
        .order_by("id")[:limit]
    )
    sent = 0
    for note in pending:
        claimed = Notification.objects.filter(
            unclaimed, pk=note.pk, emailed_at__isnull=True, email_attempts=note.email_attempts
        ).update(email_claimed_at=now, email_attempts=F("email_attempts") + 1)
        if not claimed:
            continue
        try:
            send_mail(
                subject=f"[Helpline] {note.text}",
                message=(
                    f"{note.text}.\n\nTicket #{note.ticket_id}: {note.ticket.subject}\n"
                    f"Open it in Helpline to answer the customer.\n"
                ),
                from_email=None,
                recipient_list=[note.user.email],
            )
        except (OSError, smtplib.SMTPException) as exc:
            Notification.objects.filter(pk=note.pk).update(
                email_claimed_at=None, email_error=f"{type(exc).__name__}: {exc}"[:300]
            )
            logger.warning("SLA notification %s not emailed: %s", note.pk, exc)
            continue
        Notification.objects.filter(pk=note.pk).update(emailed_at=clock.now(), email_error="")
        sent += 1
    return sent


# --- the tick --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    rows: int
    seconds: float


def sla_check(*, now: datetime | None = None, batch_size: int = 500) -> CheckResult:
    """Raise every warning, breach and slipped promise due by ``now`` (the periodic job).

    Reads only rows whose indexed ``next_check_at`` has passed, so its cost follows the number
    of transitions, not the number of tickets.
    """
    started = time.perf_counter()
    now = now or clock.now()
    seen = 0
    # Keyset pagination on (next_check_at, pk): a row handled in this run has moved its
    # next_check_at past ``now`` (or to null); one that did not is left for the next tick
    # rather than read again in a loop.
    cursor: tuple[datetime, int] | None = None
    while True:
        qs = TicketSla.objects.filter(next_check_at__lte=now)
        if cursor is not None:
            qs = qs.filter(
                Q(next_check_at__gt=cursor[0]) | Q(next_check_at=cursor[0], pk__gt=cursor[1])
            )
        rows = list(qs.select_related("policy").order_by("next_check_at", "pk")[:batch_size])
        if not rows:
            break
        for row in rows:
            seen += 1
            assert row.next_check_at is not None
            cursor = (row.next_check_at, row.pk)
            _check_row(row, now)
    return CheckResult(rows=seen, seconds=time.perf_counter() - started)


# --- promises --------------------------------------------------------------------------------


def expected_reply_promise(*, ticket: Ticket, promised_at: datetime) -> None:
    """Record the reply time just promised to the customer (the acknowledgement's "we will
    answer by ..."), so the tick can tell the customer if it slips.

    A new ticket's clocks are computed by the worker a moment after it commits, so the promise
    may come first: it then starts the row itself, owed since the ticket opened, and the
    recompute fills in the clocks and keeps the promise.
    """
    if TicketSla.objects.filter(ticket_id=ticket.pk).update(
        promised_at=promised_at,
        next_check_at=Coalesce(
            # the earlier of the current next check and the promise
            _least("next_check_at", promised_at),
            promised_at,
        ),
    ):
        return
    try:
        with transaction.atomic():
            _promise_row(ticket, promised_at, clock.now()).save(force_insert=True)
    except IntegrityError:  # the recompute created it meanwhile: record on its row
        expected_reply_promise(ticket=ticket, promised_at=promised_at)


def expected_reply_promises(*, promises: Sequence[tuple[Ticket, datetime]]) -> None:
    """``expected_reply_promise`` for many tickets (a batch of acknowledgements): one read for
    the rows that exist, one multi-row insert for the new tickets' rows (the usual case: the
    promise comes before the worker computes the clocks). A ticket that already has a row, or
    one whose row a recompute creates meanwhile, takes the one-ticket path."""
    if not promises:
        return
    have = set(
        TicketSla.objects.filter(ticket_id__in=[t.pk for t, _ in promises]).values_list(
            "ticket_id", flat=True
        )
    )
    fresh = [(t, at) for t, at in promises if t.pk not in have]
    computed_at = clock.now()
    rows = [_promise_row(ticket, promised_at, computed_at) for ticket, promised_at in fresh]
    try:
        with transaction.atomic():
            insert_rows(rows)
    except IntegrityError:  # a recompute created some row meanwhile: each on its own path
        have |= {ticket.pk for ticket, _ in fresh}
    for ticket, promised_at in promises:
        if ticket.pk in have:
            expected_reply_promise(ticket=ticket, promised_at=promised_at)


def _promise_row(ticket: Ticket, promised_at: datetime, computed_at: datetime) -> TicketSla:
    """The row a promise starts before the worker computes the ticket's clocks: owed since the
    ticket opened (unless answered already), looked at again when the promise falls due."""
    owed_since = ticket.created_at if ticket.first_responded_at is None else None
    return TicketSla(
        ticket_id=ticket.pk,
        promised_at=promised_at,
        reply_owed_since=owed_since,
        next_check_at=promised_at,
        computed_at=computed_at,
        team_id=ticket.team_id,
        queue_channel=_queue_channel(ticket, owed_since),
    )


def _least(field: str, value: datetime) -> Any:
    return Case(When(**{f"{field}__lt": value}, then=F(field)), default=Value(value))


def promise_slip_notify(*, ticket_id: int, now: datetime | None = None) -> Message | None:
    """Tell the customer a promised reply time has passed, with a fresh estimate.

    Sends an automatic public reply on the ticket's channel (it does not count as a response)
    at most ``MAX_PROMISE_NOTICES`` times per owed reply; exactly once per passed promise even
    with two workers (conditional update on the promise it saw). Returns the notice sent.
    """

    now = now or clock.now()
    row = TicketSla.objects.filter(ticket_id=ticket_id).first()
    if (
        row is None
        or row.promised_at is None
        or row.promised_at > now
        or row.reply_owed_since is None
        or row.promise_notices >= MAX_PROMISE_NOTICES
    ):
        return None
    ticket = Ticket.objects.select_related("customer").get(pk=ticket_id)
    if ticket.status in (Status.SOLVED, Status.CLOSED):
        return None
    # A tick can find many slipped promises at once: they share the queue-wide inputs (policies,
    # the measured reply rate) for SLIP_ESTIMATE_REUSE seconds, as a batch of acknowledgements
    # does, instead of reading weeks of replies again for each one.
    with reuse_queue_inputs(SLIP_ESTIMATE_REUSE):
        expected = expected_reply_at(ticket=ticket, now=now)
    new_promise = max(expected.at, now + timedelta(minutes=1))
    with transaction.atomic():
        won = TicketSla.objects.filter(
            pk=row.pk, promised_at=row.promised_at, promise_notices=row.promise_notices
        ).update(promised_at=new_promise, promise_notices=F("promise_notices") + 1)
        if won != 1:
            return None
        phrase = phrase_expected_reply(expected, now, language=ticket.customer.language or "en")
        body = slipped_text(phrase, language=ticket.customer.language or "en")
        return reply_add(ticket=ticket, author=None, body_text=body, is_automatic=True)


_SLIPPED = {
    "en": "We are sorry: we could not answer as soon as we said. We now expect to reply {when}.",
    "de": "Es tut uns leid: Wir konnten nicht so schnell antworten wie angekündigt. "
    "Wir melden uns voraussichtlich {when}.",
    "fr": "Désolés : nous n'avons pas pu répondre aussi vite que prévu. "
    "Nous pensons vous répondre {when}.",
    "es": "Lo sentimos: no pudimos responder tan pronto como dijimos. Esperamos responder {when}.",
}


def slipped_text(phrase: str, *, language: str = "en") -> str:
    template = _SLIPPED.get(language[:2].lower(), _SLIPPED["en"])
    return template.format(when=phrase)


# --- notifications ---------------------------------------------------------------------------


def notification_mark_read(*, user: User, notification_ids: Sequence[int]) -> int:
    return Notification.objects.filter(
        user=user, pk__in=notification_ids, read_at__isnull=True
    ).update(read_at=clock.now())


# --- configuration: calendars and policies ---------------------------------------------------


@dataclass(frozen=True)
class IntervalIn:
    weekday: int
    start: str  # "09:00"
    end: str  # "17:00"; at or before start: ends the next day


@dataclass(frozen=True)
class HolidayIn:
    day: date
    yearly: bool = False
    name: str = ""


@dataclass(frozen=True)
class TargetIn:
    priority: str
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only admins change service levels.")


def calendar_save(
    *,
    actor: User,
    calendar: BusinessCalendar | None = None,
    name: str,
    time_zone: str,
    always_open: bool = False,
    intervals: Sequence[IntervalIn] = (),
    holidays: Sequence[HolidayIn] = (),
) -> BusinessCalendar:
    """Create or replace a calendar (its intervals and holidays are replaced as a whole)."""
    _require_admin(actor)
    name = " ".join(name.split())
    if not name:
        raise ValidationError("A calendar needs a name.", field="name")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"Unknown time zone {time_zone!r}.", field="time_zone") from exc
    parsed: list[WeeklyInterval] = []
    for item in intervals:
        try:
            start, end = parse_hhmm(item.start), parse_hhmm(item.end)
            if start == 0 and end == 0:
                end = 1440  # 00:00-00:00: the whole day
            parsed.append(WeeklyInterval(item.weekday, start, end))
        except ValueError as exc:
            raise ValidationError(str(exc), field="intervals") from exc
    if not always_open and not parsed:
        raise ValidationError("Give opening hours, or make the calendar 24/7.", field="intervals")
    same_name = BusinessCalendar.objects.filter(name__iexact=name)
    if calendar is not None:
        same_name = same_name.exclude(pk=calendar.pk)
    if same_name.exists():
        raise ValidationError("A calendar with this name exists.", field="name")
    with transaction.atomic():
        if calendar is None:
            calendar = BusinessCalendar(name=name)
        calendar.name, calendar.time_zone, calendar.always_open = name, time_zone, always_open
        calendar.save()
        calendar.intervals.all().delete()
        CalendarInterval.objects.bulk_create(
            CalendarInterval(
                calendar=calendar, weekday=i.weekday, start_minute=i.start, end_minute=i.end
            )
            for i in parsed
        )
        calendar.holidays.all().delete()
        CalendarHoliday.objects.bulk_create(
            CalendarHoliday(calendar=calendar, day=h.day, yearly=h.yearly, name=h.name[:100])
            for h in holidays
        )
        if calendar.policies.exists():
            transaction.on_commit(_enqueue_recompute)
    return calendar


def calendar_delete(*, actor: User, calendar: BusinessCalendar) -> None:
    _require_admin(actor)
    if calendar.policies.exists():
        raise Conflict("Policies use this calendar; change them first.")
    calendar.delete()


def policy_save(
    *,
    actor: User,
    policy: SlaPolicy | None = None,
    name: str,
    targets: Sequence[TargetIn],
    position: int = 100,
    is_active: bool = True,
    channels: Sequence[str] = (),
    priorities: Sequence[str] = (),
    organisation_id: int | None = None,
    tier: str = "",
    tags: Sequence[str] = (),
    team_id: int | None = None,
    calendar_id: int | None = None,
    pausing_statuses: Sequence[str] = (Status.PENDING, Status.ON_HOLD),
    warn_share: float = 0.75,
    escalate_raise_priority: bool = False,
    escalate_notify_email: bool = False,
    escalate_team_id: int | None = None,
) -> SlaPolicy:
    """Create or replace a policy and its targets; open tickets are recomputed afterwards."""
    _require_admin(actor)
    name = " ".join(name.split())
    if not name:
        raise ValidationError("A policy needs a name.", field="name")
    others = SlaPolicy.objects.filter(name__iexact=name)
    if policy is not None:
        others = others.exclude(pk=policy.pk)
    if others.exists():
        raise ValidationError("A policy with this name exists.", field="name")
    if unknown := set(channels) - set(Channel.values):
        raise ValidationError(f"Unknown channels: {sorted(unknown)}.", field="channels")
    if unknown := set(priorities) - set(Priority.values):
        raise ValidationError(f"Unknown priorities: {sorted(unknown)}.", field="priorities")
    pausable = {Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD}
    if unknown := set(pausing_statuses) - pausable:
        raise ValidationError(
            f"Only active statuses can pause: {sorted(unknown)}.", field="pausing_statuses"
        )
    if not 0 < warn_share <= 1:
        raise ValidationError(
            "The warning share must be above 0 and at most 1.", field="warn_share"
        )
    if not targets:
        raise ValidationError("A policy needs targets for at least one priority.", field="targets")
    seen: set[str] = set()
    for target in targets:
        if target.priority not in Priority.values or target.priority in seen:
            raise ValidationError(f"Bad or repeated priority {target.priority!r}.", field="targets")
        seen.add(target.priority)
        for value in (
            target.first_response_minutes,
            target.next_response_minutes,
            target.resolution_minutes,
        ):
            if value is not None and not 1 <= value <= 525_600:
                raise ValidationError("Targets are 1 to 525600 minutes.", field="targets")
    for field_name, model, pk in (
        ("calendar_id", BusinessCalendar, calendar_id),
        ("team_id", Team, team_id),
        ("escalate_team_id", Team, escalate_team_id),
        ("organisation_id", Organisation, organisation_id),
    ):
        if pk is not None and not model.objects.filter(pk=pk).exists():
            raise ValidationError("No such record.", field=field_name)
    with transaction.atomic():
        if policy is None:
            policy = SlaPolicy(name=name)
        policy.name = name
        policy.position = position
        policy.is_active = is_active
        policy.channels = sorted(set(channels))
        policy.priorities = sorted(set(priorities))
        policy.organisation_id = organisation_id
        policy.tier = tier.strip()[:50]
        policy.tags = sorted({" ".join(t.lower().split()) for t in tags if t.strip()})
        policy.team_id = team_id
        policy.calendar_id = calendar_id
        policy.pausing_statuses = sorted(set(pausing_statuses))
        policy.warn_share = warn_share
        policy.escalate_raise_priority = escalate_raise_priority
        policy.escalate_notify_email = escalate_notify_email
        policy.escalate_team_id = escalate_team_id
        policy.save()
        policy.targets.all().delete()
        SlaTarget.objects.bulk_create(
            SlaTarget(
                policy=policy,
                priority=t.priority,
                first_response_minutes=t.first_response_minutes,
                next_response_minutes=t.next_response_minutes,
                resolution_minutes=t.resolution_minutes,
            )
            for t in targets
        )
        transaction.on_commit(_enqueue_recompute)
    return policy


def policy_delete(*, actor: User, policy: SlaPolicy) -> None:
    _require_admin(actor)
    with transaction.atomic():
        policy.delete()
        transaction.on_commit(_enqueue_recompute)


def _enqueue_recompute() -> None:
    from helpline.sla.tasks import recompute_active_task

    recompute_active_task()


def sla_recompute_active(*, chunk_size: int = 2000, now: datetime | None = None) -> int:
    """Recompute every active ticket (after a policy or calendar change, or as a backfill)."""
    now = now or clock.now()
    rules = load_policies()
    done = 0
    last_id = 0
    while True:
        tickets = list(
            Ticket.objects.filter(status__in=ACTIVE_STATUSES, pk__gt=last_id)
            .select_related("customer__organisation")
            .prefetch_related("tags")
            .order_by("pk")[:chunk_size]
        )
        if not tickets:
            return done
        done += ticket_sla_recompute_many(tickets=tickets, now=now, policies=rules)
        last_id = tickets[-1].pk
