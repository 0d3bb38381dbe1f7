"""Mail that must not be treated like a customer writing: bounces, auto-replies, bulk mail, and
Helpline's own messages coming back (a loop)."""

from __future__ import annotations

import re

from helpline.connectors.email.choices import Noise
from helpline.connectors.email.parsing import ParsedEmail

LOOP_HEADER = "X-Helpline-Loop"
_BOUNCE_SENDER = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|bounce[s]?)(?:[+@-]|$)")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification|delivery failure|failure notice|returned mail|"
    r"mail delivery failed|delivery has failed|non.?delivery",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^(?:auto(?:matic)? ?reply|auto:|out of (?:the )?office|abwesenheitsnotiz|"
    r"r[ée]ponse automatique|respuesta automática|autosvar)",
    re.IGNORECASE,
)


def classify_noise(parsed: ParsedEmail, *, envelope_from: str | None = None) -> str:
    """The kind of noise ``parsed`` is, or ``Noise.NONE`` for a person writing."""
    h = parsed.headers
    sender = parsed.sender.email if parsed.sender else ""
    if LOOP_HEADER.lower() in h:
        return Noise.LOOP
    if parsed.report is not None and "delivery-status" in h.get("content-type", "").lower():
        return Noise.BOUNCE
    if parsed.report is not None or (
        (_BOUNCE_SENDER.match(sender) or envelope_from == "")
        and (_BOUNCE_SUBJECT.search(parsed.subject) or "x-failed-recipients" in h)
    ):
        return Noise.BOUNCE
    auto = h.get("auto-submitted", "").strip().lower()
    if auto and not auto.startswith("no"):
        return Noise.AUTO_REPLY
    if "x-autoreply" in h or "x-autorespond" in h:
        return Noise.AUTO_REPLY
    precedence = h.get("precedence", "").strip().lower()
    if precedence == "auto_reply":
        return Noise.AUTO_REPLY
    if _AUTO_SUBJECT.match(parsed.subject):
        return Noise.AUTO_REPLY
    if precedence in ("bulk", "junk", "list") or "list-id" in h or "list-unsubscribe" in h:
        return Noise.BULK
    return Noise.NONE
