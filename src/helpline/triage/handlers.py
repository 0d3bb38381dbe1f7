"""Triage reacts to every inbound message, on every channel.

Secrets are masked right away, in the process that received the message (under a
millisecond), so no agent ever loads the page with a card number on it; the analysis itself
runs in the worker (a deferred subscriber). The retrain check hangs on the periodic tick.

Masking happens at the commit that wrote the messages. When the messages' events are written to
the outbox together (``ticket_open_many``: a hundred new tickets in one transaction), one read
at that commit masks them all (``on_messages_recorded``), and the per-message handler, which
runs right after, finds its message already read; any message that read did not cover (an
event without an outbox row, a failed read) is masked by the per-message handler itself.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from helpline.core import bus, outbox
from helpline.core.tasks import on_tick
from helpline.tickets.events import MessageReceived
from helpline.triage import services, tasks

logger = logging.getLogger(__name__)

# Per thread: messages whose committed text the commit's bulk masking has read (and masked).
_masked = threading.local()


def _masked_ids() -> set[int]:
    ids: set[int] | None = getattr(_masked, "ids", None)
    if ids is None:
        ids = _masked.ids = set()
    return ids


def on_messages_recorded(payloads: list[dict[str, Any]]) -> None:
    """In the writer's transaction, as new messages' events are recorded together: mask them all
    at the commit, with one read, before the per-message handler runs for each."""
    transaction.on_commit(
        functools.partial(_mask_at_commit, [int(p["message_id"]) for p in payloads])
    )


def _mask_at_commit(message_ids: list[int]) -> None:
    try:
        services.messages_pii_redact(message_ids=message_ids)
    except Exception:  # the per-message handler masks each of them itself
        logger.exception("masking %d new messages at once failed", len(message_ids))
        return
    # Replaced, not added to: the per-message handlers of the previous commit (or publish) ran
    # before this callback, so whatever is left over is of no use (and the set stays small).
    _masked.ids = set(message_ids)


def on_message_received(event: MessageReceived) -> None:
    """Inline: mask secrets before anyone can read them (unless this commit's bulk masking
    already read this message)."""
    done = _masked_ids()
    if event.message_id in done:
        done.discard(event.message_id)
        return
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
    outbox.on_record(bus.topic_of(MessageReceived), on_messages_recorded)
    bus.subscribe_batch(MessageReceived, on_messages_received_triage)
    on_tick(triage_tick)
