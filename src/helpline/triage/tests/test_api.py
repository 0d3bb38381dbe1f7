"""The /api/v1/triage endpoints, through the full stack with a real bearer token."""

from __future__ import annotations

import pytest
from django.test import Client

from helpline.accounts.choices import Role
from helpline.accounts.models import Team
from helpline.accounts.services import api_token_create
from helpline.accounts.tests.factories import UserFactory
from helpline.tickets.services import ticket_update
from helpline.tickets.tests.factories import make_ticket
from helpline.triage.models import TriageCorrection

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user) -> Client:
    _, secret = api_token_create(user=user, name="tests")
    return Client(headers={"Authorization": f"Bearer {secret}"}, enforce_csrf_checks=True)


@pytest.fixture
def api(agent) -> Client:
    return client_for(agent)


def test_message_triage_and_ticket_triage(api):
    ticket = make_ticket(
        subject="Card declined", body_text="My card keeps getting declined at checkout"
    )
    message = ticket.messages.get()
    got = api.get(f"/api/v1/triage/messages/{message.pk}")
    assert got.status_code == 200
    body = got.json()
    assert body["intent"] == "payment_failed"
    assert body["urgency"] == "high"
    assert body["reasons"]["intent"]["because"]
    got = api.get(f"/api/v1/triage/tickets/{ticket.pk}")
    assert got.status_code == 200
    data = got.json()
    assert data["suggested_priority"] == "high"
    assert [m["message_id"] for m in data["messages"]] == [message.pk]


def test_correction_endpoint(api, agent):
    ticket = make_ticket(body_text="About the thing I bought")
    message = ticket.messages.get()
    got = api.post(
        f"/api/v1/triage/messages/{message.pk}/corrections",
        {"field": "intent", "value": "product_question"},
        content_type="application/json",
    )
    assert got.status_code == 200, got.content
    assert got.json()["intent"] == "product_question"
    assert got.json()["corrected"] == ["intent"]
    assert TriageCorrection.objects.get().actor == agent


@pytest.mark.parametrize(
    "payload",
    [{"field": "intent", "value": "not_an_intent"}, {"field": "subject", "value": "x"}, {}],
)
def test_bad_corrections_are_422(api, payload):
    message = make_ticket().messages.get()
    got = api.post(
        f"/api/v1/triage/messages/{message.pk}/corrections",
        payload,
        content_type="application/json",
    )
    assert got.status_code == 422
    assert not TriageCorrection.objects.exists()


def test_restricted_agent_gets_the_same_404_for_hidden_and_missing(db):
    team = Team.objects.create(name="Other")
    hidden = make_ticket(team=team)
    restricted = UserFactory(role=Role.AGENT, restricted_to_teams=True)
    client = client_for(restricted)
    message = hidden.messages.get()
    hidden_read = client.get(f"/api/v1/triage/messages/{message.pk}")
    missing_read = client.get("/api/v1/triage/messages/999999999")
    assert hidden_read.status_code == missing_read.status_code == 404
    assert hidden_read.json() == missing_read.json()
    got = client.post(
        f"/api/v1/triage/messages/{message.pk}/corrections",
        {"field": "intent", "value": "praise"},
        content_type="application/json",
    )
    assert got.status_code == 404
    assert client.get(f"/api/v1/triage/tickets/{hidden.pk}").status_code == 404


def test_reply_check(api, agent):
    ticket = make_ticket(body_text="Where is my refund??? Third time I ask, this is a disgrace!!!")
    ticket_update(ticket=ticket, actor=agent, tags=["vip"])
    got = api.post(
        f"/api/v1/triage/tickets/{ticket.pk}/reply-check",
        {"body": "Kindly note your card 4111 1111 1111 1111 was charged."},
        content_type="application/json",
    )
    assert got.status_code == 200
    codes = {h["code"] for h in got.json()["hints"]}
    assert {"acknowledge", "sensitive", "jargon", "unanswered"} <= codes
    assert got.json()["blocked"] is False


def test_analyse_stores_nothing(api):
    got = api.post(
        "/api/v1/triage/analyse",
        {"subject": "Hacked", "body": "Someone hacked my account!"},
        content_type="application/json",
    )
    assert got.status_code == 200
    body = got.json()
    assert body["wants_human"] is True and body["urgency"] == "urgent"
    assert set(body) == {"language", "intent", "urgency", "sentiment", "wants_human", "reasons"}


def test_anonymous_is_401(db):
    assert (
        Client()
        .post("/api/v1/triage/analyse", {"body": "x"}, content_type="application/json")
        .status_code
        == 401
    )
