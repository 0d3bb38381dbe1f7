"""Routing: skills, agents' presence and capacity, teams' strategies, rules, the waiting queue.

Two tables carry the concurrency guarantees (see docs/routing.md):

- ``AgentLoad`` is one counter per (agent, channel). The router claims a seat with a conditional
  ``UPDATE ... SET load = load + 1 WHERE load < capacity``; only one of two racing claims for the
  last seat can match, on SQLite and PostgreSQL alike.
- ``TicketRouting`` remembers, per ticket, whose counter currently includes it (``load_agent``).
  Every move of a ticket between counters is a compare-and-swap on that column in the same
  transaction as the two counter updates, so a counter always equals the number of rows that
  name it, however many workers replay the same events.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from helpline.accounts.models import Team
from helpline.customers.choices import Channel
from helpline.customers.models import Organisation
from helpline.routing.choices import Presence, PresenceSource, SkillKind, Strategy
from helpline.tickets.choices import Priority
from helpline.tickets.models import Ticket


class Skill(models.Model):
    """Something an agent can do and a ticket can need: a language, a product area, a channel.

    ``key`` ("language:es", "product:billing") is what rules, tickets and teams refer to.
    """

    kind = models.CharField(max_length=10, choices=SkillKind.choices)
    name = models.CharField(max_length=50)
    key = models.CharField(max_length=61, unique=True, editable=False)

    class Meta:
        ordering = ("kind", "name")

    def __str__(self) -> str:
        return self.key


class AgentProfile(models.Model):
    """An agent's routing state: presence, last activity, skills."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="routing_profile",
    )
    presence = models.CharField(
        max_length=10, choices=Presence.choices, default=Presence.OFFLINE, db_index=True
    )
    presence_source = models.CharField(
        max_length=10, choices=PresenceSource.choices, default=PresenceSource.MANUAL
    )
    presence_changed_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    skills = models.ManyToManyField(Skill, related_name="agents", blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.presence})"


class AgentLoad(models.Model):
    """How many tickets of one channel an agent holds (``load``) and may hold (``capacity``).

    An admin lowering ``capacity`` below the current load is allowed: the agent simply gets no
    new work on that channel until she is below it again.
    """

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing_loads"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    capacity = models.PositiveSmallIntegerField()
    load = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "channel"], name="agentload_agent_channel"),
            models.CheckConstraint(condition=Q(load__gte=0), name="agentload_load_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id}/{self.channel}: {self.load}/{self.capacity}"


class TeamProfile(models.Model):
    """How a team's queue hands out work, and which skills the team covers."""

    team = models.OneToOneField(
        Team, primary_key=True, on_delete=models.CASCADE, related_name="routing"
    )
    strategy = models.CharField(
        max_length=20, choices=Strategy.choices, default=Strategy.LEAST_LOADED
    )
    skills = models.ManyToManyField(Skill, related_name="teams", blank=True)
    # Round-robin: the user id last handed a ticket; the next goes to the next id up (wrapping).
    rr_cursor = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.team} ({self.strategy})"


class RoutingRule(models.Model):
    """Conditions → actions, applied in ``position`` order when a ticket opens; first match wins.

    An empty condition list matches anything. ``keywords`` match the subject or the first
    message, case-insensitively. ``set_priority`` only ever raises the priority.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    channels = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    tags_any = models.JSONField(default=list, blank=True)
    priorities = models.JSONField(default=list, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    set_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    add_tags = models.JSONField(default=list, blank=True)
    require_skills = models.ManyToManyField(Skill, related_name="rules", blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.name


class TicketRouting(models.Model):
    """One row per routed ticket: its place in the waiting queue and whose load it counts in.

    ``waiting`` rows form the queue, ordered by ``rank_at`` (see choices.PRIORITY_ALLOWANCE) or
    by the SLA's next due time when the ticket has one. ``team_id`` mirrors the ticket's team so
    the queue of one team is one index range.
    """

    ticket = models.OneToOneField(
        Ticket, primary_key=True, on_delete=models.CASCADE, related_name="routing"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    required_skills = models.JSONField(default=list, blank=True)
    waiting = models.BooleanField(default=False)
    queued_at = models.DateTimeField(null=True, blank=True)
    rank_at = models.DateTimeField(null=True, blank=True)
    load_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    load_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    # Set once the routing rules have run on the ticket; makes TicketOpened idempotent.
    routed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["team", "rank_at"], name="routing_waiting_rank", condition=Q(waiting=True)
            ),
            models.Index(fields=["load_agent", "load_channel"], name="routing_load_agent"),
        ]

    def __str__(self) -> str:
        return f"routing of #{self.ticket_id}"
