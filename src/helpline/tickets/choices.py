"""Ticket vocabularies, each value with its label and badge colour in one place."""

from __future__ import annotations

from django.db import models


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


STATUS_COLOURS: dict[str, str] = {
    Status.NEW: "#d97706",
    Status.OPEN: "#dc2626",
    Status.PENDING: "#2563eb",
    Status.ON_HOLD: "#6b7280",
    Status.SOLVED: "#16a34a",
    Status.CLOSED: "#374151",
}

# The one place that says which status changes are allowed. Closed is final: a customer who
# writes again about a closed ticket gets a new, linked ticket.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}
    ),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}

# A tuple in sorted order, not a set: a set's order changes with each process's hash seed, and
# PostgreSQL only matches `status IN (...)` to the partial indexes (built from the sorted list)
# when the list comes in the same order; otherwise it may read every open ticket.
ACTIVE_STATUSES: tuple[str, ...] = tuple(
    sorted((Status.NEW.value, Status.OPEN.value, Status.PENDING.value, Status.ON_HOLD.value))
)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK: dict[str, int] = {
    Priority.LOW: 0,
    Priority.NORMAL: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}

PRIORITY_COLOURS: dict[str, str] = {
    Priority.LOW: "#6b7280",
    Priority.NORMAL: "#2563eb",
    Priority.HIGH: "#d97706",
    Priority.URGENT: "#dc2626",
}


class Direction(models.TextChoices):
    INBOUND = "inbound", "From customer"
    OUTBOUND = "outbound", "Reply"
    NOTE = "note", "Internal note"


class DeliveryStatus(models.TextChoices):
    NONE = "", "—"
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    MESSAGE = "message", "Message added"
    STATUS = "status", "Status changed"
    PRIORITY = "priority", "Priority changed"
    ASSIGNEE = "assignee", "Assignee changed"
    TEAM = "team", "Team changed"
    TAGS = "tags", "Tags changed"
    SUBJECT = "subject", "Subject changed"
    CUSTOMER = "customer", "Customer changed"
    SLA_WARNING = "sla_warning", "SLA breaching soon"
    SLA_BREACH = "sla_breach", "SLA breached"
