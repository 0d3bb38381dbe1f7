"""Writes for accounts."""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from helpline.accounts.choices import Role
from helpline.accounts.models import ApiToken, Team, User
from helpline.core import clock
from helpline.core.errors import Conflict, ValidationError

TOKEN_PREFIX = "hl_"  # noqa: S105  (a public prefix, not a secret)


def user_create(
    *,
    email: str,
    name: str,
    password: str | None,
    role: Role = Role.AGENT,
    teams: Iterable[Team] = (),
    restricted_to_teams: bool = False,
) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationError("Enter a valid email address.", field="email")
    if User.objects.filter(email=email).exists():
        raise Conflict(f"A user with email {email} already exists.", field="email")
    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            password=password,
            name=name.strip() or email.split("@")[0],
            role=role,
            restricted_to_teams=restricted_to_teams,
            is_superuser=role == Role.ADMIN,
        )
        team_list = list(teams)
        if team_list:
            user.teams.set(team_list)
    return user


def team_create(*, name: str, description: str = "") -> Team:
    name = name.strip()
    if not name:
        raise ValidationError("A team needs a name.", field="name")
    team, _ = Team.objects.get_or_create(name=name, defaults={"description": description})
    return team


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:10], digest=_digest(secret)
    )
    return token, secret


# The owner of a token is remembered in each process for TOKEN_CACHE_SECONDS after the database
# confirmed it, so a busy integration costs one token query per process every few seconds, not
# one per request. The price (docs/adr/0006): a token revoked elsewhere (another process, the
# admin), or its agent deactivated or given another role, still works for at most that long in
# a process that had just seen it. A revocation through api_token_revoke is forgotten at once by
# the process that made it.
TOKEN_CACHE_SECONDS = 3.0
_TOKEN_CACHE_MAX = 4096
_USER_FIELDS = tuple(field.attname for field in User._meta.concrete_fields)
_tokens: dict[str, tuple[float, tuple[Any, ...]]] = {}  # digest -> (until, the user's row)
_tokens_lock = threading.Lock()


def api_token_authenticate(*, secret: str) -> User | None:
    """Return the active user owning ``secret``, or None. Records when the token was last used
    (at most once a minute). The user is a fresh instance every call, never shared."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    digest = _digest(secret)
    now = time.monotonic()
    hit = _tokens.get(digest)
    if hit is not None and hit[0] > now:
        return User.from_db("default", _USER_FIELDS, hit[1])
    user = _token_owner(digest)
    with _tokens_lock:
        if user is None:
            _tokens.pop(digest, None)
        else:
            if len(_tokens) >= _TOKEN_CACHE_MAX:
                _tokens.clear()
            _tokens[digest] = (now + TOKEN_CACHE_SECONDS, _row(user))
    return user


def _row(user: User) -> tuple[Any, ...]:
    return tuple(getattr(user, name) for name in _USER_FIELDS)


def _token_owner(digest: str) -> User | None:
    # The digest is unique: no ORDER BY (``first()`` would add one to a hot path).
    found = list(
        ApiToken.objects.select_related("user").filter(
            digest=digest, revoked_at__isnull=True, user__is_active=True
        )[:1]
    )
    if not found:
        return None
    token = found[0]
    now = clock.now()
    # Write at most once a minute: the API's hot path should not update a row per request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_forget_all() -> None:
    """Forget every token this process remembers (after deactivating agents, in tests)."""
    with _tokens_lock:
        _tokens.clear()


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    # This process forgets the token now and again at commit (a request may have cached it
    # in between); other processes within TOKEN_CACHE_SECONDS.
    _token_forget(token.digest)
    transaction.on_commit(functools.partial(_token_forget, token.digest))


def _token_forget(digest: str) -> None:
    with _tokens_lock:
        _tokens.pop(digest, None)
