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
from helpline.api.errors import Throttled
from helpline.core import ratelimit

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(HttpError):
    """A session-authenticated write without a valid CSRF token."""

    def __init__(self) -> None:
        super().__init__(403, "CSRF check failed: send the X-CSRFToken header with session writes.")


def client_ip(request: HttpRequest) -> str:
    """The caller's address as the server saw it (uvicorn applies X-Forwarded-For only from
    the proxies it trusts, by default 127.0.0.1)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def throttle(scope: str, ident: str, *, limit: int, per: str) -> None:
    """Count one request of ``ident``; ``Throttled`` (429) once it is over ``limit`` a minute."""
    verdict = ratelimit.hit(scope, ident, limit=limit)
    if not verdict.allowed:
        raise Throttled(
            f"Too many requests: at most {verdict.limit} a minute per {per}. "
            f"Retry in {verdict.reset_seconds} s.",
            retry_after=verdict.reset_seconds,
        )


def limit_caller(ident: str, *, per: str) -> None:
    """An authenticated caller's request against HELPLINE_API_RATE_PER_MINUTE."""
    throttle("api", ident, limit=settings.HELPLINE_API_RATE_PER_MINUTE, per=per)


class BearerToken(HttpBearer):
    """``Authorization: Bearer hl_...``; only a SHA-256 of the secret is stored server-side.

    Unknown tokens are counted per address: past HELPLINE_API_AUTH_FAILURES_PER_MINUTE that
    address gets 429 for the rest of the minute, before any token is looked at (guessing)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        failures = settings.HELPLINE_API_AUTH_FAILURES_PER_MINUTE
        ip = client_ip(request)
        if failures and ratelimit.used("api-auth-failures", ip) >= failures:
            wait = ratelimit.seconds_left()
            raise Throttled(
                f"Too many requests with unknown tokens from this address. Retry in {wait} s.",
                retry_after=wait,
            )
        secret = token.strip()
        user = api_token_authenticate(secret=secret)
        if user is None:
            if failures:
                ratelimit.hit("api-auth-failures", ip, limit=failures)
            return None
        limit_caller("token:" + secret, per="token")
        return user


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
        limit_caller(f"user:{user.pk}", per="user")
        return user


def actor(request: HttpRequest) -> User:
    """The authenticated user of a request that passed the API's auth (never anonymous)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):  # only reachable if an operation was declared auth=None
        raise HttpError(401, "Authentication required.")
    return user
