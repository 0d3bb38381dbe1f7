"""Email settings, read from ``HELPLINE_*`` environment variables once and validated.

Kept here rather than in config/settings.py so the connector owns its knobs; each is typed and a
bad value fails on first load (at start-up: ``apps.ready`` loads it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from helpline.config.env import ConfigError, env_int, env_str
from helpline.core.crypto import UnreadableSecret


@dataclass(frozen=True)
class SmtpTarget:
    """Where to send outbound mail: parsed from ``smtp://[user:pw@]host:port`` or ``smtps://``."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str
    password: str


def parse_smtp_url(raw: str, *, name: str = "HELPLINE_SMTP_URL") -> SmtpTarget:
    if isinstance(raw, UnreadableSecret):  # stored under another secret key (core.crypto)
        raise ConfigError(f"The stored {name} is unreadable. {raw}")
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"smtp", "smtps"}:
        raise ConfigError(f"{name} must be smtp:// or smtps://, got {parts.scheme!r}")
    if not parts.hostname:
        raise ConfigError(f"{name} must name a host: smtp://host:port")
    implicit = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 25),
        implicit_tls=implicit,
        starttls=not implicit and "starttls" in (parts.query or ""),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


@dataclass(frozen=True)
class EmailConfig:
    smtp_url: str
    webhook_secret: str
    max_message_bytes: int
    max_attachment_bytes: int
    ack_per_hour: int
    spam_threshold: float
    listener_tls_cert: str
    listener_tls_key: str
    listener_auth: str
    listener_rate_per_minute: int = 600

    @property
    def relay(self) -> SmtpTarget | None:
        return parse_smtp_url(self.smtp_url) if self.smtp_url else None


@functools.cache
def email_config() -> EmailConfig:
    smtp_url = env_str("HELPLINE_SMTP_URL")
    if smtp_url:
        parse_smtp_url(smtp_url)
    threshold_raw = env_str("HELPLINE_EMAIL_SPAM_THRESHOLD", "0.95")
    try:
        threshold = float(threshold_raw)
    except ValueError as exc:
        raise ConfigError(
            f"HELPLINE_EMAIL_SPAM_THRESHOLD must be a number, got {threshold_raw!r}"
        ) from exc
    if not 0.0 < threshold <= 1.0:
        raise ConfigError("HELPLINE_EMAIL_SPAM_THRESHOLD must be in (0, 1]")
    auth = env_str("HELPLINE_SMTP_LISTENER_AUTH")
    if auth and ":" not in auth:
        raise ConfigError("HELPLINE_SMTP_LISTENER_AUTH must be user:password")
    cert, key = (
        env_str("HELPLINE_SMTP_LISTENER_TLS_CERT"),
        env_str("HELPLINE_SMTP_LISTENER_TLS_KEY"),
    )
    if bool(cert) != bool(key):
        raise ConfigError("Set both HELPLINE_SMTP_LISTENER_TLS_CERT and _KEY, or neither")
    return EmailConfig(
        smtp_url=smtp_url,
        webhook_secret=env_str("HELPLINE_EMAIL_WEBHOOK_SECRET"),
        max_message_bytes=env_int("HELPLINE_EMAIL_MAX_BYTES", 30 * 1024 * 1024, minimum=1024),
        max_attachment_bytes=env_int(
            "HELPLINE_EMAIL_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024, minimum=1
        ),
        ack_per_hour=env_int("HELPLINE_EMAIL_ACK_PER_HOUR", 3, minimum=0),
        spam_threshold=threshold,
        listener_tls_cert=cert,
        listener_tls_key=key,
        listener_auth=auth,
        listener_rate_per_minute=env_int("HELPLINE_SMTP_LISTENER_RATE_PER_MINUTE", 600, minimum=0),
    )
