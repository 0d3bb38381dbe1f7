"""Encryption of masked originals: Fernet with a key derived from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet() -> Fernet:
    # A purpose-bound derivation, so this key is useless for anything else SECRET_KEY signs.
    digest = hashlib.sha256(
        b"helpline.triage.pii-vault.v1\x00" + settings.SECRET_KEY.encode()
    ).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(payload: dict[str, str]) -> bytes:
    return _fernet().encrypt(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def unseal(token: bytes | memoryview) -> dict[str, str]:
    data: dict[str, str] = json.loads(_fernet().decrypt(bytes(token)).decode("utf-8"))
    return data
