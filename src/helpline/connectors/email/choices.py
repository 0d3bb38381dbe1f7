from django.db import models


class Transport(models.TextChoices):
    SMTP = "smtp", "Helpline's SMTP listener"
    IMAP = "imap", "IMAP polling"
    WEBHOOK = "webhook", "Provider webhook"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Stored, not yet processed"
    PROCESSED = "processed", "On a ticket"
    QUARANTINED = "quarantined", "Quarantined"
    SPAM = "spam", "Spam"
    IGNORED = "ignored", "Ignored"


class Noise(models.TextChoices):
    NONE = "", "—"
    AUTO_REPLY = "auto_reply", "Auto-reply"
    BULK = "bulk", "Bulk or list mail"
    BOUNCE = "bounce", "Bounce"
    BLOCKED = "blocked", "Blocked sender"
    LOOP = "loop", "Sent by Helpline itself"


class NonParticipantPolicy(models.TextChoices):
    NEW_TICKET = "new_ticket", "Open a new ticket"
    ATTACH_FLAG = "attach_flag", "Attach to the ticket and flag it"


class BlockAction(models.TextChoices):
    IGNORE = "ignore", "Ignore silently"
    SPAM = "spam", "Send to spam"


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
