"""Triage reacts to every inbound message, on every channel.

Secrets are masked right away, in the process that received the message (under a
millisecond), so no agent ever loads the page with a card number on it; the analysis itself
runs in the worker (a deferred subscriber). The retrain check hangs on the periodic tick.
"""

from __future__ import annotations

from helpline.core import bus
from helpline.core.tasks import on_tick
from helpline.tickets.events import MessageReceived
from helpline.triage import services, tasks


def on_message_received(event: MessageReceived) -> None:
    """Inline: mask secrets before anyone can read them."""
    services.message_pii_redact(message_id=event.message_id)


def on_message_received_triage(event: MessageReceived) -> None:
    """Deferred: language, intent, sentiment, urgency (not of an out-of-office reply)."""
    if not event.automatic:
        services.message_triage(message_id=event.message_id)


def triage_tick() -> None:
    """Retraining is itself a task: a slow training run never delays the other tick jobs."""
    if services.intent_model_retrain_due():
        tasks.retrain_intent_model()


def register() -> None:
    bus.subscribe(MessageReceived, on_message_received)
    bus.subscribe(MessageReceived, on_message_received_triage, deferred=True)
    on_tick(triage_tick)
