"""Typed readers for ``HELPLINE_*`` environment variables.

Every setting is read once, at start-up, and a bad value stops the process with a message that
names the variable: a typo should fail on boot, not on the first request that needs it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit


class ConfigError(Exception):
    """A ``HELPLINE_*`` variable is missing or malformed."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


@dataclass(frozen=True)
class DatabaseUrl:
    engine: str
    name: str
    user: str
    password: str
    host: str
    port: str


def parse_database_url(name: str, raw: str) -> DatabaseUrl:
    parts = urlsplit(raw)
    if parts.scheme in {"postgres", "postgresql", "postgresql+psycopg"}:
        db_name = unquote(parts.path.lstrip("/"))
        if not db_name:
            raise ConfigError(f"{name} must name a database: postgres://user@host:5432/dbname")
        return DatabaseUrl(
            engine="django.db.backends.postgresql",
            name=db_name,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            host=parts.hostname or "",
            port=str(parts.port or ""),
        )
    raise ConfigError(f"{name} must be a postgres:// URL, got scheme {parts.scheme!r}")


def secret_key_from(data_dir: Path) -> str:
    """Return the generated secret key kept in the data dir, creating it on first use."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class SmtpUrl:
    host: str
    port: int
    user: str
    password: str
    use_ssl: bool


def parse_smtp_url(name: str, raw: str) -> SmtpUrl:
    """``smtp://[user:password@]host:port`` (plain or STARTTLS-less) or ``smtps://`` (TLS)."""
    parts = urlsplit(raw)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigError(f"{name} must look like smtp://[user:password@]host:port or smtps://…")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError as exc:
        raise ConfigError(f"{name} has an invalid port") from exc
    return SmtpUrl(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_ssl=parts.scheme == "smtps",
    )
