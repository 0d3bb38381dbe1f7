"""``/api/v1/routing``: skills, agents' presence/skills/capacity, team strategies, rules, queue."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from helpline.accounts.models import Team
from helpline.api.auth import actor
from helpline.core.errors import NotFound
from helpline.customers.choices import Channel
from helpline.routing import selectors, services
from helpline.routing.choices import Presence, SkillKind, Strategy
from helpline.routing.models import RoutingRule, Skill, TeamProfile
from helpline.routing.permissions import (
    access_agent,
    access_routing_rule,
    require_queue_viewer,
    require_routing_admin,
)
from helpline.routing.services import RuleFields
from helpline.tickets.permissions import access_ticket

router = Router(tags=["routing"])


# --- schemas --------------------------------------------------------------------------------


class SkillOut(Schema):
    id: int
    kind: str
    name: str
    key: str


class SkillIn(Schema):
    kind: SkillKind
    name: str = Field(..., min_length=1, max_length=50)


class ChannelCapacityOut(Schema):
    channel: str
    capacity: int
    load: int


class AgentRoutingOut(Schema):
    agent_id: int
    name: str
    presence: str
    last_seen_at: datetime | None
    skills: list[str]
    capacity: list[ChannelCapacityOut]


class PresenceIn(Schema):
    presence: Presence


class SkillsIn(Schema):
    skills: list[str] = Field(default_factory=list, max_length=100)


class CapacityIn(Schema):
    capacity: dict[Channel, int] = Field(
        ..., description="Channel → most tickets of that channel at once, e.g. {\"chat\": 3}."
    )


class TeamRoutingOut(Schema):
    team_id: int
    name: str
    strategy: str
    skills: list[str]


class TeamRoutingIn(Schema):
    strategy: Strategy | None = None
    skills: list[str] | None = Field(None, max_length=100)


class RuleIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    position: int = Field(0, ge=0)
    is_active: bool = True
    channels: list[str] = Field(default_factory=list, max_length=20)
    languages: list[str] = Field(default_factory=list, max_length=50)
    keywords: list[str] = Field(default_factory=list, max_length=100)
    tags_any: list[str] = Field(default_factory=list, max_length=100)
    priorities: list[str] = Field(default_factory=list, max_length=4)
    organisation_id: int | None = None
    set_team_id: int | None = None
    set_priority: str = ""
    add_tags: list[str] = Field(default_factory=list, max_length=50)
    require_skills: list[str] = Field(default_factory=list, max_length=50)


class RuleOut(RuleIn):
    id: int


class QueueRowOut(Schema):
    team_id: int | None
    team_name: str
    channel: str
    waiting: int
    oldest_queued_at: datetime | None
    oldest_wait_seconds: int


class AgentLoadOut(Schema):
    channel: str
    load: int
    capacity: int


class AgentRowOut(Schema):
    agent_id: int
    name: str
    presence: str
    last_seen_at: datetime | None
    loads: list[AgentLoadOut]
    total_load: int
    total_capacity: int
    teams: list[str]


class QueueStatusOut(Schema):
    generated_at: datetime
    waiting_total: int
    oldest_wait_seconds: int
    online: int
    away: int
    by_channel: dict[str, int]
    queues: list[QueueRowOut]
    agents: list[AgentRowOut]


# --- helpers --------------------------------------------------------------------------------


def _agent_out(agent_id: int) -> dict[str, object]:
    profile = selectors.agent_profile_get(agent_id=agent_id)
    if profile is None:
        raise NotFound("Agent not found.")
    return {
        "agent_id": profile.user_id,
        "name": str(profile.user),
        "presence": profile.presence,
        "last_seen_at": profile.last_seen_at,
        "skills": sorted(s.key for s in profile.skills.all()),
        "capacity": [
            {"channel": load.channel, "capacity": load.capacity, "load": load.load}
            for load in selectors.agent_loads(agent_id=agent_id)
        ],
    }


def _rule_out(rule: RoutingRule) -> dict[str, object]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "position": rule.position,
        "is_active": rule.is_active,
        "channels": rule.channels,
        "languages": rule.languages,
        "keywords": rule.keywords,
        "tags_any": rule.tags_any,
        "priorities": rule.priorities,
        "organisation_id": rule.organisation_id,
        "set_team_id": rule.set_team_id,
        "set_priority": rule.set_priority,
        "add_tags": rule.add_tags,
        "require_skills": sorted(s.key for s in rule.require_skills.all()),
    }


def _team_out(team: Team) -> dict[str, object]:
    profile = TeamProfile.objects.filter(pk=team.pk).prefetch_related("skills").first()
    return {
        "team_id": team.pk,
        "name": team.name,
        "strategy": profile.strategy if profile else Strategy.LEAST_LOADED,
        "skills": sorted(s.key for s in profile.skills.all()) if profile else [],
    }


def _rule_fields(body: RuleIn) -> RuleFields:
    return RuleFields(**body.dict())


# --- queue ----------------------------------------------------------------------------------


@router.get("/queue", response=QueueStatusOut, summary="The live queue: waiting work and agents")
def queue_view(request: HttpRequest) -> selectors.QueueStatus:
    require_queue_viewer(actor=actor(request))
    return selectors.queue_status()


@router.post(
    "/tickets/{ticket_id}/take", response={200: dict[str, int]},
    summary="Take an unassigned ticket from the queue (409 if someone was faster)",
)
def ticket_take_view(request: HttpRequest, ticket_id: int) -> dict[str, int]:
    user = actor(request)
    ticket = access_ticket(actor=user, ticket_id=ticket_id)
    taken = services.ticket_take(ticket=ticket, agent=user)
    return {"ticket_id": taken.pk, "assignee_id": user.pk}


# --- skills ---------------------------------------------------------------------------------


@router.get("/skills", response=list[SkillOut], summary="All skills")
def skill_list_view(request: HttpRequest) -> list[Skill]:
    actor(request)
    return list(selectors.skill_list())


@router.post("/skills", response={201: SkillOut}, summary="Create a skill (idempotent)")
def skill_create_view(request: HttpRequest, body: SkillIn) -> Status[Skill]:
    require_routing_admin(actor=actor(request))
    return Status(201, services.skill_create(kind=body.kind, name=body.name))


@router.delete("/skills/{skill_id}", response={204: None}, summary="Delete a skill")
def skill_delete_view(request: HttpRequest, skill_id: int) -> HttpResponse:
    require_routing_admin(actor=actor(request))
    skill = Skill.objects.filter(pk=skill_id).first()
    if skill is None:
        raise NotFound("Skill not found.")
    services.skill_delete(skill=skill)
    return HttpResponse(status=204)


# --- agents ---------------------------------------------------------------------------------


@router.get("/agents/{agent_id}", response=AgentRoutingOut, summary="An agent's routing profile")
def agent_view(request: HttpRequest, agent_id: int) -> dict[str, object]:
    agent = access_agent(actor=actor(request), agent_id=agent_id)
    services.agent_profile_ensure(agent=agent)
    return _agent_out(agent.pk)


@router.put(
    "/agents/{agent_id}/presence", response=AgentRoutingOut,
    summary="Set presence (agents: their own; supervisors: anyone's)",
)
def agent_presence_view(request: HttpRequest, agent_id: int, body: PresenceIn) -> dict[str, object]:
    agent = access_agent(actor=actor(request), agent_id=agent_id, for_change=True)
    services.agent_presence_set(agent=agent, presence=body.presence)
    return _agent_out(agent.pk)


@router.put("/agents/{agent_id}/skills", response=AgentRoutingOut, summary="Set an agent's skills")
def agent_skills_view(request: HttpRequest, agent_id: int, body: SkillsIn) -> dict[str, object]:
    user = actor(request)
    require_routing_admin(actor=user)
    agent = access_agent(actor=user, agent_id=agent_id, for_change=True)
    services.agent_skills_set(agent=agent, skill_keys=body.skills)
    return _agent_out(agent.pk)


@router.put(
    "/agents/{agent_id}/capacity", response=AgentRoutingOut,
    summary="Set an agent's capacity per channel (only the channels given change)",
)
def agent_capacity_view(request: HttpRequest, agent_id: int, body: CapacityIn) -> dict[str, object]:
    user = actor(request)
    require_routing_admin(actor=user)
    agent = access_agent(actor=user, agent_id=agent_id, for_change=True)
    for channel, capacity in body.capacity.items():
        services.agent_capacity_set(agent=agent, channel=channel, capacity=capacity)
    return _agent_out(agent.pk)


# --- teams ----------------------------------------------------------------------------------


@router.get("/teams", response=list[TeamRoutingOut], summary="Teams with strategy and skills")
def team_list_view(request: HttpRequest) -> list[dict[str, object]]:
    actor(request)
    return [_team_out(team) for team in Team.objects.order_by("name")]


@router.put("/teams/{team_id}", response=TeamRoutingOut, summary="Set a team's strategy/skills")
def team_update_view(request: HttpRequest, team_id: int, body: TeamRoutingIn) -> dict[str, object]:
    require_routing_admin(actor=actor(request))
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound("Team not found.")
    if body.strategy is not None and body.skills is not None:
        services.team_profile_set(team=team, strategy=body.strategy, skill_keys=body.skills)
    elif body.strategy is not None:
        services.team_profile_set(team=team, strategy=body.strategy)
    elif body.skills is not None:
        services.team_profile_set(team=team, skill_keys=body.skills)
    return _team_out(team)


# --- rules ----------------------------------------------------------------------------------


@router.get("/rules", response=list[RuleOut], summary="Routing rules in the order they apply")
def rule_list_view(request: HttpRequest) -> list[dict[str, object]]:
    require_routing_admin(actor=actor(request))
    return [_rule_out(rule) for rule in selectors.routing_rule_list()]


@router.post("/rules", response={201: RuleOut}, summary="Create a routing rule")
def rule_create_view(request: HttpRequest, body: RuleIn) -> Status[dict[str, object]]:
    require_routing_admin(actor=actor(request))
    rule = services.routing_rule_create(fields=_rule_fields(body))
    return Status(201, _rule_out(rule))


@router.get("/rules/{rule_id}", response=RuleOut, summary="One routing rule")
def rule_view(request: HttpRequest, rule_id: int) -> dict[str, object]:
    return _rule_out(access_routing_rule(actor=actor(request), rule_id=rule_id))


@router.put("/rules/{rule_id}", response=RuleOut, summary="Replace a routing rule")
def rule_update_view(request: HttpRequest, rule_id: int, body: RuleIn) -> dict[str, object]:
    rule = access_routing_rule(actor=actor(request), rule_id=rule_id)
    return _rule_out(services.routing_rule_update(rule=rule, fields=_rule_fields(body)))


@router.delete("/rules/{rule_id}", response={204: None}, summary="Delete a routing rule")
def rule_delete_view(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = access_routing_rule(actor=actor(request), rule_id=rule_id)
    services.routing_rule_delete(rule=rule)
    return HttpResponse(status=204)
