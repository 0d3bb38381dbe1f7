"""Writes for routing: skills, profiles, presence, capacity, rules, and the assignment engine.

Correctness without row locks (SQLite has none; see docs/routing.md):

- A ticket is given to an agent by ``_claim``: in one transaction, a conditional update takes a
  seat on the agent's ``AgentLoad`` row (``load < capacity``), a conditional update takes the
  ticket (``assignee IS NULL``), and a compare-and-swap moves the ticket's ``TicketRouting``
  row onto the agent. If any step matches no row, the transaction rolls back and the seat is
  returned. On PostgreSQL a racing UPDATE waits for the winner to commit and then re-checks its
  WHERE clause, so the loser matches nothing; on SQLite writers are serialised outright.
- Assignments made elsewhere (an agent taking a ticket, a supervisor reassigning, a ticket
  being solved) arrive as ``TicketChanged`` and go through ``ticket_sync``, which moves the
  ticket between counters with the same compare-and-swap.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import FieldDoesNotExist
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Least

from helpline.accounts.models import Team, User
from helpline.core import clock, memo
from helpline.core.errors import Conflict, ValidationError
from helpline.core.types import UNSET, Unset
from helpline.customers.choices import Channel
from helpline.realtime import ROUTING_QUEUE_GROUP, publish_on_commit
from helpline.routing.choices import (
    DEFAULT_CAPACITY,
    IDLE_AFTER,
    LOAD_STATUSES,
    PRIORITY_ALLOWANCE,
    TOUCH_EVERY,
    WAITING_STATUSES,
    Presence,
    PresenceSource,
    SkillKind,
    Strategy,
)
from helpline.routing.models import (
    AgentLoad,
    AgentProfile,
    RoutingRule,
    Skill,
    TeamProfile,
    TicketRouting,
)
from helpline.routing.strategies import Candidate, choose_agent
from helpline.tickets.choices import PRIORITY_RANK, Priority
from helpline.tickets.models import Message, Ticket
from helpline.tickets.services import ticket_update
from helpline.triage.models import TicketTriage
from helpline.triage.selectors import ticket_triage_get

logger = logging.getLogger(__name__)

DRAIN_BATCH = 200
# The reverse one-to-one the SLA app adds to Ticket (sla.TicketSla, related_name "sla").
_SLA_RELATION = "sla"
_ENTRY_FIELDS = ("ticket_id", "channel", "required_skills", "order_at")
MAX_CAS_RETRIES = 5


def _drain_later(team_ids: list[int | None]) -> None:
    """Drain these queues in a worker once the current transaction commits."""

    def enqueue() -> None:
        from helpline.routing.tasks import queue_drain_task

        queue_drain_task(team_ids)

    transaction.on_commit(enqueue)


def queue_changed() -> None:
    """Tell live queue viewers to refresh, once the current transaction commits."""
    publish_on_commit(ROUTING_QUEUE_GROUP, {"type": "queue.changed"})


# --- skills -----------------------------------------------------------------------------------


def _skill_name(name: str) -> str:
    clean = " ".join(name.strip().lower().split())
    if not clean or len(clean) > 50 or ":" in clean:
        raise ValidationError("A skill name is 1 to 50 characters and has no colon.", field="name")
    return clean


def skill_create(*, kind: str, name: str) -> Skill:
    """Create a skill (idempotent on kind and name); its key is ``kind:name``."""
    if kind not in SkillKind.values:
        raise ValidationError(f"Unknown skill kind {kind!r}.", field="kind")
    clean = _skill_name(name)
    skill, _ = Skill.objects.get_or_create(
        key=f"{kind}:{clean}", defaults={"kind": kind, "name": clean}
    )
    return skill


def skill_delete(*, skill: Skill) -> None:
    skill.delete()


def _skills_by_key(keys: Iterable[str]) -> list[Skill]:
    wanted = sorted({k.strip().lower() for k in keys if k.strip()})
    found = {s.key: s for s in Skill.objects.filter(key__in=wanted)}
    missing = [k for k in wanted if k not in found]
    if missing:
        raise ValidationError(f"Unknown skill(s): {', '.join(missing)}.", field="skills")
    return [found[k] for k in wanted]


# --- agents: profile, skills, capacity, presence ------------------------------------------------


def agent_profile_ensure(*, agent: User) -> AgentProfile:
    """The agent's routing profile, created (offline, default capacities) on first use."""
    profile, _ = AgentProfile.objects.get_or_create(user=agent)
    _ensure_loads(agent.pk)
    return profile


def _ensure_loads(agent_id: int) -> None:
    have = set(AgentLoad.objects.filter(agent_id=agent_id).values_list("channel", flat=True))
    missing = [c for c in Channel.values if c not in have]
    if missing:
        AgentLoad.objects.bulk_create(
            [
                AgentLoad(agent_id=agent_id, channel=c, capacity=DEFAULT_CAPACITY.get(c, 10))
                for c in missing
            ],
            ignore_conflicts=True,
        )


def agent_skills_set(*, agent: User, skill_keys: Sequence[str]) -> AgentProfile:
    profile = agent_profile_ensure(agent=agent)
    profile.skills.set(_skills_by_key(skill_keys))
    _drain_later(_agent_team_keys(agent.pk))
    return profile


