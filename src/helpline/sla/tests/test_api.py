"""The SLA in the HTTP API: calendars and policies, and a ticket's SLA state in its JSON."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from helpline.accounts.services import api_token_create
from helpline.sla.models import SlaPolicy
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def client(user) -> Client:
    _, secret = api_token_create(user=user, name="tests")
    return Client(headers={"Authorization": f"Bearer {secret}"})


CALENDAR = {
    "name": "Berlin office",
    "time_zone": "Europe/Berlin",
    "intervals": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
    "holidays": [{"day": "2026-12-25", "yearly": True, "name": "Christmas"}],
}


def test_admin_manages_calendars_and_policies_agents_read(admin_user, agent):
    admin, staff = client(admin_user), client(agent)
    created = admin.post("/api/v1/sla/calendars", CALENDAR, content_type="application/json")
    assert created.status_code == 201, created.content
    calendar = created.json()
    assert calendar["intervals"][0] == {"weekday": 0, "start": "09:00", "end": "17:00"}

    policy = {
        "name": "VIP",
        "position": 1,
        "tier": "gold",
        "calendar_id": calendar["id"],
        "targets": [{"priority": "normal", "first_response_minutes": 30}],
    }
    refused = staff.post("/api/v1/sla/policies", policy, content_type="application/json")
    assert refused.status_code == 403
    made = admin.post("/api/v1/sla/policies", policy, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["pausing_statuses"] == ["on_hold", "pending"]

    names = [p["name"] for p in staff.get("/api/v1/sla/policies").json()]
    assert names[0] == "VIP" and "Email (default)" in names

    bad = admin.post(
        "/api/v1/sla/calendars",
        {**CALENDAR, "name": "x", "time_zone": "Mars/Olympus"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    in_use = admin.delete(f"/api/v1/sla/calendars/{calendar['id']}")
    assert in_use.status_code == 409
    assert admin.delete(f"/api/v1/sla/policies/{made.json()['id']}").status_code == 204
    assert not SlaPolicy.objects.filter(name="VIP").exists()


def test_ticket_json_carries_sla_state(frozen, agent):
    ticket = make_ticket(channel="social")
    body = client(agent).get(f"/api/v1/tickets/{ticket.pk}").json()
    assert body["sla_policy"]["name"] == "Social (default)"
    due = frozen.current + timedelta(hours=1)
    assert body["first_response_due_at"].replace("Z", "+00:00") == due.isoformat()
    assert body["next_response_due_at"] is None
    assert body["resolution_due_at"] is None
    assert body["first_response_breached"] is False
    assert body["next_response_breached"] is False


def test_ticket_without_sla_row_is_null(agent):
    ticket = make_ticket(channel="api")
    body = client(agent).get(f"/api/v1/tickets/{ticket.pk}").json()
    assert body["sla_policy"] is None
    assert body["first_response_due_at"] is None
    assert body["resolution_breached"] is False


def test_create_answers_before_the_worker_applies_the_policy_and_get_shows_it(frozen, agent):
    api = client(agent)
    made = api.post(
        "/api/v1/tickets",
        {"customer": {"email": "sla-later@example.com"}, "channel": "social",
         "subject": "Where is it", "body": "My parcel is late."},
        content_type="application/json",
    )
    assert made.status_code == 201
    assert made.json()["sla_policy"] is None  # the policy is the worker's follow-up
    assert made.json()["first_response_due_at"] is None
    body = api.get(f"/api/v1/tickets/{made.json()['id']}").json()
    assert body["sla_policy"]["name"] == "Social (default)"
    due = frozen.current + timedelta(hours=1)
    assert body["first_response_due_at"].replace("Z", "+00:00") == due.isoformat()
