"""Small helpers shared by the agent UI's views."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from helpline.accounts.models import User

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def agent_required(view: V) -> V:
    """Signed-in staff only; everyone else goes to the sign-in page."""
    return login_required(view)


def current_agent(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "agent_required runs first"
    return user


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a forwarded-for header is whatever the client wants it to be unless a
    # trusted proxy sets it, and the rate limit must not be that easy to step around.
    return str(request.META.get("REMOTE_ADDR", ""))


def htmx_redirect(url: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["HX-Redirect"] = url
    return response
