"""Triage reacts to every inbound message, on every channel.

Secrets are masked right away, in the process that received the message (under a
millisecond), so no agent ever loads the page with a card number on it; the analysis itself
runs in the worker (a deferred subscriber). The retrain check hangs on the periodic tick.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpline.core import bus
from helpline.core.tasks import on_tick
from helpline.tickets.events import MessageReceived
from helpline.triage import services, tasks


def on_message_received(event: MessageReceived) -> None:
    """Inline: mask secrets before anyone can read them."""
    services.message_pii_redact(message_id=event.message_id)


def on_messages_received_triage(events: Sequence[MessageReceived]) -> None:
    """Deferred, a batch at a time: language, intent, sentiment, urgency of the batch's
    messages together (not of an out-of-office reply)."""
    services.messages_triage(message_ids=[e.message_id for e in events if not e.automatic])


def triage_tick() -> None:
    """Retraining is itself a task: a slow training run never delays the other tick jobs."""
    if services.intent_model_retrain_due():
        tasks.retrain_intent_model()


def register() -> None:
    bus.subscribe(MessageReceived, on_message_received)
    bus.subscribe_batch(MessageReceived, on_messages_received_triage)
    on_tick(triage_tick)
