"""The whole event wiring in one place. A change here is a change in who reacts to what:
update the snapshot deliberately, in the same commit as the handler."""

from __future__ import annotations

from helpline.core import bus, outbox
from helpline.core.tasks import tick_jobs

EXPECTED_SUBSCRIBERS = {
    "helpline.tickets.events.MessageReceived": [
        "helpline.triage.handlers.on_message_received",
        "helpline.triage.handlers.on_messages_received_triage (deferred, batch)",
        "helpline.sla.handlers.on_messages_received (deferred, batch)",
        "helpline.routing.handlers.on_messages_received (deferred, batch)",
    ],
    "helpline.tickets.events.ReplyAdded": [
        "helpline.sla.handlers.on_reply_added",
        "helpline.routing.handlers.on_reply_added",
        "helpline.connectors.email.handlers.on_reply_added",
    ],
    "helpline.tickets.events.TicketChanged": [
        "helpline.sla.handlers.on_ticket_changed",
        "helpline.routing.handlers.on_ticket_changed",
    ],
    "helpline.tickets.events.TicketOpened": [
        "helpline.sla.handlers.on_tickets_opened (deferred, batch)",
    ],
}

# Called inside the writer's transaction as these events are recorded in the outbox together.
EXPECTED_RECORD_LISTENERS = {
    "helpline.tickets.events.MessageReceived": [
        "helpline.triage.handlers.on_messages_recorded",
    ],
}

EXPECTED_TICK_JOBS = [
    "helpline.core.outbox.outbox_tick",
    "helpline.triage.handlers.triage_tick",
    "helpline.sla.tasks.sla_tick",
    "helpline.routing.handlers.routing_tick",
    "helpline.connectors.email.handlers.tick_email",
]


def test_subscriber_snapshot():
    subscribers = bus.subscribers()
    # Tests may register throw-away events of their own; the snapshot covers the app events.
    app_events = {
        k: v for k, v in subscribers.items() if k.startswith("helpline.") and ".tests." not in k
    }
    assert app_events == EXPECTED_SUBSCRIBERS


def test_record_listener_snapshot():
    listeners = {k: v for k, v in outbox.record_listeners().items() if ".tests." not in k}
    assert listeners == EXPECTED_RECORD_LISTENERS


def test_tick_job_snapshot():
    assert [job for job in tick_jobs() if ".tests." not in job] == EXPECTED_TICK_JOBS
