"""The triage partials of the agent UI (web/views/triage.py), signed in as real agents."""

from __future__ import annotations

import pytest
from django.test import Client

from helpline.accounts.models import Team
from helpline.accounts.tests.factories import UserFactory
from helpline.tickets.tests.factories import make_ticket
from helpline.triage.models import MessageTriage, TriageCorrection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent_client(agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client


def test_badges_show_results_and_reasons(agent_client):
    ticket = make_ticket(subject="Hacked", body_text="Someone hacked my account, not me!!")
    message = ticket.messages.get()
    page = agent_client.get(f"/triage/messages/{message.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Account access" in html
    assert "Wants a person" in html
    assert "possible account compromise" in html  # the reason, not just the verdict


def test_one_click_correction(agent_client, agent):
    ticket = make_ticket(body_text="Question about the blue one")
    message = ticket.messages.get()
    page = agent_client.post(
        f"/triage/messages/{message.pk}/correct/",
        {"field": "intent", "value": "product_question"},
        headers={"HX-Request": "true"},
    )
    assert page.status_code == 200
    assert "Saved" in page.content.decode()
    assert MessageTriage.objects.get(message=message).intent == "product_question"
    assert TriageCorrection.objects.get().actor == agent


def test_bad_correction_shows_the_error_and_writes_nothing(agent_client):
    message = make_ticket().messages.get()
    page = agent_client.post(
        f"/triage/messages/{message.pk}/correct/", {"field": "intent", "value": "nonsense"}
    )
    assert page.status_code == 200
    assert "not a valid intent" in page.content.decode()
    assert not TriageCorrection.objects.exists()


def test_ticket_panel_and_reply_hints(agent_client):
    ticket = make_ticket(
        subject="Refund", body_text="Third time I ask!!! Where is my refund? Unacceptable."
    )
    panel = agent_client.get(f"/triage/tickets/{ticket.pk}/")
    assert panel.status_code == 200
    assert "Refund request" in panel.content.decode()
    hints = agent_client.post(
        f"/triage/tickets/{ticket.pk}/reply-hints/", {"body": "Kindly revert with your IBAN."}
    )
    html = hints.content.decode()
    assert 'data-code="acknowledge"' in html and 'data-code="jargon"' in html
    note = agent_client.post(
        f"/triage/tickets/{ticket.pk}/reply-hints/", {"body": "Kindly revert", "kind": "note"}
    )
    assert "data-code" not in note.content.decode()


def test_ticket_panel_shows_the_customers_trend(agent_client):
    from helpline.customers.tests.factories import CustomerFactory

    customer = CustomerFactory()
    for _ in range(10):
        make_ticket(customer=customer, body_text="Thanks, all great!")
    for _ in range(10):
        ticket = make_ticket(customer=customer, body_text="Terrible, still broken!!! Third time.")
    html = agent_client.get(f"/triage/tickets/{ticket.pk}/").content.decode()
    assert "less happy lately" in html
    assert "(20 messages)" in html


def test_restricted_agent_gets_404(db):
    team = Team.objects.create(name="Elsewhere")
    ticket = make_ticket(team=team)
    message = ticket.messages.get()
    client = Client()
    client.force_login(UserFactory(restricted_to_teams=True))
    assert client.get(f"/triage/messages/{message.pk}/").status_code == 404
    assert client.get("/triage/messages/999999/").status_code == 404
    assert client.get(f"/triage/tickets/{ticket.pk}/").status_code == 404
    assert (
        client.post(
            f"/triage/messages/{message.pk}/correct/", {"field": "intent", "value": "praise"}
        ).status_code
        == 404
    )
    assert not TriageCorrection.objects.exists()


def test_signed_out_is_sent_to_sign_in(db):
    message = make_ticket().messages.get()
    assert Client().get(f"/triage/messages/{message.pk}/").status_code == 302
