"""Reads for routing: the live queue snapshot, profiles, rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Min, Q, QuerySet

from helpline.accounts.models import Team
from helpline.core import clock
from helpline.customers.choices import Channel
from helpline.routing.choices import PRESENCE_COLOURS, Presence
from helpline.routing.models import AgentLoad, AgentProfile, RoutingRule, Skill, TicketRouting


def duration_display(seconds: int) -> str:
    """"45 s", "12 min", "3 h 05 min", "2 d 4 h": a wait as a supervisor reads it."""
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


@dataclass(frozen=True)
class QueueRow:
    team_id: int | None
    team_name: str
    channel: str
    waiting: int
    oldest_queued_at: datetime | None
    oldest_wait_seconds: int

    @property
    def oldest_wait_display(self) -> str:
        return duration_display(self.oldest_wait_seconds)


@dataclass(frozen=True)
class ChannelLoad:
    channel: str
    load: int
    capacity: int


@dataclass(frozen=True)
class AgentRow:
    agent_id: int
    name: str
    presence: str
    last_seen_at: datetime | None
    loads: list[ChannelLoad]
    total_load: int
    total_capacity: int
    teams: list[str]

    @property
    def presence_label(self) -> str:
        return str(Presence(self.presence).label)

    @property
    def presence_colour(self) -> str:
        return PRESENCE_COLOURS[self.presence]


@dataclass(frozen=True)
class QueueStatus:
    generated_at: datetime
    queues: list[QueueRow]
    agents: list[AgentRow]
    waiting_total: int = 0
    oldest_wait_seconds: int = 0
    online: int = 0
    away: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)

    @property
    def oldest_wait_display(self) -> str:
        return duration_display(self.oldest_wait_seconds)


def queue_status(*, now: datetime | None = None) -> QueueStatus:
    """What a supervisor watches: waiting work per team and channel, and who is on.

    Agents listed: everyone online or away, and offline agents still holding work. A fixed
    number of queries whatever the size of the queue.
    """
    now = now or clock.now()
    grouped = (
        TicketRouting.objects.filter(waiting=True)
        .values("team_id", "channel")
        .annotate(n=Count("ticket_id"), oldest=Min("queued_at"))
        .order_by()
    )
    teams = dict(Team.objects.values_list("pk", "name"))
    queues = sorted(
        (
            QueueRow(
                team_id=row["team_id"],
                team_name=teams.get(row["team_id"], "No team") if row["team_id"] else "No team",
                channel=row["channel"],
                waiting=row["n"],
                oldest_queued_at=row["oldest"],
                oldest_wait_seconds=max(0, int((now - row["oldest"]).total_seconds()))
                if row["oldest"]
                else 0,
            )
            for row in grouped
        ),
        key=lambda q: (q.team_id is None, q.team_name, q.channel),
    )
    profiles = list(
        AgentProfile.objects.filter(user__is_active=True)
        .filter(
            ~Q(presence=Presence.OFFLINE)
            | Q(user__routing_loads__load__gt=0)
        )
        .distinct()
        .select_related("user")
        .prefetch_related("user__teams")
        .order_by("user__name", "user_id")
    )
    loads: dict[int, list[ChannelLoad]] = {}
    for load in AgentLoad.objects.filter(agent_id__in=[p.user_id for p in profiles]).order_by(
        "channel"
    ):
        if load.load or load.capacity:
            loads.setdefault(load.agent_id, []).append(
                ChannelLoad(channel=load.channel, load=load.load, capacity=load.capacity)
            )
    agents = [
        AgentRow(
            agent_id=p.user_id,
            name=str(p.user),
            presence=p.presence,
            last_seen_at=p.last_seen_at,
            loads=loads.get(p.user_id, []),
            total_load=sum(c.load for c in loads.get(p.user_id, [])),
            total_capacity=sum(c.capacity for c in loads.get(p.user_id, [])),
            teams=sorted(t.name for t in p.user.teams.all()),
        )
        for p in profiles
    ]
    by_channel: dict[str, int] = {}
    for q in queues:
        by_channel[q.channel] = by_channel.get(q.channel, 0) + q.waiting
    return QueueStatus(
        generated_at=now,
        queues=queues,
        agents=agents,
        waiting_total=sum(q.waiting for q in queues),
        oldest_wait_seconds=max((q.oldest_wait_seconds for q in queues), default=0),
        online=sum(1 for a in agents if a.presence == Presence.ONLINE),
        away=sum(1 for a in agents if a.presence == Presence.AWAY),
        by_channel={c: by_channel[c] for c in Channel.values if c in by_channel},
    )


def agent_profile_get(*, agent_id: int) -> AgentProfile | None:
    return (
        AgentProfile.objects.select_related("user").prefetch_related("skills")
        .filter(pk=agent_id).first()
    )


def agent_loads(*, agent_id: int) -> list[AgentLoad]:
    return list(AgentLoad.objects.filter(agent_id=agent_id).order_by("channel"))


def skill_list() -> QuerySet[Skill]:
    return Skill.objects.order_by("kind", "name")


def routing_rule_list() -> QuerySet[RoutingRule]:
    return RoutingRule.objects.select_related("set_team", "organisation").prefetch_related(
        "require_skills"
    )
