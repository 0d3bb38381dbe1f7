"""Reactions to the tickets app: a public email reply is queued for SMTP delivery."""

from __future__ import annotations

import logging

from helpline.core import bus
from helpline.core.tasks import on_tick
from helpline.customers.choices import Channel
from helpline.tickets.events import ReplyAdded
from helpline.tickets.models import Message

logger = logging.getLogger(__name__)


def on_reply_added(event: ReplyAdded) -> None:
    if event.channel != Channel.EMAIL:
        return
    from helpline.connectors.email import services, tasks
    from helpline.connectors.email.choices import OutboundStatus
    from helpline.connectors.email.models import OutboundEmail

    # An acknowledgement's delivery row was written with its ticket: only enqueue it.
    known = services.queued_with_message(message_id=event.message_id)
    if known is not None:  # a batch's acknowledgement, known without a query
        tasks.deliver_soon(known)
        return
    queued = (
        OutboundEmail.objects.filter(message_id=event.message_id)
        .values_list("pk", "status")
        .first()
    )
    if queued is not None:
        if queued[1] == OutboundStatus.QUEUED:
            tasks.deliver_soon(queued[0])
        return
    message = Message.objects.select_related("ticket").filter(pk=event.message_id).first()
    if message is None:
        return
    row = services.outbound_queue(message=message)
    if row is not None:
        tasks.deliver_soon(row.pk)


def tick_email() -> None:
    """Resume stored-but-unprocessed mail, retry due deliveries, poll IMAP mailboxes."""
    from helpline.connectors.email import imap, services, tasks

    services.inbound_resume_pending()
    for outbound_id in services.outbound_due_ids():
        tasks.email_deliver(outbound_id)
    imap.imap_poll_due()


def register() -> None:
    bus.subscribe(ReplyAdded, on_reply_added)
    on_tick(tick_email)
