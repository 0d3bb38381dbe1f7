"""The ticket (the case), its messages (the conversation) and its timeline (the audit trail)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from helpline.accounts.models import Team
from helpline.customers.choices import Channel
from helpline.customers.models import Customer
from helpline.tickets.choices import (
    ACTIVE_STATUSES,
    DeliveryStatus,
    Direction,
    EventKind,
    Priority,
    Status,
)


class Tag(models.Model):
    """A label on tickets; names are lower-case and unique."""

    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """One customer's case, across every message and channel it takes.

    ``updated_at`` moves on any change an agent should notice (a message, a status change) and
    orders the inbox; ``last_message_at`` is the time of the newest public message.
    """

    subject = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tags = models.ManyToManyField(Tag, related_name="tickets", blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    last_message_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The inbox: "all open", "mine", "my team's", each newest-updated first.
            models.Index(fields=["status", "-updated_at"], name="ticket_status_updated"),
            models.Index(
                fields=["assignee", "status", "-updated_at"], name="ticket_assignee_status"
            ),
            models.Index(fields=["team", "status", "-updated_at"], name="ticket_team_status"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_recent"),
            # A customer's tickets in inbox order (customer page, API ?customer=): without it a
            # customer with thousands of tickets walked the wrong index (34 ms at 2,305).
            models.Index(fields=["customer", "-updated_at", "-id"], name="ticket_customer_updated"),
            # The priority queue's tickets without a running SLA clock, one priority at a time,
            # oldest first (sla.selectors._clockless_ids).
            models.Index(
                fields=["priority", "created_at", "id"],
                condition=models.Q(status__in=sorted(ACTIVE_STATUSES)),
                name="ticket_active_priority_age",
            ),
            models.Index(fields=["-updated_at"], name="ticket_updated"),
            # Partial indexes over the open backlog only (~4% of rows at 1M tickets): the inbox
            # views filter on status IN (active), which the indexes above can only serve by
            # scanning every recent ticket and filtering; deep keyset pages of "unassigned" took
            # 0.9 s at 1M tickets without them (docs/benchmarks.md, "Foundation").
            models.Index(
                fields=["-updated_at", "-id"],
                condition=models.Q(status__in=sorted(ACTIVE_STATUSES)),
                name="ticket_active_updated",
            ),
            models.Index(
                fields=["assignee", "-updated_at", "-id"],
                condition=models.Q(status__in=sorted(ACTIVE_STATUSES)),
                name="ticket_active_assignee",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class Message(models.Model):
    """One entry of a ticket's conversation: an inbound message, a reply, or an internal note.

    ``external_id`` (a Message-ID, a chat event id, ...) makes ingestion idempotent: the same
    delivery twice on one channel yields one message.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="Sanitised HTML; never raw input.")
    external_id = models.CharField(max_length=255, null=True, blank=True)
    is_automatic = models.BooleanField(default=False, help_text="Sent by Helpline itself.")
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE, blank=True
    )
    delivery_detail = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="message_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created"),
            # The measured reply rate behind every "you will hear from us by ..." (sla.expected:
            # public, human replies over the last hour, day and weeks) reads replies by time.
            models.Index(
                fields=["created_at"],
                name="message_reply_time",
                condition=models.Q(direction="outbound", is_automatic=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} on #{self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.direction != Direction.NOTE


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"{instance.message.ticket_id}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A file that came with (or goes out with) a message, stored by content hash."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=attachment_path, max_length=300)
    content_id = models.CharField(max_length=255, blank=True, help_text="For inline images.")

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """Append-only timeline: who changed what on a ticket, and when. Never updated or deleted."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketevent_ticket_created")]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"
