"""Routing reacts to tickets: new work is routed, freed capacity pulls the next ticket.

Every handler is idempotent (see services.ticket_route / ticket_sync), so a replayed or
duplicated event does no harm.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpline.core import bus
from helpline.core.tasks import on_tick
from helpline.routing import services
from helpline.tickets.events import MessageReceived, ReplyAdded, TicketChanged


def on_messages_received(events: Sequence[MessageReceived]) -> None:
    """Deferred, a batch at a time: the worker routes new tickets a moment after they are
    accepted, on their opening messages, after triage (subscribed earlier) has detected the
    messages' language; the batch's tickets together (services.tickets_route)."""
    services.tickets_route(ticket_ids=[e.ticket_id for e in events if e.opens_ticket])


def on_ticket_changed(event: TicketChanged) -> None:
    """Status (solved/closed frees a seat, reopened re-queues), assignee, team or priority."""
    if not {"status", "assignee", "team", "priority"}.intersection(event.changes):
        return
    if services.routing_in_progress(event.ticket_id):
        return  # the rules of a batch being routed changed it; the batch syncs it right after
    services.ticket_sync(ticket_id=event.ticket_id)


def on_reply_added(event: ReplyAdded) -> None:
    """Replying is activity: it keeps the agent online (or brings her back from idle)."""
    if event.author_id is not None:
        services.agent_activity_touch(agent_id=event.author_id)


def routing_tick() -> None:
    services.routing_tick()


def register() -> None:
    bus.subscribe_batch(MessageReceived, on_messages_received)
    bus.subscribe(TicketChanged, on_ticket_changed)
    bus.subscribe(ReplyAdded, on_reply_added)
    on_tick(routing_tick)