def agent_capacity_set(*, agent: User, channel: str, capacity: int) -> AgentLoad:
    """Set how many ``channel`` tickets ``agent`` may hold at once (0 = none of that channel)."""
    if channel not in Channel.values:
        raise ValidationError(f"Unknown channel {channel!r}.", field="channel")
    if not 0 <= capacity <= 1000:
        raise ValidationError("Capacity must be between 0 and 1000.", field="capacity")
    agent_profile_ensure(agent=agent)
    AgentLoad.objects.filter(agent=agent, channel=channel).update(capacity=capacity)
    queue_changed()
    _drain_later(_agent_team_keys(agent.pk))
    return AgentLoad.objects.get(agent=agent, channel=channel)


def agent_presence_set(
    *, agent: User, presence: str, source: str = PresenceSource.MANUAL
) -> AgentProfile:
    """Set the agent's presence. Going online hands her waiting work right away.

    Going away or offline keeps the tickets she holds (a supervisor reassigns if needed).
    """
    if presence not in Presence.values:
        raise ValidationError(f"Unknown presence {presence!r}.", field="presence")
    if not agent.is_active:
        raise ValidationError("A deactivated user cannot go online.", field="agent")
    profile = agent_profile_ensure(agent=agent)
    now = clock.now()
    fields: dict[str, object] = {"presence": presence, "presence_source": source}
    if presence != profile.presence:
        fields["presence_changed_at"] = now
    if presence == Presence.ONLINE:
        fields["last_seen_at"] = now
    AgentProfile.objects.filter(pk=profile.pk).update(**fields)
    profile.refresh_from_db()
    queue_changed()
    if presence == Presence.ONLINE:
        _drain_later(_agent_team_keys(agent.pk))
    return profile


def agent_activity_touch(*, agent_id: int, now: datetime | None = None) -> bool:
    """Record that the agent did something (a request, a reply). At most one write a minute.

    An agent who had gone away because she was idle comes back online; one who chose to be
    away stays away. Returns True if she came back online.
    """
    now = now or clock.now()
    touched = AgentProfile.objects.filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now - TOUCH_EVERY), pk=agent_id
    ).update(last_seen_at=now)
    if not touched:
        return False
    back = AgentProfile.objects.filter(
        pk=agent_id, presence=Presence.AWAY, presence_source=PresenceSource.IDLE
    ).update(
        presence=Presence.ONLINE, presence_source=PresenceSource.ACTIVITY, presence_changed_at=now
    )
    if back:
        queue_changed()
        _drain_later(_agent_team_keys(agent_id))
    return bool(back)


def presence_idle_sweep(*, now: datetime | None = None) -> int:
    """Online agents with no activity for ``IDLE_AFTER`` become away (reason: idle)."""
    now = now or clock.now()
    changed = AgentProfile.objects.filter(
        presence=Presence.ONLINE, last_seen_at__lt=now - IDLE_AFTER
    ).update(presence=Presence.AWAY, presence_source=PresenceSource.IDLE, presence_changed_at=now)
    if changed:
        queue_changed()
    return changed


# --- teams ------------------------------------------------------------------------------------


def team_profile_set(
    *,
    team: Team,
    strategy: str | Unset = UNSET,
    skill_keys: Sequence[str] | Unset = UNSET,
) -> TeamProfile:
    profile, _ = TeamProfile.objects.get_or_create(team=team)
    if strategy is not UNSET:
        if strategy not in Strategy.values:
            raise ValidationError(f"Unknown strategy {strategy!r}.", field="strategy")
        TeamProfile.objects.filter(pk=profile.pk).update(strategy=strategy)
    if skill_keys is not UNSET:
        profile.skills.set(_skills_by_key(skill_keys))
    profile.refresh_from_db()
    _drain_later([team.pk])
    return profile


# --- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleFields:
    """Everything a routing rule says; lists empty = no condition."""

    name: str
    position: int = 0
    is_active: bool = True
    channels: Sequence[str] = ()
    languages: Sequence[str] = ()
    keywords: Sequence[str] = ()
    tags_any: Sequence[str] = ()
    priorities: Sequence[str] = ()
    organisation_id: int | None = None
    set_team_id: int | None = None
    set_priority: str = ""
    add_tags: Sequence[str] = ()
    require_skills: Sequence[str] = ()


def _clean_list(values: Iterable[str], *, allowed: Sequence[str] | None, field: str) -> list[str]:
    out = sorted({" ".join(v.strip().lower().split()) for v in values if v and v.strip()})
    if allowed is not None:
        bad = [v for v in out if v not in allowed]
        if bad:
            raise ValidationError(f"Unknown value(s) {', '.join(bad)}.", field=field)
    return out


def _rule_values(fields: RuleFields) -> tuple[dict[str, object], list[Skill]]:
    name = " ".join(fields.name.split())[:100]
    if not name:
        raise ValidationError("A rule needs a name.", field="name")
    if fields.set_priority and fields.set_priority not in Priority.values:
        raise ValidationError(f"Unknown priority {fields.set_priority!r}.", field="set_priority")
    if fields.set_team_id is not None and not Team.objects.filter(pk=fields.set_team_id).exists():
        raise ValidationError("Unknown team.", field="set_team_id")
    values: dict[str, object] = {
        "name": name,
        "position": max(0, fields.position),
        "is_active": fields.is_active,
        "channels": _clean_list(fields.channels, allowed=Channel.values, field="channels"),
        "languages": _clean_list(fields.languages, allowed=None, field="languages"),
        "keywords": _clean_list(fields.keywords, allowed=None, field="keywords"),
        "tags_any": _clean_list(fields.tags_any, allowed=None, field="tags_any"),
        "priorities": _clean_list(fields.priorities, allowed=Priority.values, field="priorities"),
        "organisation_id": fields.organisation_id,
        "set_team_id": fields.set_team_id,
        "set_priority": fields.set_priority,
        "add_tags": _clean_list(fields.add_tags, allowed=None, field="add_tags"),
    }
    return values, _skills_by_key(fields.require_skills)


