from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from helpline.accounts.models import User
from helpline.accounts.tests.factories import UserFactory
from helpline.customers.services import customer_note_add, order_add
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.choices import DeliveryStatus, Direction, EventKind, Status
from helpline.tickets.models import Message, Ticket, TicketEvent
from helpline.tickets.services import note_add, reply_add, ticket_update
from helpline.tickets.tests.factories import make_ticket
from helpline.web.tests.conftest import HX

pytestmark = pytest.mark.django_db


def detail(ticket: Ticket) -> str:
    return reverse("web:ticket_detail", args=[ticket.pk])


def post_message(ticket: Ticket) -> str:
    return reverse("web:ticket_message_add", args=[ticket.pk])


def post_fields(ticket: Ticket) -> str:
    return reverse("web:ticket_fields_update", args=[ticket.pk])


def fields(ticket: Ticket, **changes) -> dict[str, str]:
    data = {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": str(ticket.assignee_id or ""),
        "team": str(ticket.team_id or ""),
        "tags": ", ".join(ticket.tags.values_list("name", flat=True)),
    }
    data.update({k: str(v) for k, v in changes.items()})
    return data


def test_ticket_page_shows_conversation_kinds_distinctly(agent_client, agent):
    ticket = make_ticket(
        subject="Lid broken",
        body_text="fallback",
        body_html='<p>It <b>cracked</b><script>alert(1)</script></p>',
    )
    reply_add(ticket=ticket, author=agent, body_text="Sorry! <script>x()</script>\nSecond line")
    note_add(ticket=ticket, author=agent, body_text="Check the batch number")

    html = agent_client.get(detail(ticket)).content.decode()

    assert "<b>cracked</b>" in html  # sanitised HTML rendered as HTML
    assert "alert(1)" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;<br>Second line" in html  # text escaped, with breaks
    assert 'class="message message-inbound"' in html
    assert 'class="message message-outbound"' in html
    assert 'class="message message-note"' in html
    assert "Internal note" in html


def test_ticket_page_timeline_in_words(agent_client, agent, team_a):
    ticket = make_ticket()
    agent.name = "Ana"
    agent.save()
    ticket = ticket_update(ticket=ticket, actor=agent, status=Status.OPEN, priority="urgent")
    ticket = ticket_update(ticket=ticket, actor=agent, assignee=agent, team=team_a, tags=["vip"])

    html = agent_client.get(detail(ticket)).content.decode()

    assert "<strong>Ana</strong> changed status from New to Open" in html
    assert "changed priority from Normal to Urgent" in html
    assert "assigned the ticket to Ana" in html
    assert "moved the ticket to team Billing" in html
    assert "added tag “vip”" in html
    assert f"<strong>{ticket.customer}</strong> opened the ticket by Email" in html


def test_customer_panel_shows_identities_orders_notes_and_visible_other_tickets(
    restricted_client, restricted, team_a, team_b
):
    customer = CustomerFactory(email="maria@example.test")
    order_add(
        customer=customer,
        reference="A-7781",
        product="Kettle Pro",
        amount=Decimal("59.00"),
        ordered_at=timezone.now(),
    )
    customer_note_add(customer=customer, author=None, body="Prefers a call back")
    ticket = make_ticket(customer=customer, team=team_a)
    sibling = make_ticket(customer=customer, team=team_a, subject="Earlier question")
    hidden = make_ticket(customer=customer, team=team_b, subject="Other team matter")

    html = restricted_client.get(detail(ticket)).content.decode()

    assert "maria@example.test" in html
    assert "A-7781" in html and "Kettle Pro" in html
    assert "Prefers a call back" in html
    assert f"#{sibling.pk} Earlier question" in html
    assert "Other team matter" not in html
    assert f"/tickets/{hidden.pk}/" not in html


def test_restricted_agent_gets_same_404_for_other_team_and_missing(
    restricted_client, team_b
):
    other = make_ticket(team=team_b)
    missing = Ticket(pk=other.pk + 1000)
    forbidden_page = restricted_client.get(detail(other))
    missing_page = restricted_client.get(detail(missing))
    token = re.compile(rb'"X-CSRFToken": "[^"]+"')  # masked afresh on every render
    assert token.sub(b"", forbidden_page.content) == token.sub(b"", missing_page.content)
    assert b"Not found" in missing_page.content
    for ticket in (other, missing):
        assert restricted_client.get(detail(ticket)).status_code == 404
        before = Message.objects.count()
        response = restricted_client.post(post_message(ticket), {"kind": "reply", "body": "hi"})
        assert response.status_code == 404
        assert Message.objects.count() == before
        response = restricted_client.post(post_fields(other), fields(other, status="solved"))
        assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == Status.NEW


