"""Small helpers for API tests."""

from __future__ import annotations

from typing import Any

from django.test import Client

from helpline.accounts.models import ApiToken, Team, User
from helpline.customers.models import Customer, Identity, Order
from helpline.tickets.models import Message, Tag, Ticket, TicketEvent

BASE = "/api/v1"

_MODELS = (Ticket, Message, TicketEvent, Tag, Customer, Identity, Order, Team, User, ApiToken)


def snapshot() -> dict[str, Any]:
    """Every row the API can write, so a test can prove a refused request wrote nothing."""
    state: dict[str, Any] = {}
    for model in _MODELS:
        state[model.__name__] = sorted(model.objects.values_list("pk", flat=True))
    state["ticket_rows"] = sorted(
        Ticket.objects.values_list(
            "id", "status", "priority", "subject", "assignee_id", "team_id", "updated_at"
        )
    )
    state["ticket_tags"] = sorted(Ticket.tags.through.objects.values_list("ticket_id", "tag_id"))
    state["customer_rows"] = sorted(
        Customer.objects.values_list("id", "name", "language", "preferred_channel", "updated_at")
    )
    return state


def post(client: Client, path: str, data: Any) -> Any:
    return client.post(BASE + path, data, content_type="application/json")


def patch(client: Client, path: str, data: Any) -> Any:
    return client.patch(BASE + path, data, content_type="application/json")


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(BASE + path, params)
