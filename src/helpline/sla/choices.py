"""SLA vocabularies."""

from __future__ import annotations

from django.db import models

from helpline.tickets.choices import Status


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class NotificationKind(models.TextChoices):
    WARNING = "warning", "Breaching soon"
    BREACH = "breach", "Breached"


DEFAULT_PAUSING_STATUSES: list[str] = [Status.PENDING, Status.ON_HOLD]


def default_pausing_statuses() -> list[str]:
    """Field default (a fresh list each time): pending and on hold pause the clocks."""
    return [str(s) for s in DEFAULT_PAUSING_STATUSES]


# Statuses that stop every clock for good (until a reopen).
STOPPED_STATUSES: frozenset[str] = frozenset({Status.SOLVED, Status.CLOSED})

# Statuses in which a ticket owed a reply waits in its channel's reply queue (the queue an
# expected reply time counts the work ahead in); pending and on hold wait on someone else.
QUEUED_STATUSES: frozenset[str] = frozenset({Status.NEW, Status.OPEN})

# Out of the box, per channel, in minutes: reply targets for first and next response.
DEFAULT_CHANNEL_TARGETS: dict[str, int] = {
    "email": 24 * 60,
    "web": 24 * 60,
    "social": 60,
    "chat": 2,
    "phone": 1,
}
