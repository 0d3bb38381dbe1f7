"""``/api/v1/me``: who the token or session belongs to."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from helpline.accounts.models import User
from helpline.api.auth import actor
from helpline.api.schemas import MeOut

router = Router(tags=["me"])


@router.get("", response=MeOut, summary="The calling agent, with role and teams")
def me(request: HttpRequest) -> User:
    return actor(request)
