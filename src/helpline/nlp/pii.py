"""Secrets customers paste into messages: card numbers, IBANs, card security codes, passwords.

``find_pii`` only reports what it can check: a card number must pass the Luhn checksum and an
IBAN the ISO 13616 mod-97 check, so order numbers and phone numbers are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CARD_RE = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.I)
_CVV_RE = re.compile(
    r"\b(?:cvv2?|cvc2?|csc|security code|sicherheitscode|pr[uü]fziffer|cryptogramme)"
    r"\s*(?:is|:|=|-)?\s*(\d{3,4})\b",
    re.I,
)
_PASSWORD_RE = re.compile(
    r"\b(?:password|passcode|passwd|pwd|pw|pin|passwort|kennwort|mot de passe|mdp|contrase[ñn]a"
    r"|clave|wachtwoord|senha|parola d'ordine)"
    r"(?:\s+(?:is|was|ist|war|est|es|era|is|é|e))?\s*(?::|=|-|→)?\s*"
    r"[\"'“„«]?([^\s\"'”»]{4,64})",
    re.I,
)
# Words that follow "password" in ordinary sentences and are not secrets.
_NOT_SECRETS = frozenset(
    [
        "reset", "resets", "change", "changed", "changing", "forgot", "forgotten", "again", "does",
        "doesn't", "didn't", "field", "link", "email", "mail", "works", "work", "anymore",
        "expired", "rules", "manager", "please", "page", "box", "isn't", "wrong", "code", "number",
        "numbers", "for", "to", "and", "the", "my", "your", "with", "from", "that", "this", "when",
        "vergessen", "zuruecksetzen", "zurücksetzen", "ändern", "aendern", "oublié", "oublie",
        "changer", "olvidé", "olvide", "cambiar", "vergeten", "wijzigen", "esqueci", "mudar",
        "funktioniert", "marche", "funciona", "werkt"
    ]
)


@dataclass(frozen=True)
class PiiFinding:
    kind: str  # card | iban | cvv | password
    start: int
    end: int
    mask: str


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def find_pii(text: str) -> list[PiiFinding]:
    """Non-overlapping findings, in text order."""
    found: list[PiiFinding] = []
    for m in _CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
            found.append(PiiFinding("card", m.start(), m.end(), f"[card •••• {digits[-4:]}]"))
    for m in _IBAN_RE.finditer(text):
        if iban_ok(m.group(0)):
            compact = m.group(0).replace(" ", "").upper()
            found.append(
                PiiFinding(
                    "iban", m.start(), m.end(), f"[IBAN {compact[:2]}•• •••• {compact[-4:]}]"
                )
            )
    for m in _CVV_RE.finditer(text):
        found.append(PiiFinding("cvv", m.start(1), m.end(1), "[•••]"))
    for m in _PASSWORD_RE.finditer(text):
        secret = m.group(1)
        if secret.lower().strip(".,!?;:") in _NOT_SECRETS:
            continue
        found.append(PiiFinding("password", m.start(1), m.end(1), "[password hidden]"))
    found.sort(key=lambda f: (f.start, -f.end))
    result: list[PiiFinding] = []
    for f in found:
        if result and f.start < result[-1].end:
            continue
        result.append(f)
    return result


def mask_pii(text: str) -> tuple[str, list[PiiFinding]]:
    """``text`` with every finding replaced by its mask, and the findings (offsets in ``text``)."""
    findings = find_pii(text)
    if not findings:
        return text, []
    parts: list[str] = []
    last = 0
    for f in findings:
        parts.append(text[last : f.start])
        parts.append(f.mask)
        last = f.end
    parts.append(text[last:])
    return "".join(parts), findings