def routing_rule_create(*, fields: RuleFields) -> RoutingRule:
    values, skills = _rule_values(fields)
    now = clock.now()
    with transaction.atomic():
        rule = RoutingRule.objects.create(**values, created_at=now, updated_at=now)
        rule.require_skills.set(skills)
    return rule


def routing_rule_update(*, rule: RoutingRule, fields: RuleFields) -> RoutingRule:
    values, skills = _rule_values(fields)
    with transaction.atomic():
        RoutingRule.objects.filter(pk=rule.pk).update(**values, updated_at=clock.now())
        rule.require_skills.set(skills)
    rule.refresh_from_db()
    return rule


def routing_rule_delete(*, rule: RoutingRule) -> None:
    rule.delete()


@dataclass(frozen=True)
class TicketFacts:
    """What rules look at, gathered once per ticket."""

    channel: str
    language: str
    text: str
    tags: frozenset[str]
    priority: str
    organisation_id: int | None


def rule_matches(rule: RoutingRule, facts: TicketFacts) -> bool:
    if rule.channels and facts.channel not in rule.channels:
        return False
    if rule.languages and facts.language not in rule.languages:
        return False
    if rule.priorities and facts.priority not in rule.priorities:
        return False
    if rule.tags_any and not facts.tags.intersection(rule.tags_any):
        return False
    if rule.organisation_id is not None and facts.organisation_id != rule.organisation_id:
        return False
    return not rule.keywords or any(k in facts.text for k in rule.keywords)


def _facts(ticket: Ticket) -> TicketFacts:
    first = (
        Message.objects.filter(ticket=ticket)
        .order_by("created_at", "id")
        .values_list("body_text", flat=True)
        .first()
    )
    customer = ticket.customer
    language = customer.language
    if not language:  # the language triage detected in what the customer wrote, if any yet
        triage = ticket_triage_get(ticket=ticket)
        language = triage.language if triage is not None else ""
    return TicketFacts(
        channel=ticket.channel,
        language=(language or "").lower().split("-")[0],
        text=f"{ticket.subject}\n{first or ''}".lower(),
        tags=frozenset(ticket.tags.values_list("name", flat=True)),
        priority=ticket.priority,
        organisation_id=customer.organisation_id,
    )


# --- the queue --------------------------------------------------------------------------------


def rank_at(*, queued_at: datetime, priority: str) -> datetime:
    """The virtual deadline that orders the queue when the ticket has no SLA due time."""
    return queued_at + PRIORITY_ALLOWANCE.get(priority, PRIORITY_ALLOWANCE[Priority.NORMAL])


_sla_table_seen: set[str] = set()
_sla_table_checked_until: dict[str, float] = {}


def sla_ordering_available() -> bool:
    """True once the SLA app provides ``Ticket.sla.next_due_at`` and its table exists.

    Guarded because routing is built alongside the SLA app: until both the model and its
    migration are there, the queue is ordered by priority and age alone.
    """
    try:
        related = Ticket._meta.get_field(_SLA_RELATION).related_model
        if related is None or isinstance(related, str):
            return False
        related._meta.get_field("next_due_at")
    except FieldDoesNotExist:
        return False
    table = related._meta.db_table
    if table in _sla_table_seen:
        return True  # tables are not dropped at run time: remember the yes
    if time.monotonic() < _sla_table_checked_until.get(table, 0.0):
        return False  # and ask again for a no at most once a minute
    if table not in connection.introspection.table_names():
        _sla_table_checked_until[table] = time.monotonic() + 60
        return False
    _sla_table_seen.add(table)
    return True


def queue_order_expression() -> Combinable:
    """What the waiting queue is sorted by: the earlier of the SLA's next due time and the
    priority deadline (``rank_at``); the priority deadline alone without SLA.

    Both are deadlines, so they compare. Taking the earlier keeps priority meaningful when the
    SLA gives every priority the same target (the default policies do: an urgent email and a
    normal one are both due in 24 h, but the urgent one goes first), and lets a ticket whose SLA
    is about to breach jump ahead of fresher urgent work.
    """
    if sla_ordering_available():
        # Coalesce first: SQLite's MIN() of a NULL is NULL where PostgreSQL's LEAST skips it.
        due = Coalesce(F(f"ticket__{_SLA_RELATION}__next_due_at"), F("rank_at"))
        return Least(due, F("rank_at"))
    return F("rank_at")


def waiting_queryset(*, team_id: int | None) -> QuerySet[TicketRouting]:
    qs = TicketRouting.objects.filter(waiting=True)
    qs = qs.filter(team__isnull=True) if team_id is None else qs.filter(team_id=team_id)
    return qs.annotate(order_at=queue_order_expression()).order_by("order_at", "ticket_id")


def _required_skills(facts: TicketFacts, rule: RoutingRule | None) -> list[str]:
    keys: set[str] = set(rule.require_skills.values_list("key", flat=True)) if rule else set()
    implied = {f"language:{facts.language}"} if facts.language else set()
    implied |= {f"product:{t}" for t in facts.tags}
    keys |= set(Skill.objects.filter(key__in=implied).values_list("key", flat=True))
    return sorted(keys)


