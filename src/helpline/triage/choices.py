"""Triage vocabularies, with labels and badge colours in one place."""

from __future__ import annotations

from django.db import models

from helpline.nlp.intent import INTENTS


class Sentiment(models.TextChoices):
    VERY_NEGATIVE = "very_negative", "Very negative"
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


SENTIMENT_COLOURS: dict[str, str] = {
    Sentiment.VERY_NEGATIVE: "#b91c1c",
    Sentiment.NEGATIVE: "#d97706",
    Sentiment.NEUTRAL: "#6b7280",
    Sentiment.POSITIVE: "#16a34a",
}


class Urgency(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


INTENT_CHOICES: list[tuple[str, str]] = [
    (name, name.replace("_", " ").capitalize()) for name in INTENTS
]


class CorrectableField(models.TextChoices):
    INTENT = "intent", "Intent"
    URGENCY = "urgency", "Urgency"
    SENTIMENT = "sentiment", "Sentiment"
    WANTS_HUMAN = "wants_human", "Wants a human"
    LANGUAGE = "language", "Language"


class PriorityMode(models.TextChoices):
    """What triage does with the ticket's priority (HELPLINE_TRIAGE_PRIORITY)."""

    OFF = "off", "Leave it alone"
    SUGGEST = "suggest", "Suggest only"
    SET = "set", "Raise it (never lower, never over an agent's choice)"


class PiiMode(models.TextChoices):
    """What happens to secrets found in inbound text (HELPLINE_TRIAGE_PII)."""

    OFF = "off", "Keep as written"
    ENCRYPT = "encrypt", "Mask; keep the original encrypted"
    DROP = "drop", "Mask; discard the original"
