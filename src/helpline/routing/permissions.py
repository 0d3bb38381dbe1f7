"""Who may change routing. Same NotFound for a missing and a forbidden agent."""

from __future__ import annotations

from helpline.accounts.models import User
from helpline.core.errors import NotFound, PermissionDenied
from helpline.routing.models import RoutingRule


def require_routing_admin(*, actor: User) -> None:
    """Skills, capacities, strategies and rules are set by supervisors and admins."""
    if not (actor.is_active and actor.is_supervisor_or_admin):
        raise PermissionDenied("Only supervisors and admins can change routing.")


def require_queue_viewer(*, actor: User) -> None:
    if not (actor.is_active and actor.is_supervisor_or_admin):
        raise PermissionDenied("Only supervisors and admins can watch the live queue.")


def access_agent(*, actor: User, agent_id: int, for_change: bool = False) -> User:
    """An agent whose routing profile ``actor`` may see (anyone active) or change (herself,
    her presence; supervisors and admins: anyone)."""
    agent = User.objects.filter(pk=agent_id, is_active=True).first()
    if agent is None:
        raise NotFound("Agent not found.")
    if for_change and agent.pk != actor.pk and not actor.is_supervisor_or_admin:
        raise NotFound("Agent not found.")
    return agent


def access_routing_rule(*, actor: User, rule_id: int) -> RoutingRule:
    require_routing_admin(actor=actor)
    rule = RoutingRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("Routing rule not found.")
    return rule
