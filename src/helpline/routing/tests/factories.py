from __future__ import annotations

from collections.abc import Sequence

from helpline.accounts.choices import Role
from helpline.accounts.models import Team, User
from helpline.accounts.tests.factories import TeamFactory, UserFactory
from helpline.routing import services
from helpline.routing.choices import Presence, Strategy
from helpline.routing.models import TeamProfile


def make_team(*, name: str | None = None, strategy: str = Strategy.LEAST_LOADED,
              skills: Sequence[str] = ()) -> Team:
    team = TeamFactory(name=name) if name else TeamFactory()
    services.team_profile_set(team=team, strategy=strategy, skill_keys=list(skills))
    return team


def make_agent(
    *,
    teams: Sequence[Team] = (),
    skills: Sequence[str] = (),
    capacity: dict[str, int] | None = None,
    presence: str = Presence.ONLINE,
    role: str = Role.AGENT,
) -> User:
    """An agent with a routing profile; capacities default to choices.DEFAULT_CAPACITY."""
    user = UserFactory(role=role)
    if teams:
        user.teams.set(teams)
    services.agent_profile_ensure(agent=user)
    if skills:
        services.agent_skills_set(agent=user, skill_keys=list(skills))
    for channel, value in (capacity or {}).items():
        services.agent_capacity_set(agent=user, channel=channel, capacity=value)
    if presence != Presence.OFFLINE:
        services.agent_presence_set(agent=user, presence=presence)
    return user


def strategy_of(team: Team) -> str:
    return TeamProfile.objects.get(pk=team.pk).strategy
