"""Who is calling: a bearer token, or the agent UI's signed-in session (with CSRF on writes)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from helpline.accounts.models import User
from helpline.accounts.services import api_token_authenticate

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(HttpError):
    """A session-authenticated write without a valid CSRF token."""

    def __init__(self) -> None:
        super().__init__(403, "CSRF check failed: send the X-CSRFToken header with session writes.")


class BearerToken(HttpBearer):
    """``Authorization: Bearer hl_...``; only a SHA-256 of the secret is stored server-side."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return api_token_authenticate(secret=token.strip())


class SessionAuth(APIKeyCookie):
    """The agent UI's Django session.

    Unlike ninja's own SessionAuth, CSRF is checked only once a session user is found and only on
    writes, so an anonymous call gets a plain 401 and a token call never needs a CSRF token.
    """

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user: Any = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_active:
            return None
        if request.method not in _SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed()
        return user


def actor(request: HttpRequest) -> User:
    """The authenticated user of a request that passed the API's auth (never anonymous)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):  # only reachable if an operation was declared auth=None
        raise HttpError(401, "Authentication required.")
    return user
