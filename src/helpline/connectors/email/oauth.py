"""OAuth 2 access tokens for XOAUTH2 mailboxes (Gmail, Microsoft 365), kept fresh with a
refresh token.

An access token from Google or Microsoft lives about an hour. A mailbox whose IMAP URL also
carries the provider's token endpoint, the client's id (and secret) and a refresh token gets a
new access token from that endpoint (RFC 6749 section 6, ``grant_type=refresh_token``) when it
has none, when the one it has is known to be expired, or when the server refuses it at login.

Access tokens live in this process's memory only, until a minute before they expire. A refresh
token the provider rotates (Microsoft sends a new one with every grant) is handed back to the
caller, which writes it into the mailbox's encrypted IMAP URL. No token or secret is ever part
of an error message or a log line.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

TIMEOUT = 20.0
EARLY = 60.0  # a token is renewed this many seconds before its stated expiry
_LOOPBACK_NAMES = {"localhost"}


class TokenRefreshError(Exception):
    """The token endpoint could not be reached or refused the refresh token (no secrets)."""


@dataclass(frozen=True)
class RefreshConfig:
    token_url: str
    client_id: str
    client_secret: str
    refresh_token: str

    def __repr__(self) -> str:  # never print the secret or the token
        return f"RefreshConfig({self.token_url}, client_id={self.client_id})"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.token_url, self.client_id, self.refresh_token)


@dataclass(frozen=True)
class Grant:
    access_token: str
    expires_at: float | None  # time.monotonic() when it stops being used; None: unknown
    refresh_token: str | None  # a new refresh token, when the provider rotated it

    def __repr__(self) -> str:
        return f"Grant(expires_at={self.expires_at}, rotated={self.refresh_token is not None})"


def check_token_url(url: str) -> str | None:
    """Why ``url`` cannot be a token endpoint, or None. HTTPS only, except on loopback (a
    local test provider or proxy): the client secret and refresh token travel in the body."""
    parts = urlsplit(url)
    if not parts.hostname:
        return f"the token_url {url!r} has no host"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _loopback(parts.hostname):
        return None
    return "the token_url must be https:// (http:// only on 127.0.0.1 or localhost)"


def _loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refresh_access_token(config: RefreshConfig) -> Grant:
    """Ask the provider for a new access token; raises :class:`TokenRefreshError`."""
    fields = {
        "grant_type": "refresh_token",
        "refresh_token": config.refresh_token,
        "client_id": config.client_id,
    }
    if config.client_secret:
        fields["client_secret"] = config.client_secret
    problem = check_token_url(config.token_url)
    if problem:
        raise TokenRefreshError(f"Not asking: {problem}.")
    request = urllib.request.Request(  # noqa: S310 (https, or http on loopback: checked above)
        config.token_url,
        data=urlencode(fields).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    where = urlsplit(config.token_url).netloc
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            body = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise TokenRefreshError(
            f"The token endpoint {where} refused the refresh token: {_oauth_error(exc)}"
        ) from None
    except (OSError, ValueError) as exc:
        raise TokenRefreshError(f"The token endpoint {where} could not be reached: {exc}") from None
    try:
        answer = json.loads(body)
    except ValueError:
        raise TokenRefreshError(f"The token endpoint {where} did not answer JSON.") from None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenRefreshError(f"The token endpoint {where} answered without an access_token.")
    expires_in = answer.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and expires_in > 0:
        expires_at = started + max(0.0, float(expires_in) - EARLY)
    rotated = answer.get("refresh_token")
    if not isinstance(rotated, str) or not rotated or rotated == config.refresh_token:
        rotated = None
    return Grant(access_token=token, expires_at=expires_at, refresh_token=rotated)


def _oauth_error(exc: urllib.error.HTTPError) -> str:
    """The provider's ``error`` and ``error_description`` (RFC 6749 section 5.2), if any."""
    try:
        answer = json.loads(exc.read(4096))
    except (OSError, ValueError):
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        description = answer.get("error_description")
        text = str(answer["error"])
        if isinstance(description, str) and description:
            text += f" ({description[:300]})"
        return text
    return f"HTTP {exc.code}"


class TokenCache:
    """This process's access tokens, one per refresh configuration."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str], Grant] = {}

    def valid(self, config: RefreshConfig) -> str | None:
        with self._lock:
            grant = self._tokens.get(config.key)
        if grant is None:
            return None
        if grant.expires_at is not None and time.monotonic() >= grant.expires_at:
            return None
        return grant.access_token

    def seen(self, config: RefreshConfig) -> bool:
        with self._lock:
            return config.key in self._tokens

    def refresh(self, config: RefreshConfig) -> Grant:
        grant = refresh_access_token(config)
        with self._lock:
            self._tokens[config.key] = grant
            if grant.refresh_token is not None:  # the next URL carries the rotated token
                rotated = RefreshConfig(
                    config.token_url, config.client_id, config.client_secret, grant.refresh_token
                )
                self._tokens[rotated.key] = grant
        return grant

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


tokens = TokenCache()