def test_reply_via_htmx_writes_through_the_service_and_refreshes_fragments(agent_client, agent):
    ticket = make_ticket()

    response = agent_client.post(
        post_message(ticket), {"kind": "reply", "body": "We are sending a new lid."}, headers=HX
    )

    assert response.status_code == 200
    message = ticket.messages.get(direction=Direction.OUTBOUND)
    assert message.author_user == agent
    assert message.body_text == "We are sending a new lid."
    assert message.delivery_status == DeliveryStatus.QUEUED
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.status == Status.OPEN  # the service opens a new ticket on first reply
    html = response.content.decode()
    assert 'id="composer"' in html
    assert 'id="conversation" class="conversation" aria-label="Conversation" hx-swap-oob' in html
    assert 'id="timeline" class="card side-card" hx-swap-oob' in html
    assert "We are sending a new lid." in html
    assert "replied to the customer" in html


def test_reply_and_set_status(agent_client):
    ticket = make_ticket()
    agent_client.post(
        post_message(ticket),
        {"kind": "reply", "body": "Does this help?", "status_after": "pending"},
        headers=HX,
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING


def test_note_is_internal_and_can_set_status(agent_client, agent):
    ticket = make_ticket()
    response = agent_client.post(
        post_message(ticket),
        {"kind": "note", "body": "Asked the warehouse", "status_after": "on_hold"},
        headers=HX,
    )
    assert response.status_code == 200
    note = ticket.messages.get(direction=Direction.NOTE)
    assert note.delivery_status == DeliveryStatus.NONE
    ticket.refresh_from_db()
    assert ticket.status == Status.ON_HOLD
    assert ticket.first_responded_at is None


def test_note_with_impossible_status_saves_nothing(agent_client, agent):
    ticket = make_ticket()
    ticket = ticket_update(ticket=ticket, actor=agent, status=Status.SOLVED)
    response = agent_client.post(
        post_message(ticket),
        {"kind": "note", "body": "Parked", "status_after": "pending"},
        headers=HX,
    )
    assert response.status_code == 409
    assert "cannot go from Solved to Pending" in response.content.decode()
    assert not ticket.messages.filter(direction=Direction.NOTE).exists()


def test_empty_reply_is_refused_and_keeps_the_form(agent_client):
    ticket = make_ticket()
    response = agent_client.post(
        post_message(ticket), {"kind": "reply", "body": "   ", "status_after": "solved"}, headers=HX
    )
    assert response.status_code == 422
    assert "A reply cannot be empty." in response.content.decode()
    assert ticket.messages.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_reply_without_htmx_redirects_back(agent_client):
    ticket = make_ticket()
    response = agent_client.post(post_message(ticket), {"kind": "reply", "body": "Plain form"})
    assert response.status_code == 302
    assert response["Location"] == detail(ticket)
    assert ticket.messages.filter(direction=Direction.OUTBOUND).exists()


def test_reply_with_attachment_is_listed_and_downloadable(agent_client, restricted_client, team_b):
    ticket = make_ticket(team=team_b)
    upload = SimpleUploadedFile("manual.pdf", b"%PDF-1.4 manual", content_type="application/pdf")
    agent_client.post(
        post_message(ticket), {"kind": "reply", "body": "Manual attached", "attachments": upload}
    )
    attachment = ticket.messages.get(direction=Direction.OUTBOUND).attachments.get()
    html = agent_client.get(detail(ticket)).content.decode()
    url = reverse("web:attachment_download", args=[ticket.pk, attachment.pk])
    assert url in html and "manual.pdf" in html

    response = agent_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 manual"
    assert response["Content-Disposition"].startswith("attachment;")
    assert restricted_client.get(url).status_code == 404
    other = make_ticket()
    wrong = reverse("web:attachment_download", args=[other.pk, attachment.pk])
    assert agent_client.get(wrong).status_code == 404


def test_a_note_keeps_its_attachment_and_nothing_goes_to_the_customer(agent_client):
    ticket = make_ticket()
    upload = SimpleUploadedFile("screenshot.png", b"\x89PNG fake", content_type="image/png")
    response = agent_client.post(
        post_message(ticket),
        {"kind": "note", "body": "What the customer sees", "attachments": upload},
    )
    assert response.status_code == 302
    note = ticket.messages.get(direction=Direction.NOTE)
    attachment = note.attachments.get()
    assert attachment.filename == "screenshot.png"
    assert not ticket.messages.filter(direction=Direction.OUTBOUND).exists()
    url = reverse("web:attachment_download", args=[ticket.pk, attachment.pk])
    assert url in agent_client.get(detail(ticket)).content.decode()


def test_side_panel_changes_fields_through_ticket_update(agent_client, agent, supervisor, team_a):
    ticket = make_ticket()
    response = agent_client.post(
        post_fields(ticket),
        fields(ticket, status="pending", priority="high", assignee=supervisor.pk, team=team_a.pk,
               tags="Refund, kettle"),
        headers=HX,
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee, ticket.team) == (
        Status.PENDING, "high", supervisor, team_a
    )
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["kettle", "refund"]
    events = TicketEvent.objects.filter(ticket=ticket, actor=agent)
    assert set(events.values_list("kind", flat=True)) == {
        EventKind.STATUS, EventKind.PRIORITY, EventKind.ASSIGNEE, EventKind.TEAM, EventKind.TAGS
    }
    html = response.content.decode()
    assert 'id="properties"' in html
    assert "changed status from New to Pending" in html
    assert f"assigned the ticket to {supervisor}" in html


def test_stale_page_changes_only_what_the_agent_touched(agent_client, agent, supervisor):
    ticket = make_ticket(tags=["kettle"])
    page = fields(ticket)  # what this agent's page shows
    stale = {**page, **{f"was_{k}": v for k, v in page.items()}}
    # Meanwhile a colleague sets it pending, takes it and adds a tag.
    ticket_update(ticket=ticket, actor=supervisor, status=Status.PENDING, assignee=supervisor,
                  tags=["kettle", "vip"])

    response = agent_client.post(post_fields(ticket), {**stale, "priority": "urgent"}, headers=HX)

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status, ticket.assignee) == ("urgent", Status.PENDING,
                                                                 supervisor)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["kettle", "vip"]


