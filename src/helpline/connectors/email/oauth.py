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

import hashlib
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from helpline.core.net import is_loopback

TIMEOUT = 20.0
EARLY = 60.0  # a token is renewed this many seconds before its stated expiry


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
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return None
    return "the token_url must be https:// (http:// only on 127.0.0.1 or localhost)"


def refresh_access_token(config: RefreshConfig) -> Grant:
    """Ask the provider for a new access token; raises :class:`TokenRefreshError`."""
    fields = {
        "grant_type": "refresh_token",
        "refresh_token": config.refresh_token,
        "client_id": config.client_id,
    }
    if config.client_secret:
        fields["client_secret"] = config.client_secret
    started = time.monotonic()
    answer = _post_form(config.token_url, fields, what="the refresh token")
    token = answer.get("access_token")
    where = urlsplit(config.token_url).netloc
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


def _post_form(url: str, fields: dict[str, str], *, what: str) -> dict[str, object]:
    """POST ``fields`` to a token endpoint; its JSON answer, or :class:`TokenRefreshError`
    naming the provider's error (never a secret)."""
    where = urlsplit(url).netloc
    problem = check_token_url(url)
    if problem:
        raise TokenRefreshError(f"Not asking: {problem}.")
    request = urllib.request.Request(  # noqa: S310 (https, or http on loopback: checked above)
        url,
        data=urlencode(fields).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            body = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise TokenRefreshError(
            f"The token endpoint {where} refused {what}: {_oauth_error(exc)}"
        ) from None
    except (OSError, ValueError) as exc:
        raise TokenRefreshError(f"The token endpoint {where} could not be reached: {exc}") from None
    try:
        answer = json.loads(body)
    except ValueError:
        raise TokenRefreshError(f"The token endpoint {where} did not answer JSON.") from None
    if not isinstance(answer, dict):
        raise TokenRefreshError(f"The token endpoint {where} did not answer a JSON object.")
    return answer


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


# --- Getting the first refresh token: the authorization-code flow for an installed app -------
#
# The admin registers an OAuth client of the "desktop app" kind with the provider (Google Cloud
# console, or Microsoft Entra with a "mobile and desktop" redirect to http://localhost), then
# runs ``helpline mailbox oauth``: Helpline prints the provider's consent address, catches the
# provider's redirect on a loopback port (RFC 8252), and trades the code, with its PKCE
# verifier (RFC 7636), for the tokens. No public address for Helpline is needed.


@dataclass(frozen=True)
class Provider:
    auth_url: str
    token_url: str
    scope: str
    imap_host: str
    extra: tuple[tuple[str, str], ...] = ()


def provider_preset(name: str, *, tenant: str = "common") -> Provider:
    if name == "google":
        return Provider(
            auth_url="https://accounts.google.com/o/oauth2/v2/auth",
            token_url="https://oauth2.googleapis.com/token",  # noqa: S106 (an address)
            scope="https://mail.google.com/",
            imap_host="imap.gmail.com",
            # A refresh token is issued only for offline access, and again only with consent.
            extra=(("access_type", "offline"), ("prompt", "consent")),
        )
    if name == "microsoft":
        base = f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0"
        return Provider(
            auth_url=f"{base}/authorize",
            token_url=f"{base}/token",
            scope="https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
            imap_host="outlook.office365.com",
        )
    raise ValueError(f"unknown provider {name!r}: google or microsoft (or give the URLs)")


@dataclass(frozen=True)
class Consent:
    """One authorization request: what to send the admin to, and what proves the answer."""

    url: str
    state: str
    verifier: str
    redirect_uri: str


def consent_request(
    provider: Provider, *, client_id: str, redirect_uri: str, login_hint: str = ""
) -> Consent:
    import base64
    import secrets

    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    state = secrets.token_urlsafe(24)
    params = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", provider.scope),
        ("state", state),
        ("code_challenge", challenge.decode()),
        ("code_challenge_method", "S256"),
        *provider.extra,
    ]
    if login_hint:
        params.append(("login_hint", login_hint))
    separator = "&" if "?" in provider.auth_url else "?"
    return Consent(
        url=provider.auth_url + separator + urlencode(params),
        state=state,
        verifier=verifier,
        redirect_uri=redirect_uri,
    )


def exchange_code(
    provider: Provider, consent: Consent, *, code: str, client_id: str, client_secret: str
) -> tuple[str, str]:
    """(access token, refresh token) for the code the provider redirected with."""
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": consent.redirect_uri,
        "client_id": client_id,
        "code_verifier": consent.verifier,
    }
    if client_secret:
        fields["client_secret"] = client_secret
    answer = _post_form(provider.token_url, fields, what="the authorization code")
    access, refresh = answer.get("access_token"), answer.get("refresh_token")
    if not isinstance(access, str) or not access:
        raise TokenRefreshError("The token endpoint answered without an access_token.")
    if not isinstance(refresh, str) or not refresh:
        raise TokenRefreshError(
            "The provider gave no refresh token: Google gives one with access_type=offline and "
            "prompt=consent (Helpline asks for both); Microsoft with the offline_access scope."
        )
    return access, refresh


class RedirectCatcher:
    """A one-shot HTTP listener on 127.0.0.1 for the provider's redirect back (RFC 8252 7.3)."""

    def __init__(self, *, port: int = 0, host_name: str = "127.0.0.1") -> None:
        from http.server import BaseHTTPRequestHandler, HTTPServer

        answers: list[dict[str, str]] = []
        self._answers = answers

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                from urllib.parse import parse_qs

                query = parse_qs(urlsplit(self.path).query)
                answers.append({k: v[-1] for k, v in query.items()})
                done = "code" in query or "error" in query
                body = (
                    b"<!doctype html><title>Helpline</title><p>Helpline has the answer; you "
                    b"can close this tab and go back to the terminal.</p>"
                    if done
                    else b"<!doctype html><title>Helpline</title><p>Waiting for the sign-in.</p>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = HTTPServer(("127.0.0.1", port), Handler)
        self.redirect_uri = f"http://{host_name}:{self._server.server_address[1]}/"

    def wait(self, *, state: str, timeout: float = 300.0) -> str:
        """The code of the redirect that carries ``state``; raises on an error or timeout."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self._server.timeout = max(0.1, min(1.0, deadline - time.monotonic()))
                self._server.handle_request()
                while self._answers:
                    answer = self._answers.pop(0)
                    if answer.get("state") != state:
                        continue  # not ours (a stray request, or a stale tab)
                    if "error" in answer:
                        detail = answer.get("error_description", "")
                        raise TokenRefreshError(
                            f"The provider refused the consent: {answer['error']}"
                            + (f" ({detail[:300]})" if detail else "")
                        )
                    if answer.get("code"):
                        return answer["code"]
        finally:
            self._server.server_close()
        raise TokenRefreshError(f"No answer from the provider within {timeout:.0f} s.")
