"""Secrets at rest: credentials in the database are Fernet-encrypted with a key derived from
the install's secret key.

The key is HKDF-SHA256 of ``SECRET_KEY`` (``HELPLINE_SECRET_KEY``, or the generated
``secret.key`` in the data dir), with its own ``info`` label so it is never the same bytes Django
signs sessions with. Keys in ``SECRET_KEY_FALLBACKS`` (``HELPLINE_SECRET_KEY_FALLBACKS``) still
decrypt, so a key can be rotated: keep the old one as a fallback, run
``helpline mailbox reencrypt``, then drop it.

A value that no configured key opens is never turned into garbage: it loads as an
:class:`UnreadableSecret`, a string that says what is wrong, is truthy (the credential *is*
configured), and is written back unchanged if the row is saved, so nothing is lost when the old
key comes back. Code that needs the clear text calls :func:`require_readable` first.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

from helpline.core.errors import HelplineError

PREFIX = "fernet1:"
_HKDF_SALT = b"helpline"
_HKDF_INFO = b"helpline/database-field-encryption/v1"


class SecretUnreadable(HelplineError):
    """A stored secret that the configured keys cannot decrypt (the secret key changed)."""

    status = 500
    code = "secret_unreadable"


class UnreadableSecret(str):
    """Stands in for a stored value that no configured key decrypts.

    Its text is the explanation; ``stored`` is the ciphertext as it is in the database, which
    :class:`EncryptedTextField` writes back unchanged.
    """

    stored: str

    def __new__(cls, stored: str, reason: str) -> UnreadableSecret:
        obj = super().__new__(cls, reason)
        obj.stored = stored
        return obj


def derive_key(secret_key: str) -> bytes:
    """The Fernet key (urlsafe base64 of 32 bytes) for one secret key."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw)


@functools.lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(derive_key(k)) for k in keys])


def _fernet() -> MultiFernet:
    keys = (str(settings.SECRET_KEY), *(str(k) for k in settings.SECRET_KEY_FALLBACKS))
    return _fernet_for(keys)


def encrypt(plain: str) -> str:
    """``fernet1:<token>``; the empty string stays empty (nothing to hide, "not configured")."""
    if plain == "":
        return ""
    return PREFIX + _fernet().encrypt(plain.encode()).decode("ascii")


def decrypt(stored: str) -> str:
    """The clear text of a value written by :func:`encrypt`; raises :class:`SecretUnreadable`."""
    if stored == "":
        return ""
    if not stored.startswith(PREFIX):
        raise SecretUnreadable(
            "A stored secret is not encrypted (written outside Helpline?): enter it again."
        )
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with the current HELPLINE_SECRET_KEY: the key "
            "was changed. Put the previous key in HELPLINE_SECRET_KEY_FALLBACKS (then run "
            "`helpline mailbox reencrypt`), or enter the credentials again."
        ) from exc


def is_current(stored: str) -> bool:
    """True when ``stored`` is encrypted with the current key (not only a fallback)."""
    if stored == "":
        return True
    if not stored.startswith(PREFIX):
        return False
    try:
        Fernet(derive_key(str(settings.SECRET_KEY))).decrypt(stored[len(PREFIX) :].encode())
    except InvalidToken:
        return False
    return True


def require_readable(value: str) -> str:
    """``value`` itself, or :class:`SecretUnreadable` with the explanation if it is a stand-in."""
    if isinstance(value, UnreadableSecret):
        raise SecretUnreadable(str(value))
    return value


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column holding ``fernet1:<token>``; Python code sees the clear text.

    Encryption is randomised, so the column cannot be filtered on (``filter(x=...)`` never
    matches); only emptiness (``x=""``) is meaningful.
    """

    description = "Text encrypted at rest (Fernet, key derived from the secret key)"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return value
        try:
            return decrypt(value)
        except SecretUnreadable as exc:
            return UnreadableSecret(value, exc.message)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return value
        if isinstance(value, UnreadableSecret):
            return value.stored
        return encrypt(str(value))


def reencrypt(
    queryset: models.QuerySet[Any], fields: list[str]
) -> tuple[int, list[tuple[Any, str]]]:
    """Rewrite ``fields`` of every row under the current key (after a key rotation, with the old
    key in the fallbacks). Returns how many rows were rewritten and ``(pk, str(row))`` of those
    no configured key can read, which are left as they are."""
    rewritten = 0
    unreadable: list[tuple[Any, str]] = []
    for row in queryset.iterator():
        values = {name: getattr(row, name) for name in fields}
        if any(isinstance(v, UnreadableSecret) for v in values.values()):
            unreadable.append((row.pk, str(row)))
            continue
        rewritten += type(row)._default_manager.filter(pk=row.pk).update(**values)
    return rewritten, unreadable
