"""Mailboxes, the durable store of every raw message received, threading references, and the
state of outbound delivery, bounces and acknowledgements."""

from __future__ import annotations

from django.db import models

from helpline.connectors.email.choices import (
    BlockAction,
    InboundStatus,
    Noise,
    NonParticipantPolicy,
    OutboundStatus,
    Transport,
)
from helpline.core.crypto import EncryptedTextField
from helpline.customers.models import Customer
from helpline.tickets.models import Message, Ticket

DEFAULT_ACK_SUBJECT = "We received your message [#{ticket_number}]"
DEFAULT_ACK_BODY = (
    "Hello {customer_name},\n\n"
    'Thank you for writing to us. Your request is ticket #{ticket_number}: "{ticket_subject}".\n'
    "{expected_reply}.\n\n"
    "If you have anything to add, reply to this email and keep the ticket number in the "
    "subject.\n\n"
    "{mailbox_name}"
)


class Mailbox(models.Model):
    """An address customers write to, and how its mail reaches Helpline.

    ``imap_url`` carries the IMAP credentials (``imaps://user:password@host:port/INBOX``);
    ``smtp_url`` is this mailbox's own outbound relay, else ``HELPLINE_SMTP_URL`` is used. Both
    are encrypted at rest (``core.crypto``). ``imap_watcher``/``imap_watch_until`` are the lease of
    the process keeping an IDLE connection open on the mailbox; the tick leaves it alone then.
    """

    address = models.CharField(max_length=254, unique=True)
    name = models.CharField(max_length=200, blank=True)
    transport = models.CharField(max_length=10, choices=Transport.choices, default=Transport.SMTP)
    imap_url = EncryptedTextField(blank=True)
    smtp_url = EncryptedTextField(blank=True)
    is_active = models.BooleanField(default=True)
    reply_target_hours = models.PositiveIntegerField(default=24)
    non_participant_policy = models.CharField(
        max_length=12,
        choices=NonParticipantPolicy.choices,
        default=NonParticipantPolicy.NEW_TICKET,
    )
    ack_enabled = models.BooleanField(default=True)
    ack_subject = models.CharField(max_length=255, default=DEFAULT_ACK_SUBJECT)
    ack_body = models.TextField(default=DEFAULT_ACK_BODY)
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    imap_polled_at = models.DateTimeField(null=True, blank=True)
    imap_error = models.TextField(blank=True)
    imap_watcher = models.CharField(max_length=200, blank=True)
    imap_watch_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.address

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[-1]


class InboundEmail(models.Model):
    """One received message, stored raw before anything else happens to it.

    ``dedupe_key`` is ``mid:<Message-ID>`` or ``sha:<sha256 of the raw bytes>`` when there is no
    Message-ID: the same mail delivered twice, or by two transports, is stored once. A row left in
    ``received`` (a crash between storing and committing its ticket) is picked up by the tick.
    """

    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    transport = models.CharField(max_length=10, choices=Transport.choices)
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    dedupe_key = models.CharField(max_length=300, unique=True)
    rfc_id = models.CharField(max_length=255, blank=True, help_text="The Message-ID header.")
    envelope_from = models.CharField(max_length=320, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    status = models.CharField(
        max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    noise = models.CharField(max_length=12, choices=Noise.choices, default=Noise.NONE, blank=True)
    spam_score = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Tries started, counted in a transaction of its own before the work: a try that never
    # finished (the worker process died on this message) still counts (see inbound_process_batch).
    tries = models.PositiveSmallIntegerField(default=0)
    # Until then a batch has taken the row (its try counted, its work under way): another
    # worker's batch leaves it alone; a dead worker's lease runs out and the row is taken again.
    taken_until = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_received"),
        ]

    def __str__(self) -> str:
        return f"{self.dedupe_key} ({self.status})"


class ThreadRef(models.Model):
    """A Message-ID Helpline has seen or sent, and the ticket it belongs to (for threading)."""

    rfc_id = models.CharField(max_length=255, unique=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    outbound = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.rfc_id


class Participant(models.Model):
    """Someone on an email ticket besides its customer (CC'd), who may reply on it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=320)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "email"], name="email_participant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.email} on #{self.ticket_id}"


class AddressState(models.Model):
    """What Helpline knows about an address: is it bouncing, how many recent acknowledgements."""

    email = models.CharField(max_length=320, unique=True)
    bouncing = models.BooleanField(default=False)
    bounce_detail = models.TextField(blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    ack_window_start = models.DateTimeField(null=True, blank=True)
    ack_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.email


class BlockRule(models.Model):
    """An address (``a@b.c``) or a whole domain (``@b.c``) whose mail never makes a ticket."""

    pattern = models.CharField(max_length=320, unique=True)
    action = models.CharField(
        max_length=10, choices=BlockAction.choices, default=BlockAction.IGNORE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.pattern


class OutboundEmail(models.Model):
    """Delivery state of one public reply sent by email; the tick retries what is due."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="+")
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL)
    rfc_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(
        max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_response = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbound_status_due"),
        ]

    def __str__(self) -> str:
        return self.rfc_id
