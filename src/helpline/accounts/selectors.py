"""Reads for accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from helpline.accounts.models import Team, User


def agent_list(*, active_only: bool = True) -> QuerySet[User]:
    qs = User.objects.all().order_by("name")
    return qs.filter(is_active=True) if active_only else qs


def team_list() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def user_team_ids(*, user: User) -> set[int]:
    return set(user.teams.values_list("id", flat=True))