def _best_team(facts: TicketFacts) -> int | None:
    """The team whose skills cover most of the ticket's language, channel and product tags."""
    wanted = {f"channel:{facts.channel}"} | {f"product:{t}" for t in facts.tags}
    if facts.language:
        wanted.add(f"language:{facts.language}")
    best: tuple[int, int] | None = None
    for team_id, keys in memo.memoized("routing.team_skills", _team_skills):
        score = len(wanted & keys)
        if score and (best is None or score > best[0]):
            best = (score, team_id)
    return best[1] if best else None


def _team_skills() -> list[tuple[int, frozenset[str]]]:
    return [
        (profile.team_id, frozenset(s.key for s in profile.skills.all()))
        for profile in TeamProfile.objects.prefetch_related("skills").order_by("team_id")
    ]


def _decide(
    ticket: Ticket, facts: TicketFacts, rules: Sequence[RoutingRule], teams: dict[int, Team]
) -> tuple[RoutingRule | None, Team | Unset | None, str | Unset, list[str] | Unset]:
    """What routing changes on a new ticket: the first matching rule's team (only if the ticket
    has none), priority (only ever raised) and tags; else the best team by skills."""
    rule = next((r for r in rules if rule_matches(r, facts)), None)
    team: Team | Unset | None = UNSET
    priority: str | Unset = UNSET
    tags: list[str] | Unset = UNSET
    if rule is not None:
        if rule.set_team_id and ticket.team_id is None:
            team = teams[rule.set_team_id]
        if rule.set_priority and PRIORITY_RANK[rule.set_priority] > PRIORITY_RANK[ticket.priority]:
            priority = rule.set_priority
        if rule.add_tags and not set(rule.add_tags) <= facts.tags:
            tags = sorted(facts.tags | set(rule.add_tags))
    if ticket.team_id is None and team is UNSET:
        team_id = _best_team(facts)
        if team_id is not None:
            team = teams[team_id]
    return rule, team, priority, tags


def _active_rules() -> list[RoutingRule]:
    return memo.memoized("routing.rules", lambda: list(RoutingRule.objects.filter(is_active=True)))


def _apply(
    ticket: Ticket, team: Team | Unset | None, priority: str | Unset, tags: list[str] | Unset
) -> Ticket:
    if team is UNSET and priority is UNSET and tags is UNSET:
        return ticket
    try:
        return ticket_update(ticket=ticket, actor=None, team=team, priority=priority, tags=tags)
    except Conflict:  # another handler changed the status meanwhile: once more, fresh
        ticket.refresh_from_db()
        return ticket_update(ticket=ticket, actor=None, team=team, priority=priority, tags=tags)


def ticket_route(*, ticket_id: int) -> TicketRouting | None:
    """Route a newly opened ticket: rules, team, required skills, queue, then assignment.

    Idempotent: the rules run only for the caller that stamps ``routed_at`` first, so a second
    delivery of the same ``TicketOpened`` changes nothing. ``tickets_route`` does the same for
    a batch of tickets.
    """
    ticket = Ticket.objects.select_related("customer").filter(pk=ticket_id).first()
    if ticket is None:
        return None
    with contextlib.suppress(IntegrityError):  # created concurrently by ticket_sync
        TicketRouting.objects.get_or_create(
            ticket=ticket, defaults={"channel": ticket.channel, "team_id": ticket.team_id}
        )
    if not TicketRouting.objects.filter(pk=ticket_id, routed_at__isnull=True).update(
        routed_at=clock.now()
    ):
        return TicketRouting.objects.filter(pk=ticket_id).first()
    facts = _facts(ticket)
    rules = _active_rules()
    wanted = [r.set_team_id for r in rules if r.set_team_id] + [
        team_id for team_id, _ in memo.memoized("routing.team_skills", _team_skills)
    ]
    teams = Team.objects.in_bulk(wanted)
    rule, team, priority, tags = _decide(ticket, facts, rules, teams)
    if not (team is UNSET and priority is UNSET and tags is UNSET):
        ticket = _apply(ticket, team, priority, tags)
        facts = _facts(ticket)
    TicketRouting.objects.filter(pk=ticket_id).update(required_skills=_required_skills(facts, rule))
    ticket_sync(ticket_id=ticket_id)
    return TicketRouting.objects.filter(pk=ticket_id).first()


# Tickets whose routing row the running code brings in line itself: a batch of new tickets
# (``tickets_route`` syncs them once their rules applied) or a claim (which moves the row).
# Routing's own reaction to the changes they make skips them (see handlers).
_routing_now: ContextVar[frozenset[int]] = ContextVar("routing_now", default=frozenset())


def routing_in_progress(ticket_id: int) -> bool:
    return ticket_id in _routing_now.get()


