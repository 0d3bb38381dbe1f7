"""What triage concluded about each inbound message and each ticket, the corrections agents
made, the intent models trained from them, and the encrypted originals of masked secrets."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from helpline.tickets.models import Message, Ticket
from helpline.triage.choices import INTENT_CHOICES, CorrectableField, Sentiment, Urgency


class MessageTriage(models.Model):
    """The triage of one inbound message. The ``*_value`` columns hold the current answer: the
    model's, until an agent corrects it (``corrected`` names the fields an agent changed).
    ``reasons`` holds confidences and the words or signals behind each answer."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="triage")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="message_triages")
    language = models.CharField(max_length=10)
    intent = models.CharField(max_length=40, choices=INTENT_CHOICES)
    intent_confidence = models.FloatField()
    sentiment = models.CharField(max_length=15, choices=Sentiment.choices)
    sentiment_score = models.FloatField(help_text="-1 (very negative) .. +1 (positive).")
    frustration = models.FloatField(help_text="0 .. 1.")
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    wants_human = models.BooleanField(default=False)
    reasons = models.JSONField(default=dict)
    corrected = models.JSONField(default=list, blank=True)
    model_version = models.CharField(max_length=40, blank=True)
    pii_kinds = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="triage_ticket_created"),
            models.Index(fields=["intent", "-created_at"], name="triage_intent_recent"),
        ]

    def __str__(self) -> str:
        return f"triage of message {self.message_id}"


class TicketTriage(models.Model):
    """The ticket-level view: the latest answers, the sentiment trend and the priority triage
    suggested (and whether it applied it)."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="triage")
    intent = models.CharField(max_length=40, choices=INTENT_CHOICES)
    language = models.CharField(max_length=10)
    sentiment = models.CharField(max_length=15, choices=Sentiment.choices)
    sentiment_score = models.FloatField()
    sentiment_trend = models.FloatField(
        default=0.0, help_text="Latest score minus the mean of the earlier ones (>0: improving)."
    )
    sentiment_history = models.JSONField(default=list, help_text="The last scores, oldest first.")
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    wants_human = models.BooleanField(default=False)
    suggested_priority = models.CharField(max_length=10, blank=True)
    priority_applied = models.BooleanField(default=False)
    message_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["wants_human", "-updated_at"], name="triage_wants_human")]

    def __str__(self) -> str:
        return f"triage of ticket {self.ticket_id}"


class TriageCorrection(models.Model):
    """An agent's one-click correction: append-only, and training data for the intent model."""

    triage = models.ForeignKey(MessageTriage, on_delete=models.CASCADE, related_name="corrections")
    field = models.CharField(max_length=15, choices=CorrectableField.choices)
    old_value = models.CharField(max_length=40)
    new_value = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["field", "created_at"], name="triagecorr_field_created")]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"


class IntentModelVersion(models.Model):
    """A trained intent model (JSON, see helpline.nlp.intent). The newest row is the one used."""

    created_at = models.DateTimeField()
    examples = models.PositiveIntegerField()
    team_examples = models.PositiveIntegerField(help_text="Examples from agents' labels.")
    last_correction_id = models.BigIntegerField(
        default=0, help_text="The newest intent correction this model learnt from."
    )
    labelled_tickets = models.PositiveIntegerField(
        default=0, help_text="How many tickets carried an intent tag at training time."
    )
    model_json = models.TextField()

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"intent model {self.pk} ({self.examples} examples)"


class PiiVault(models.Model):
    """The original text of a message whose secrets were masked, Fernet-encrypted with a key
    derived from SECRET_KEY (HELPLINE_TRIAGE_PII=encrypt). Rotating SECRET_KEY makes old rows
    unreadable, which is acceptable for data kept only "just in case"."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="pii_vault")
    kinds = models.JSONField(default=list)
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"vault for message {self.message_id}"