def test_invalid_transition_is_shown_and_changes_nothing(agent_client, agent):
    ticket = make_ticket()
    ticket = ticket_update(ticket=ticket, actor=agent, status=Status.CLOSED)
    response = agent_client.post(
        post_fields(ticket), fields(ticket, status="open", priority="urgent"), headers=HX
    )
    assert response.status_code == 409
    assert "A ticket cannot go from Closed to Open." in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.CLOSED, "normal")


def test_unknown_assignee_is_a_validation_error(agent_client):
    ticket = make_ticket()
    response = agent_client.post(post_fields(ticket), fields(ticket, assignee=999999), headers=HX)
    assert response.status_code == 422
    assert "Assignee" in response.content.decode()


def test_moving_a_ticket_out_of_reach_sends_restricted_agent_to_inbox(
    restricted_client, team_a, team_b
):
    ticket = make_ticket(team=team_a)
    response = restricted_client.post(
        post_fields(ticket), fields(ticket, team=team_b.pk), headers=HX
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("web:inbox")
    ticket.refresh_from_db()
    assert ticket.team == team_b


def test_posts_enforce_csrf(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    ticket = make_ticket()
    assert client.post(post_message(ticket), {"kind": "reply", "body": "x"}).status_code == 403
    assert client.post(post_fields(ticket), fields(ticket, status="open")).status_code == 403
    assert ticket.messages.count() == 1
    # The page hands htmx the token in a header, which the middleware accepts.
    client.get(detail(ticket))
    token = client.cookies["csrftoken"].value
    response = client.post(
        post_message(ticket), {"kind": "reply", "body": "x"}, headers={**HX, "X-CSRFToken": token}
    )
    assert response.status_code == 200


def _page_queries(client, ticket) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(detail(ticket))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(ticket: Ticket, agent: User, n: int) -> None:
    for i in range(n):
        if i % 3 == 0:
            reply_add(ticket=ticket, author=agent, body_text=f"reply {i}")
        elif i % 3 == 1:
            note_add(ticket=ticket, author=agent, body_text=f"note {i}")
        else:
            ticket_update(ticket=ticket, actor=agent, priority=["low", "high"][i % 2])
        ticket.refresh_from_db()


def test_ticket_page_query_count_does_not_grow_with_messages(
    django_assert_max_num_queries, team_a
):
    agent = UserFactory(name="Ana", restricted_to_teams=True)
    agent.teams.set([team_a])
    client = Client()
    client.force_login(agent)
    customer = CustomerFactory()
    ticket = make_ticket(customer=customer, team=team_a)
    for _ in range(3):
        make_ticket(customer=customer, team=team_a)
    _grow(ticket, agent, 5)
    # The first request of an agent records her activity (routing presence); warm it up so
    # the counts compare pages, not that once-a-minute write.
    client.get(detail(ticket))
    few = _page_queries(client, ticket)
    _grow(ticket, agent, 45)
    for _ in range(10):
        make_ticket(customer=customer, team=team_a)
    many = _page_queries(client, ticket)
    assert few == many
    with django_assert_max_num_queries(22):
        client.get(detail(ticket))


def test_slots_let_other_areas_add_partials_to_the_ticket_page(agent_client, agent, monkeypatch):
    from helpline.web import slots

    ticket = make_ticket()
    reply_add(ticket=ticket, author=agent, body_text="hello")
    header = "web/tickets/_header.html"  # any template that uses ``ticket`` will do

    def headers_shown() -> int:
        html: str = agent_client.get(detail(ticket)).content.decode()
        return html.count('id="ticket-header"')

    assert headers_shown() == 1
    monkeypatch.setattr(slots, "TICKET_SIDE_PANELS", [header])
    assert headers_shown() == 2
    monkeypatch.setattr(slots, "COMPOSER_EXTRAS", [header])
    assert headers_shown() == 3
    monkeypatch.setattr(slots, "MESSAGE_EXTRAS", [header])
    assert headers_shown() == 5  # once per message of the conversation
