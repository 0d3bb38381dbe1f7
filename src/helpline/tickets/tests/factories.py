from __future__ import annotations

from typing import Any

from helpline.customers.models import Customer
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.models import Ticket
from helpline.tickets.services import ticket_open


def make_ticket(
    *,
    customer: Customer | None = None,
    channel: str = "email",
    subject: str = "My kettle does not boil",
    body_text: str = "It stopped working yesterday.",
    **kwargs: Any,
) -> Ticket:
    """Open a ticket through the real service, so tests see what production would write."""
    return ticket_open(
        customer=customer or CustomerFactory(),
        channel=channel,
        subject=subject,
        body_text=body_text,
        **kwargs,
    )
