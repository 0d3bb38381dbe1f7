"""Which SLA policy applies to a ticket: the first active policy, in ``position`` order, whose
conditions all hold and which has targets for the ticket's priority."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Prefetch

from helpline.core import memo
from helpline.sla.business_hours import TWENTY_FOUR_SEVEN, CalendarSpec
from helpline.sla.clocks import Targets
from helpline.sla.models import BusinessCalendar, SlaPolicy
from helpline.tickets.models import Ticket


@dataclass(frozen=True)
class PolicyRule:
    """A policy loaded once, ready to match many tickets without touching the database."""

    id: int
    name: str
    channels: frozenset[str]
    priorities: frozenset[str]
    organisation_id: int | None
    tier: str
    tags: frozenset[str]
    team_id: int | None
    calendar: CalendarSpec
    pausing_statuses: frozenset[str]
    warn_share: float
    # priority -> (first response, next response, resolution) in business minutes
    targets: dict[str, tuple[int | None, int | None, int | None]]
    escalate_raise_priority: bool
    escalate_team_id: int | None

    def targets_for(self, priority: str) -> Targets | None:
        row = self.targets.get(priority)
        if row is None:
            return None
        return Targets(
            first_response=row[0],
            next_response=row[1],
            resolution=row[2],
            pausing_statuses=self.pausing_statuses,
            warn_share=self.warn_share,
        )


@dataclass(frozen=True)
class TicketFacts:
    """The ticket attributes policies can test."""

    channel: str
    priority: str
    organisation_id: int | None
    tier: str
    tags: frozenset[str]
    team_id: int | None


def load_policies() -> list[PolicyRule]:
    """Every active policy in order, with targets and calendars (four queries; once per batch
    of background work, see core.memo)."""
    return memo.memoized("sla.policies", _load_policies)


def _load_policies() -> list[PolicyRule]:
    policies = (
        SlaPolicy.objects.filter(is_active=True)
        .prefetch_related(
            "targets",
            Prefetch(
                "calendar",
                queryset=BusinessCalendar.objects.prefetch_related("intervals", "holidays"),
            ),
        )
        .order_by("position", "id")
    )
    return [_rule(p) for p in policies]


def _rule(policy: SlaPolicy) -> PolicyRule:
    return PolicyRule(
        id=policy.pk,
        name=policy.name,
        channels=frozenset(policy.channels or ()),
        priorities=frozenset(policy.priorities or ()),
        organisation_id=policy.organisation_id,
        tier=policy.tier.strip().lower(),
        tags=frozenset(t.strip().lower() for t in policy.tags or ()),
        team_id=policy.team_id,
        calendar=policy.calendar.to_spec() if policy.calendar else TWENTY_FOUR_SEVEN,
        pausing_statuses=frozenset(policy.pausing_statuses or ()),
        warn_share=policy.warn_share,
        targets={
            t.priority: (t.first_response_minutes, t.next_response_minutes, t.resolution_minutes)
            for t in policy.targets.all()
        },
        escalate_raise_priority=policy.escalate_raise_priority,
        escalate_team_id=policy.escalate_team_id,
    )


def _tier(ticket: Ticket) -> str:
    customer = ticket.customer
    value = (customer.attributes or {}).get("tier")
    if not value and customer.organisation is not None:
        value = (customer.organisation.attributes or {}).get("tier")
    return str(value or "").strip().lower()


def ticket_facts(ticket: Ticket, *, tags: Iterable[str] | None = None) -> TicketFacts:
    """Facts of ``ticket``; pass ``tags`` when already loaded (bulk paths)."""
    names = tags if tags is not None else ticket.tags.values_list("name", flat=True)
    return TicketFacts(
        channel=ticket.channel,
        priority=ticket.priority,
        organisation_id=ticket.customer.organisation_id,
        tier=_tier(ticket),
        tags=frozenset(names),
        team_id=ticket.team_id,
    )


def matches(rule: PolicyRule, facts: TicketFacts) -> bool:
    return (
        (not rule.channels or facts.channel in rule.channels)
        and (not rule.priorities or facts.priority in rule.priorities)
        and (rule.organisation_id is None or facts.organisation_id == rule.organisation_id)
        and (not rule.tier or facts.tier == rule.tier)
        and (not rule.tags or bool(rule.tags & facts.tags))
        and (rule.team_id is None or facts.team_id == rule.team_id)
        and facts.priority in rule.targets
    )


def match_policy(rules: Sequence[PolicyRule], facts: TicketFacts) -> PolicyRule | None:
    for rule in rules:
        if matches(rule, facts):
            return rule
    return None