def _stamp_routed(ticket_ids: Sequence[int], now: datetime) -> list[int]:
    """Stamp ``routed_at`` on the rows that have none; returns the ids this call stamped (one
    statement: ``UPDATE ... RETURNING``, on PostgreSQL and SQLite alike)."""
    table = TicketRouting._meta.db_table
    marks = ", ".join(["%s"] * len(ticket_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET routed_at = %s WHERE routed_at IS NULL "  # noqa: S608
            f"AND ticket_id IN ({marks}) RETURNING ticket_id",
            [now, *ticket_ids],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _facts_many(tickets: Sequence[Ticket]) -> dict[int, TicketFacts]:
    """``_facts`` of many tickets in four statements."""
    ids = [t.pk for t in tickets]
    first: dict[int, str] = {}
    messages = (
        Message.objects.filter(ticket_id__in=ids)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "body_text")
    )
    for ticket_id, body in messages:
        first.setdefault(ticket_id, body)
    need_triage = [t.pk for t in tickets if not t.customer.language]
    detected = (
        dict(
            TicketTriage.objects.filter(ticket_id__in=need_triage).values_list(
                "ticket_id", "language"
            )
        )
        if need_triage
        else {}
    )
    tags: dict[int, set[str]] = {}
    through = Ticket.tags.through.objects.filter(ticket_id__in=ids)
    for ticket_id, name in through.values_list("ticket_id", "tag__name"):
        tags.setdefault(ticket_id, set()).add(name)
    out = {}
    for t in tickets:
        language = t.customer.language or detected.get(t.pk, "")
        out[t.pk] = TicketFacts(
            channel=t.channel,
            language=(language or "").lower().split("-")[0],
            text=f"{t.subject}\n{first.get(t.pk) or ''}".lower(),
            tags=frozenset(tags.get(t.pk, ())),
            priority=t.priority,
            organisation_id=t.customer.organisation_id,
        )
    return out


def _rule_skills() -> dict[int, frozenset[str]]:
    through = RoutingRule.require_skills.through.objects.values_list("routingrule_id", "skill__key")
    out: dict[int, set[str]] = {}
    for rule_id, key in through:
        out.setdefault(rule_id, set()).add(key)
    return {rule_id: frozenset(keys) for rule_id, keys in out.items()}


def _required_skills_known(facts: TicketFacts, rule: RoutingRule | None) -> list[str]:
    """``_required_skills`` from the batch's memoised skills (no statement per ticket)."""
    keys: set[str] = set()
    if rule is not None:
        keys |= memo.memoized("routing.rule_skills", _rule_skills).get(rule.pk, frozenset())
    implied = {f"language:{facts.language}"} if facts.language else set()
    implied |= {f"product:{t}" for t in facts.tags}
    known = memo.memoized(
        "routing.skill_keys", lambda: frozenset(Skill.objects.values_list("key", flat=True))
    )
    keys |= implied & known
    return sorted(keys)


def tickets_route(*, ticket_ids: Sequence[int]) -> list[int]:
    """Route a batch of newly opened tickets (the outbox's batch handler): for each ticket the
    same rules, team, required skills and queue as ``ticket_route``, with what the batch shares
    read once and the rows written together; then every queue the batch touched is drained
    once (most urgent first, as the queue orders them). Returns the ids this call routed.

    Idempotent: only the tickets whose ``routed_at`` this call stamps are routed; a redelivered
    event finds its ticket stamped and changes nothing. A ticket whose rules fail to apply is
    unstamped and the others routed; then ``RoutingFailed`` is raised so that the outbox
    retries (and routes just that ticket again).
    """
    wanted = sorted(set(ticket_ids))
    if not wanted:
        return []
    tickets = {t.pk: t for t in Ticket.objects.select_related("customer").filter(pk__in=wanted)}
    if not tickets:
        return []
    TicketRouting.objects.bulk_create(
        [
            TicketRouting(ticket_id=t.pk, channel=t.channel, team_id=t.team_id)
            for t in tickets.values()
        ],
        ignore_conflicts=True,
    )
    routed = _stamp_routed(sorted(tickets), clock.now())
    if not routed:
        return []
    facts = _facts_many([tickets[pk] for pk in routed])
    rules = _active_rules()
    team_ids = [r.set_team_id for r in rules if r.set_team_id] + [
        team_id for team_id, _ in memo.memoized("routing.team_skills", _team_skills)
    ]
    teams = Team.objects.in_bulk(team_ids) if team_ids else {}
    skills: dict[tuple[str, ...], list[int]] = {}
    failed: list[int] = []
    token = _routing_now.set(frozenset(routed))
    try:
        for pk in routed:
            ticket = tickets[pk]
            try:
                rule, team, priority, tags = _decide(ticket, facts[pk], rules, teams)
                if not (team is UNSET and priority is UNSET and tags is UNSET):
                    ticket = _apply(ticket, team, priority, tags)
                    facts[pk] = dataclasses.replace(
                        facts[pk],
                        priority=ticket.priority,
                        tags=facts[pk].tags if tags is UNSET else frozenset(tags),
                    )
            except Exception:  # this ticket only: the rest of the batch goes on
                logger.exception("routing the new ticket #%s failed", pk)
                failed.append(pk)
                continue
            required = tuple(_required_skills_known(facts[pk], rule))
            skills.setdefault(required, []).append(pk)
        for required, group in skills.items():
            if required:
                TicketRouting.objects.filter(pk__in=group).update(required_skills=list(required))
    finally:
        _routing_now.reset(token)
    if failed:  # unstamped, so that the outbox's retry routes them (and only them) again
        TicketRouting.objects.filter(pk__in=failed).update(routed_at=None)
    done = [pk for pk in routed if pk not in failed]
    _sync_new(done)
    if failed:
        raise RoutingFailed(f"routing failed for new ticket(s) {failed}; retried by the outbox")
    return done


class RoutingFailed(Exception):
    """Some tickets of a batch could not be routed (the others were)."""


def _sync_new(ticket_ids: Sequence[int]) -> None:
    """``ticket_sync`` for tickets just routed: the ones still in their first state (no load,
    not queued) and waiting join their queue in one conditional update per (team, channel,
    priority); any other goes through ``ticket_sync``. Then each queue touched is drained."""
    rows = {r.pk: r for r in TicketRouting.objects.filter(pk__in=ticket_ids)}
    now = clock.now()
    groups: dict[tuple[int | None, str, str], list[int]] = {}
    one_by_one: list[int] = []
    states = Ticket.objects.filter(pk__in=ticket_ids).values_list(
        "pk", "assignee_id", "status", "channel", "team_id", "priority"
    )
    for pk, assignee_id, status, channel, team_id, priority in states:
        row = rows.get(pk)
        first_state = (
            row is not None
            and row.load_agent_id is None
            and not row.load_channel
            and not row.waiting
        )
        if first_state and assignee_id is None and status in WAITING_STATUSES:
            groups.setdefault((team_id, channel, priority), []).append(pk)
        else:
            one_by_one.append(pk)
    queues: set[int | None] = set()
    if groups:
        with transaction.atomic():
            for (team, channel, priority), group in groups.items():
                moved = TicketRouting.objects.filter(
                    pk__in=group, load_agent__isnull=True, load_channel="", waiting=False
                ).update(
                    team_id=team,
                    channel=channel,
                    waiting=True,
                    queued_at=now,
                    rank_at=rank_at(queued_at=now, priority=priority),
                )
                if moved != len(group):  # one changed meanwhile: ticket_sync sorts each out
                    one_by_one.extend(group)
                queues.add(team)
            queue_changed()
    for pk in sorted(one_by_one):
        ticket_sync(ticket_id=pk)
    if queues:
        queue_drain(team_ids=sorted(queues, key=lambda k: (k is None, k or 0)))


def _load_add(agent_id: int, channel: str, delta: int) -> None:
    if delta > 0:
        if not AgentLoad.objects.filter(agent_id=agent_id, channel=channel).update(
            load=F("load") + delta
        ):
            _ensure_loads(agent_id)
            AgentLoad.objects.filter(agent_id=agent_id, channel=channel).update(
                load=F("load") + delta
            )
    elif not AgentLoad.objects.filter(agent_id=agent_id, channel=channel, load__gte=-delta).update(
        load=F("load") + delta
    ):
        logger.warning("load of agent %s on %s was already 0", agent_id, channel)


def ticket_sync(*, ticket_id: int) -> None:
    """Bring the ticket's routing row in line with the ticket: load, queue, team, rank.

    Safe to run any number of times, concurrently: the load moves by compare-and-swap on
    ``load_agent``; a swap that loses re-reads and tries again.
    """
    freed: int | None = None
    became_waiting = False
    for _ in range(MAX_CAS_RETRIES):
        t = (
            Ticket.objects.filter(pk=ticket_id)
            .values("assignee_id", "status", "channel", "team_id", "priority", "created_at")
            .first()
        )
        if t is None:
            return
        row = TicketRouting.objects.filter(pk=ticket_id).first()
        if row is None:
            with contextlib.suppress(IntegrityError):
                TicketRouting.objects.create(
                    ticket_id=ticket_id, channel=t["channel"], team_id=t["team_id"]
                )
            continue
        desired_agent = t["assignee_id"] if t["status"] in LOAD_STATUSES else None
        desired_channel = t["channel"] if desired_agent else ""
        waiting = t["assignee_id"] is None and t["status"] in WAITING_STATUSES
        now = clock.now()
        updates: dict[str, object] = {
            "load_agent_id": desired_agent,
            "load_channel": desired_channel,
            "team_id": t["team_id"],
            "channel": t["channel"],
            "waiting": waiting,
        }
        if waiting:
            queued_at = row.queued_at if row.waiting and row.queued_at else now
            updates["queued_at"] = queued_at
            updates["rank_at"] = rank_at(queued_at=queued_at, priority=t["priority"])
        else:
            updates["queued_at"] = None
            updates["rank_at"] = None
        if desired_agent and desired_agent != row.load_agent_id:
            updates["assigned_at"] = now
        unchanged = all(
            getattr(row, name) == value for name, value in updates.items() if name != "assigned_at"
        )
        if unchanged:
            break
        with transaction.atomic():
            swapped = TicketRouting.objects.filter(
                pk=ticket_id,
                load_agent_id=row.load_agent_id,
                load_channel=row.load_channel,
                waiting=row.waiting,
            ).update(**updates)
            if not swapped:
                continue
            if (row.load_agent_id, row.load_channel) != (desired_agent, desired_channel):
                if row.load_agent_id:
                    _load_add(row.load_agent_id, row.load_channel, -1)
                    freed = row.load_agent_id
                if desired_agent:
                    _load_add(desired_agent, desired_channel, +1)
            queue_changed()
        became_waiting = waiting and not row.waiting
        break
    else:
        logger.warning("ticket_sync gave up on #%s after %s tries", ticket_id, MAX_CAS_RETRIES)
        return
    if freed is not None:
        queue_drain(team_ids=_agent_team_keys(freed))
    elif became_waiting:
        team_id = TicketRouting.objects.filter(pk=ticket_id).values_list("team_id", flat=True)
        queue_drain(team_ids=list(team_id))


# --- assignment ---------------------------------------------------------------------------------


def _agent_team_keys(agent_id: int) -> list[int | None]:
    """The queues an agent serves: her teams' and the team-less queue."""
    keys: list[int | None] = list(
        Team.objects.filter(members__pk=agent_id).values_list("pk", flat=True)
    )
    keys.append(None)
    return keys


def _team_members(team_id: int | None) -> QuerySet[User]:
    qs = User.objects.filter(is_active=True)
    return qs if team_id is None else qs.filter(teams__pk=team_id)


def _candidates(team_id: int | None) -> tuple[list[Candidate], list[frozenset[str]]]:
    """Online agents of the queue with their loads, and the skill sets of all its members."""
    members = (
        AgentProfile.objects.filter(user__in=_team_members(team_id))
        .prefetch_related("skills")
        .order_by("user_id")
    )
    team_skills: list[frozenset[str]] = []
    online: dict[int, Candidate] = {}
    for profile in members:
        skills = frozenset(s.key for s in profile.skills.all())
        team_skills.append(skills)
        if profile.presence == Presence.ONLINE:
            online[profile.user_id] = Candidate(
                agent_id=profile.user_id, skills=skills, last_assigned_at=profile.last_assigned_at
            )
    for load in AgentLoad.objects.filter(agent_id__in=online.keys()):
        online[load.agent_id].load[load.channel] = load.load
        online[load.agent_id].capacity[load.channel] = load.capacity
    return list(online.values()), team_skills


class _Lost(Exception):
    """The claim lost a race; its transaction rolls back."""


def _claim(
    *, ticket_id: int, channel: str, agent: User, team_id: int | None, strategy: str = ""
) -> str:
    """Try to give the ticket to the agent. Returns "ok", "full" (no seat) or "taken"."""
    now = clock.now()
    ticket = Ticket.objects.filter(
        pk=ticket_id, assignee__isnull=True, status__in=WAITING_STATUSES
    ).first()
    if ticket is None:
        return "taken"
    # The claim moves the routing row itself: routing's reaction to the TicketChanged it
    # announces would only read the row back in line (see handlers.on_ticket_changed).
    token = _routing_now.set(_routing_now.get() | {ticket_id})
    try:
        with transaction.atomic():
            seat = AgentLoad.objects.filter(
                agent=agent, channel=channel, load__lt=F("capacity")
            ).update(load=F("load") + 1)
            if not seat:
                return "full"
            won = Ticket.objects.filter(
                pk=ticket_id, assignee__isnull=True, status=ticket.status
            ).update(assignee=agent)
            if not won:
                raise _Lost
            moved = TicketRouting.objects.filter(
                pk=ticket_id, load_agent__isnull=True, waiting=True
            ).update(
                load_agent=agent,
                load_channel=channel,
                waiting=False,
                queued_at=None,
                rank_at=None,
                assigned_at=now,
            )
            if not moved:
                raise _Lost
            AgentProfile.objects.filter(pk=agent.pk).update(last_assigned_at=now)
            if team_id is not None and strategy == Strategy.ROUND_ROBIN:
                TeamProfile.objects.filter(pk=team_id).update(rr_cursor=agent.pk)
            # The ticket row already names the agent; going through the tickets service with the
            # state we claimed from records the timeline entry and announces TicketChanged.
            ticket_update(ticket=ticket, actor=None, assignee=agent)
            queue_changed()
    except (_Lost, Conflict):
        return "taken"
    finally:
        _routing_now.reset(token)
    return "ok"


def queue_drain(
    *, team_ids: Iterable[int | None] | None = None, max_assign: int | None = None
) -> int:
    """Give waiting tickets, most urgent first, to online agents with free seats.

    ``team_ids`` limits the queues looked at (None in the list is the team-less queue; None for
    the argument means every queue with waiting work). Returns how many tickets were assigned.
    Several workers may drain at once: each assignment is a claim that at most one can win.
    """
    if team_ids is None:
        keys: list[int | None] = list(
            TicketRouting.objects.filter(waiting=True).values_list("team_id", flat=True).distinct()
        )
    else:
        keys = list(dict.fromkeys(team_ids))
    assigned = 0
    for team_id in keys:
        if max_assign is not None and assigned >= max_assign:
            break
        assigned += _drain_one(team_id, None if max_assign is None else max_assign - assigned)
    return assigned


def _drain_one(team_id: int | None, max_assign: int | None) -> int:
    strategy: str = Strategy.LEAST_LOADED
    cursor = 0
    if team_id is not None:
        profile = TeamProfile.objects.filter(pk=team_id).values("strategy", "rr_cursor").first()
        if profile is not None:
            strategy, cursor = profile["strategy"], profile["rr_cursor"]
    if strategy == Strategy.MANUAL:
        return 0
    candidates, team_skills = _candidates(team_id)
    users = {u.pk: u for u in User.objects.filter(pk__in=[c.agent_id for c in candidates])}
    assigned = 0
    after: tuple[datetime, int] | None = None
    while True:
        free_channels = {ch for c in candidates for ch in c.capacity if c.free(ch) > 0}
        if not free_channels or (max_assign is not None and assigned >= max_assign):
            return assigned
        qs = waiting_queryset(team_id=team_id).filter(channel__in=free_channels)
        if after is not None:
            qs = qs.filter(Q(order_at__gt=after[0]) | Q(order_at=after[0], ticket_id__gt=after[1]))
        batch = list(qs.values(*_ENTRY_FIELDS)[:DRAIN_BATCH])
        if not batch:
            return assigned
        for entry in batch:
            after = (entry["order_at"], entry["ticket_id"])
            channel = entry["channel"]
            required = frozenset(entry["required_skills"] or ())
            while True:
                choice = choose_agent(
                    strategy=strategy,
                    candidates=candidates,
                    channel=channel,
                    required=required,
                    team_skills=team_skills,
                    rr_cursor=cursor,
                )
                if choice is None:
                    break
                outcome = _claim(
                    ticket_id=entry["ticket_id"],
                    channel=channel,
                    agent=users[choice.agent_id],
                    team_id=team_id,
                    strategy=strategy,
                )
                if outcome == "full":
                    # Another worker filled her seats since the snapshot: believe the database.
                    choice.load[channel] = choice.capacity.get(channel, 0)
                    continue
                if outcome == "ok":
                    choice.load[channel] = choice.load.get(channel, 0) + 1
                    choice.last_assigned_at = clock.now()
                    cursor = choice.agent_id
                    assigned += 1
                break
            if max_assign is not None and assigned >= max_assign:
                return assigned
            if not any(c.free(channel) > 0 for c in candidates):
                break  # re-query with the channels that still have seats


def ticket_take(*, ticket: Ticket, agent: User) -> Ticket:
    """An agent picks an unassigned ticket from the queue herself (the manual strategy).

    Raises Conflict if someone else got it first. Capacity is not checked: she chose it.
    """
    seen = Ticket.objects.filter(pk=ticket.pk).first()
    if seen is None or seen.assignee_id is not None:
        raise Conflict("This ticket is already assigned.")
    with transaction.atomic():
        won = Ticket.objects.filter(pk=seen.pk, assignee__isnull=True, status=seen.status).update(
            assignee=agent
        )
        if not won:
            raise Conflict("Someone else took this ticket first.")
        # Record it through the tickets service from the state we won against (see _claim).
        return ticket_update(ticket=seen, actor=agent, assignee=agent)


REPAIR_WINDOW = timedelta(minutes=15)


def routing_tick(*, now: datetime | None = None) -> int:
    """The periodic job: idle agents go away, drifted rows are repaired, every queue drained.

    Repair looks at tickets changed in the last 15 minutes on every tick (drift comes from a
    handler failing after a change, which moves ``updated_at``) and at all of them once an hour.
    """
    now = now or clock.now()
    presence_idle_sweep(now=now)
    since = None if now.minute == 0 else now - REPAIR_WINDOW
    repaired = _repair(limit=500, since=since)
    if repaired:
        logger.info("routing repaired %s ticket(s)", repaired)
    return queue_drain()


def _repair(*, limit: int, since: datetime | None = None) -> int:
    """Re-sync tickets whose routing row disagrees with them (a handler that crashed, tickets
    that existed before routing did). Bounded per tick; ``since`` limits it to recent changes."""
    tickets = Ticket.objects.all()
    routed = TicketRouting.objects.all()
    if since is not None:
        tickets = tickets.filter(updated_at__gte=since)
        routed = routed.filter(ticket__updated_at__gte=since)
    rows = TicketRouting.objects.filter(ticket_id=OuterRef("pk"))
    drifted = tickets.filter(
        Q(status__in=WAITING_STATUSES, assignee__isnull=True) & ~Exists(rows.filter(waiting=True))
        | Q(status__in=LOAD_STATUSES, assignee__isnull=False)
        & ~Exists(rows.filter(load_agent_id=OuterRef("assignee_id")))
    ).values_list("pk", flat=True)[:limit]
    stale = routed.filter(
        Q(load_agent__isnull=False) & ~Q(ticket__assignee_id=F("load_agent_id"))
        | Q(load_agent__isnull=False) & ~Q(ticket__status__in=LOAD_STATUSES)
        | Q(waiting=True)
        & (Q(ticket__assignee__isnull=False) | ~Q(ticket__status__in=WAITING_STATUSES))
    ).values_list("ticket_id", flat=True)[:limit]
    ids = set(drifted) | set(stale)
    for ticket_id in ids:
        ticket_sync(ticket_id=ticket_id)
    return len(ids)


def routing_backfill(*, batch: int = 10_000) -> tuple[int, int]:
    """Give every new/open ticket without one a routing row, then recount agents' loads.

    For an install that predates routing or a bulk import (``helpline manage seed``). The
    recount overwrites the counters, so run it while no worker is assigning (it is not a claim).
    Returns (rows created, agents recounted).
    """
    created = 0
    last_id = 0
    missing = ~Exists(TicketRouting.objects.filter(ticket_id=OuterRef("pk")))
    while True:
        tickets = list(
            Ticket.objects.filter(missing, status__in=LOAD_STATUSES, pk__gt=last_id)
            .order_by("pk")
            .values("pk", "assignee_id", "team_id", "channel", "priority", "updated_at")[:batch]
        )
        if not tickets:
            break
        last_id = tickets[-1]["pk"]
        rows = []
        for t in tickets:
            waiting = t["assignee_id"] is None
            rows.append(
                TicketRouting(
                    ticket_id=t["pk"],
                    team_id=t["team_id"],
                    channel=t["channel"],
                    waiting=waiting,
                    queued_at=t["updated_at"] if waiting else None,
                    rank_at=rank_at(queued_at=t["updated_at"], priority=t["priority"])
                    if waiting
                    else None,
                    load_agent_id=t["assignee_id"],
                    load_channel="" if waiting else t["channel"],
                    routed_at=t["updated_at"],
                )
            )
        TicketRouting.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(rows)
    counts = (
        TicketRouting.objects.filter(load_agent__isnull=False)
        .values("load_agent_id", "load_channel")
        .annotate(n=Count("ticket_id"))
        .order_by()
    )
    per_agent: dict[int, dict[str, int]] = {}
    for row in counts:
        per_agent.setdefault(row["load_agent_id"], {})[row["load_channel"]] = row["n"]
    with transaction.atomic():
        AgentLoad.objects.exclude(load=0).update(load=0)
        for agent_id, channels in per_agent.items():
            _ensure_loads(agent_id)
            for channel, n in channels.items():
                AgentLoad.objects.filter(agent_id=agent_id, channel=channel).update(load=n)
    return created, len(per_agent)
