"""Who may see which ticket. Every read of tickets goes through ``ticket_visible_to``."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from helpline.accounts.models import User
from helpline.core.errors import NotFound
from helpline.customers.models import Customer
from helpline.tickets.models import Ticket


def ticket_scope(*, actor: User) -> Q:
    """The filter of tickets ``actor`` may see; restricted agents see their teams' and their own."""
    if not actor.is_active:
        return Q(pk__in=[])
    if actor.restricted_to_teams and not actor.is_supervisor_or_admin:
        team_ids = list(actor.teams.values_list("id", flat=True))
        return Q(team_id__in=team_ids) | Q(assignee_id=actor.pk)
    return Q()


def ticket_visible_to(*, actor: User, queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    qs = Ticket.objects.all() if queryset is None else queryset
    return qs.filter(ticket_scope(actor=actor))


def access_ticket(*, actor: User, ticket_id: int, for_update: bool = False) -> Ticket:
    """The ticket, if ``actor`` may see it; the same NotFound whether it is missing or forbidden."""
    ticket = (
        ticket_visible_to(actor=actor)
        .select_related("customer", "assignee", "team")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound("Ticket not found.")
    return ticket


def customer_visible_to(
    *, actor: User, queryset: QuerySet[Customer] | None = None
) -> QuerySet[Customer]:
    """Customers ``actor`` may see: everyone for unrestricted staff; for an agent restricted to
    her teams, the customers of tickets she may see (what she needs to answer them, no more)."""
    qs = Customer.objects.all() if queryset is None else queryset
    if not actor.is_active:
        return qs.none()
    if actor.restricted_to_teams and not actor.is_supervisor_or_admin:
        visible = ticket_visible_to(actor=actor).values("customer_id")
        return qs.filter(pk__in=visible)
    return qs
