from __future__ import annotations

import pytest
from django.test import Client

from helpline.accounts.models import ApiToken, User
from helpline.accounts.services import api_token_create, api_token_revoke
from helpline.accounts.tests.factories import PASSWORD, TeamFactory
from helpline.api.tests.helpers import BASE, get, post, snapshot
from helpline.tickets.models import Ticket

pytestmark = pytest.mark.django_db

NEW_TICKET = {
    "customer": {"email": "sam@example.com"},
    "channel": "web",
    "subject": "Hello",
    "body": "Is anyone there?",
}


def test_no_token_is_a_401_with_a_json_body_and_a_challenge():
    response = Client().get(BASE + "/tickets")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer hl_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "hl_raw-token", "Bearer x y"],
)
def test_a_wrong_token_is_a_401(header):
    response = Client(headers={"Authorization": header}).get(BASE + "/me")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_revoked_token_is_refused_and_writes_nothing(agent):
    token, secret = api_token_create(user=agent)
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get(BASE + "/me").status_code == 200

    api_token_revoke(token=token)
    before = snapshot()

    assert client.get(BASE + "/me").status_code == 401
    assert post(client, "/tickets", NEW_TICKET).status_code == 401
    assert snapshot() == before


def test_a_deactivated_users_token_is_refused(agent):
    _, secret = api_token_create(user=agent)
    agent.is_active = False
    agent.save()
    response = Client(headers={"Authorization": f"Bearer {secret}"}).get(BASE + "/me")
    assert response.status_code == 401


def test_using_a_token_records_when(agent):
    token, secret = api_token_create(user=agent)
    Client(headers={"Authorization": f"Bearer {secret}"}).get(BASE + "/me")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_me_describes_the_caller(client_for, agent):
    team = TeamFactory(name="Billing")
    agent.teams.add(team)
    data = get(client_for(agent), "/me").json()
    assert data == {
        "id": agent.pk,
        "email": agent.email,
        "name": agent.name,
        "role": "agent",
        "restricted_to_teams": False,
        "teams": [{"id": team.pk, "name": "Billing"}],
    }


def test_token_writes_need_no_csrf_token(api):
    # The fixture client enforces CSRF checks like a browser would; a bearer token is enough.
    assert post(api, "/tickets", NEW_TICKET).status_code == 201


def _session_client(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_signed_in_session_can_read(agent):
    response = _session_client(agent).get(BASE + "/me")
    assert response.status_code == 200
    assert response.json()["id"] == agent.pk


def test_session_write_without_csrf_token_is_refused_and_writes_nothing(agent):
    client = _session_client(agent)
    before = snapshot()
    response = post(client, "/tickets", NEW_TICKET)
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert snapshot() == before


def test_session_write_with_csrf_token_is_accepted(agent):
    client = _session_client(agent)
    # What the agent UI does: echo the CSRF cookie's value in the X-CSRFToken header.
    token = "k" * 32
    client.cookies["csrftoken"] = token
    response = client.post(
        BASE + "/tickets", NEW_TICKET, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201, response.content
    assert Ticket.objects.count() == 1


def test_openapi_schema_lists_the_endpoints(api):
    response = api.get(BASE + "/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/tickets",
        "/api/v1/tickets/{ticket_id}",
        "/api/v1/tickets/{ticket_id}/messages",
        "/api/v1/tickets/{ticket_id}/events",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/me",
    ):
        assert path in paths, path
    schemes = response.json()["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    assert ApiToken.objects.exists()  # the fixture's token, proving the client is authenticated


def test_unknown_endpoint_is_a_json_404_even_without_a_token():
    response = Client().get(BASE + "/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "There is no such API endpoint."}


def test_wrong_method_is_a_405(api):
    response = api.delete(BASE + "/tickets")
    assert response.status_code == 405


def test_interactive_docs_are_served():
    response = Client().get(BASE + "/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
