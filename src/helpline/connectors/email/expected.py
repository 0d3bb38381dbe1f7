"""When the customer will hear back, in words, for the acknowledgement.

Uses the SLA app's live estimate (``helpline.sla.expected``: the SLA due time, the work ahead
and the queue's measured reply rate) when it is available; otherwise the mailbox's reply target
from now, phrased the same way ("today by 15:00", "Monday morning").
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from helpline.core import clock
from helpline.tickets.models import Ticket

logger = logging.getLogger(__name__)


def _sla_module() -> Any:
    try:
        return importlib.import_module("helpline.sla.expected")
    except ImportError:
        return None


def phrase_for(due: datetime, *, now: datetime) -> str:
    local_due = timezone.localtime(due)
    local_now = timezone.localtime(now)
    days = (local_due.date() - local_now.date()).days
    clock_text = local_due.strftime("%H:%M")
    if days <= 0:
        return f"today by {clock_text}"
    if days == 1:
        return f"tomorrow by {clock_text}"
    part = "morning" if local_due.hour < 12 else "afternoon"
    if days < 7:
        return f"{local_due.strftime('%A')} {part}"
    return f"by {local_due.strftime('%A %d %B')}"


def expected_reply_sentence(
    *, ticket: Ticket, target_hours: int, guarded: bool = True
) -> tuple[datetime, str]:
    """(when, "You will hear from us today by 15:00") for a new ticket.

    ``guarded=False``: no savepoint of its own, and a failing SLA estimate raises (for a
    caller that holds one savepoint around many estimates and falls back itself)."""
    now = clock.now()
    sla = _sla_module()
    if sla is not None and hasattr(sla, "expected_reply_at"):
        if not guarded:
            expected = sla.expected_reply_at(ticket=ticket, now=now)
            phrase = sla.phrase_expected_reply(expected, now, ticket.customer.language or "en")
            return expected.at, f"You will hear from us {phrase}"
        try:
            # A savepoint: if the SLA tables are not there yet, the ingestion transaction lives on.
            with transaction.atomic():
                expected = sla.expected_reply_at(ticket=ticket, now=now)
                phrase = sla.phrase_expected_reply(expected, now, ticket.customer.language or "en")
            return expected.at, f"You will hear from us {phrase}"
        except Exception as exc:
            logger.warning("SLA estimate unavailable, using the mailbox target: %s", exc)
    due = now + timedelta(hours=target_hours)
    return due, f"You will hear from us {phrase_for(due, now=now)}"
