from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from helpline.accounts.tests.factories import TeamFactory, UserFactory
from helpline.api.tests.helpers import get, patch, post, snapshot
from helpline.core import clock
from helpline.customers.models import Customer, Identity
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.choices import Direction, EventKind, Status
from helpline.tickets.models import Message, Ticket
from helpline.tickets.services import ticket_update
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def _new_ticket(**overrides: Any) -> dict[str, Any]:
    body = {
        "customer": {"email": "Ada@Example.com", "name": "Ada Lovelace"},
        "channel": "web",
        "subject": "The kettle leaks",
        "body": "Water everywhere since Monday.",
    }
    body.update(overrides)
    return body


# --- create -----------------------------------------------------------------------------


def test_create_returns_201_with_the_ticket_and_its_id(api, agent):
    response = post(api, "/tickets", _new_ticket(priority="high", tags=["Leak", "kettle"]))

    assert response.status_code == 201
    data = response.json()
    ticket = Ticket.objects.get(pk=data["id"])
    assert data["subject"] == "The kettle leaks"
    assert data["status"] == "new"
    assert data["priority"] == "high"
    assert data["channel"] == "web"
    assert data["tags"] == ["kettle", "leak"]
    assert data["customer"] == {"id": ticket.customer_id, "name": "Ada Lovelace"}
    assert data["message_count"] == 1
    message = ticket.messages.get()
    assert message.direction == Direction.INBOUND
    assert message.body_text == "Water everywhere since Monday."
    assert message.author_user == agent
    assert Identity.objects.get(customer=ticket.customer).value == "ada@example.com"


def test_create_reuses_the_customer_known_by_email_or_phone(api):
    first = post(api, "/tickets", _new_ticket()).json()
    second = post(api, "/tickets", _new_ticket(customer={"email": "ada@example.com"})).json()
    third = post(
        api, "/tickets", _new_ticket(customer={"phone": "+44 20 7946 0958", "name": "Bob"})
    ).json()

    assert second["customer"]["id"] == first["customer"]["id"]
    assert third["customer"]["id"] != first["customer"]["id"]
    assert Customer.objects.count() == 2


def test_create_defaults_channel_to_api_and_accepts_a_team(api):
    team = TeamFactory()
    data = post(
        api, "/tickets", {k: v for k, v in _new_ticket(team_id=team.pk).items() if k != "channel"}
    ).json()
    assert data["channel"] == "api"
    assert data["team"] == {"id": team.pk, "name": team.name}


def test_create_with_an_external_id_twice_returns_the_same_ticket(api):
    first = post(api, "/tickets", _new_ticket(external_id="form-42"))
    again = post(api, "/tickets", _new_ticket(external_id="form-42", subject="changed"))

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["subject"] == "The kettle leaks"
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"customer": {"email": "not-an-address"}}, "customer.email"),
        ({"customer": {"name": "Nobody"}}, "customer"),
        ({"customer": {"email": "a@example.com", "twitter": "@a"}}, "customer.twitter"),
        ({"channel": "pigeon"}, "channel"),
        ({"priority": "whenever"}, "priority"),
        ({"subject": "x" * 256}, "subject"),
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"tags": "vip"}, "tags"),
        ({"team_id": 987654}, "team_id"),
        ({"assignee": 1}, "assignee"),
    ],
)
def test_bad_create_input_is_a_422_naming_the_field_and_writes_nothing(api, overrides, field):
    before = snapshot()

    response = post(api, "/tickets", _new_ticket(**overrides))

    assert response.status_code == 422, response.content
    data = response.json()
    assert data["code"] == "validation_error"
    assert data["field"] == field
    assert [e["field"] for e in data["errors"]] == [field]
    assert data["message"]
    assert snapshot() == before


def test_missing_fields_are_all_named(api):
    response = post(api, "/tickets", {"channel": "web"})
    assert response.status_code == 422
    data = response.json()
    assert {e["field"] for e in data["errors"]} == {"customer", "subject", "body"}
    assert "field" not in data  # several fields are at fault, not one


def test_malformed_json_is_a_400_and_writes_nothing(api):
    before = snapshot()
    response = api.post("/api/v1/tickets", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert snapshot() == before


# --- read and list ----------------------------------------------------------------------


def test_get_one_ticket(api):
    ticket = make_ticket(subject="Where is my order?", tags=["orders"])
    data = get(api, f"/tickets/{ticket.pk}").json()
    assert data["id"] == ticket.pk
    assert data["subject"] == "Where is my order?"
    assert data["tags"] == ["orders"]


def test_list_is_newest_updated_first(api, agent):
    old, middle, new = make_ticket(), make_ticket(), make_ticket()
    ticket_update(ticket=old, actor=agent, priority="high")  # now the most recently updated

    ids = [t["id"] for t in get(api, "/tickets").json()["items"]]

    assert ids == [old.pk, new.pk, middle.pk]


def test_list_filters(api, agent):
    team = TeamFactory()
    other_agent = UserFactory()
    customer = CustomerFactory()
    mine = make_ticket(priority="urgent", tags=["vip"])
    ticket_update(ticket=mine, actor=agent, assignee=agent, status=Status.OPEN)
    theirs = make_ticket(team=team, customer=customer, channel="phone")
    ticket_update(ticket=theirs, actor=agent, assignee=other_agent, status=Status.PENDING)
    unassigned = make_ticket(tags=["vip", "refund"])
    solved = make_ticket()
    ticket_update(ticket=solved, actor=agent, status=Status.SOLVED)

    def ids(**params: Any) -> set[int]:
        response = get(api, "/tickets", **params)
        assert response.status_code == 200, response.content
        return {t["id"] for t in response.json()["items"]}

    assert ids() == {mine.pk, theirs.pk, unassigned.pk, solved.pk}
    assert ids(status="pending") == {theirs.pk}
    assert ids(priority="urgent") == {mine.pk}
    assert ids(channel="phone") == {theirs.pk}
    assert ids(assignee="me") == {mine.pk}
    assert ids(assignee=str(other_agent.pk)) == {theirs.pk}
    assert ids(assignee="none") == {unassigned.pk, solved.pk}
    assert ids(team=str(team.pk)) == {theirs.pk}
    assert ids(team="none") == {mine.pk, unassigned.pk, solved.pk}
    assert ids(tag="vip") == {mine.pk, unassigned.pk}
    assert ids(tag="VIP") == {mine.pk, unassigned.pk}
    assert ids(customer=customer.pk) == {theirs.pk}
    assert ids(view="open") == {mine.pk, theirs.pk, unassigned.pk}
    assert ids(view="mine") == {mine.pk}
    assert ids(view="unassigned") == {unassigned.pk}
    assert ids(tag="vip", assignee="none") == {unassigned.pk}


def test_updated_since_filter(api):
    old = make_ticket(created_at=clock.now() - timedelta(days=3))
    recent = make_ticket()
    since = (clock.now() - timedelta(days=1)).isoformat()
    items = get(api, "/tickets", updated_since=since).json()["items"]
    assert [t["id"] for t in items] == [recent.pk]
    naive = (clock.now() - timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert [t["id"] for t in get(api, "/tickets", updated_since=naive).json()["items"]] == [
        recent.pk
    ]
    assert old.pk in {t["id"] for t in get(api, "/tickets").json()["items"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"assignee": "someone"}, "assignee"),
        ({"team": "-1"}, "team"),
        ({"customer": "abc"}, "customer"),
        ({"updated_since": "last tuesday"}, "updated_since"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"stauts": "open"}, "stauts"),
        ({"view": "everything"}, "view"),
    ],
)
def test_bad_list_parameters_are_a_422_naming_the_parameter(api, params, field):
    make_ticket()
    response = get(api, "/tickets", **params)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert response.json()["field"] == field


def test_cursor_pagination_walks_every_ticket_once_in_order(api, agent):
    tickets = [make_ticket(subject=f"t{i}") for i in range(7)]
    # Three tickets share one updated_at, so the id must break the tie across a page boundary.
    same_time = clock.now() + timedelta(hours=1)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[2:5]]).update(updated_at=same_time)
    expected = list(
        Ticket.objects.order_by("-updated_at", "-id").values_list("id", flat=True)
    )

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        data = get(api, "/tickets", **params).json()
        pages += 1
        assert len(data["items"]) <= 2
        seen += [t["id"] for t in data["items"]]
        cursor = data["next_cursor"]
        if cursor is None:
            break

    assert seen == expected
    assert pages == 4


def test_a_page_is_stable_when_newer_tickets_arrive(api):
    for i in range(4):
        make_ticket(subject=f"t{i}")
    first = get(api, "/tickets", limit=2).json()
    make_ticket(subject="arrived meanwhile")  # newest: goes before page one, not into page two
    second = get(api, "/tickets", limit=2, cursor=first["next_cursor"]).json()
    first_ids = [t["id"] for t in first["items"]]
    second_ids = [t["id"] for t in second["items"]]
    assert not set(first_ids) & set(second_ids)
    assert second["next_cursor"] is None
    assert len(first_ids + second_ids) == 4


def test_a_cursor_from_another_list_is_refused(api):
    for _ in range(3):
        CustomerFactory()
    customers_cursor = get(api, "/customers", limit=1).json()["next_cursor"]
    response = get(api, "/tickets", cursor=customers_cursor)
    assert response.status_code == 422
    assert response.json()["field"] == "cursor"


# --- change -----------------------------------------------------------------------------


def test_patch_changes_fields_and_writes_the_timeline(api, agent):
    team = TeamFactory()
    ticket = make_ticket(tags=["old"])

    response = patch(
        api,
        f"/tickets/{ticket.pk}",
        {
            "status": "open",
            "priority": "urgent",
            "assignee_id": agent.pk,
            "team_id": team.pk,
            "tags": ["New", "refund"],
            "subject": "  Kettle   leaks badly ",
        },
    )

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "open"
    assert data["priority"] == "urgent"
    assert data["assignee"] == {"id": agent.pk, "name": agent.name, "email": agent.email}
    assert data["team"] == {"id": team.pk, "name": team.name}
    assert data["tags"] == ["new", "refund"]
    assert data["subject"] == "Kettle leaks badly"
    kinds = set(ticket.events.values_list("kind", flat=True))
    assert {EventKind.STATUS, EventKind.PRIORITY, EventKind.ASSIGNEE, EventKind.TEAM} <= kinds
    assert {EventKind.TAGS, EventKind.SUBJECT} <= kinds


def test_patch_with_null_unassigns_and_absent_fields_stay(api, agent):
    team = TeamFactory()
    ticket = make_ticket(team=team, priority="high")
    ticket_update(ticket=ticket, actor=agent, assignee=agent)

    data = patch(api, f"/tickets/{ticket.pk}", {"assignee_id": None}).json()

    assert data["assignee"] is None
    assert data["team"]["id"] == team.pk
    assert data["priority"] == "high"


def test_invalid_transition_is_a_409_and_changes_nothing(api, agent):
    ticket = make_ticket()
    ticket_update(ticket=ticket, actor=agent, status=Status.CLOSED)
    before = snapshot()

    response = patch(api, f"/tickets/{ticket.pk}", {"status": "open", "priority": "urgent"})

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["field"] == "status"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"status": None}, "status"),
        ({"priority": None}, "priority"),
        ({"assignee_id": 99999999}, "assignee_id"),
        ({"team_id": 99999999}, "team_id"),
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"tags": ["ok", "y" * 60]}, "tags"),
        ({"customer_id": 1}, "customer_id"),
    ],
)
def test_bad_patch_is_a_422_naming_the_field_and_changes_nothing(api, agent, body, field):
    ticket = make_ticket(tags=["keep"])
    before = snapshot()

    # A valid change rides along, to prove the request is all-or-nothing.
    response = patch(api, f"/tickets/{ticket.pk}", {"priority": "urgent", **body})

    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert snapshot() == before


def test_assigning_a_deactivated_agent_is_refused(api):
    gone = UserFactory(is_active=False)
    ticket = make_ticket()
    response = patch(api, f"/tickets/{ticket.pk}", {"assignee_id": gone.pk})
    assert response.status_code == 422
    assert response.json()["field"] == "assignee_id"


def test_empty_patch_changes_nothing(api):
    ticket = make_ticket()
    before = snapshot()
    response = patch(api, f"/tickets/{ticket.pk}", {})
    assert response.status_code == 200
    assert snapshot() == before


# --- messages and timeline --------------------------------------------------------------


def test_reply_and_note(api, agent):
    ticket = make_ticket()

    reply = post(api, f"/tickets/{ticket.pk}/messages", {"kind": "reply", "body": "On its way."})
    note = post(api, f"/tickets/{ticket.pk}/messages", {"kind": "note", "body": "Checked stock."})

    assert reply.status_code == 201, reply.content
    assert reply.json()["kind"] == "reply"
    assert reply.json()["author"] == {"type": "agent", "id": agent.pk, "name": agent.name}
    assert reply.json()["delivery_status"] == "queued"
    assert note.status_code == 201
    assert note.json()["kind"] == "note"
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN  # the first reply opens a new ticket
    assert ticket.first_responded_at is not None
    directions = list(ticket.messages.values_list("direction", flat=True))
    assert directions == [Direction.INBOUND, Direction.OUTBOUND, Direction.NOTE]


def test_reply_with_status_after_and_sanitised_html(api):
    ticket = make_ticket()
    data = post(
        api,
        f"/tickets/{ticket.pk}/messages",
        {
            "kind": "reply",
            "body": "Could you send a photo?",
            "body_html": "<p>Could you send a photo?<script>alert(1)</script></p>",
            "status_after": "pending",
        },
    ).json()
    assert "<script>" not in data["body_html"]
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "shout", "body": "hi"}, "kind"),
        ({"kind": "reply", "body": ""}, "body"),
        ({"kind": "reply", "body": "   "}, "body"),
        ({"kind": "note", "body": "x", "body_html": "<b>x</b>"}, "body_html"),
        ({"kind": "note", "body": "x", "status_after": "pending"}, "status_after"),
        ({"kind": "reply"}, "body"),
    ],
)
def test_bad_message_is_a_422_naming_the_field_and_writes_nothing(api, body, field):
    ticket = make_ticket()
    before = snapshot()
    response = post(api, f"/tickets/{ticket.pk}/messages", body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert snapshot() == before


def test_reply_whose_status_after_is_not_allowed_writes_nothing(api, agent):
    ticket = make_ticket()
    ticket_update(ticket=ticket, actor=agent, status=Status.SOLVED)
    before = snapshot()
    response = post(
        api,
        f"/tickets/{ticket.pk}/messages",
        {"kind": "reply", "body": "Parked.", "status_after": "on_hold"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert snapshot() == before  # not even the reply itself


def test_reply_to_closed_ticket_is_a_409(api, agent):
    ticket = make_ticket()
    ticket_update(ticket=ticket, actor=agent, status=Status.CLOSED)
    response = post(api, f"/tickets/{ticket.pk}/messages", {"kind": "reply", "body": "Hello?"})
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_messages_list_oldest_first_with_authors_and_pagination(api, agent):
    ticket = make_ticket(body_text="first")
    for i in range(4):
        post(api, f"/tickets/{ticket.pk}/messages", {"kind": "note", "body": f"note {i}"})

    page = get(api, f"/tickets/{ticket.pk}/messages", limit=3).json()
    rest = get(api, f"/tickets/{ticket.pk}/messages", limit=3, cursor=page["next_cursor"]).json()

    bodies = [m["body_text"] for m in page["items"] + rest["items"]]
    assert bodies == ["first", "note 0", "note 1", "note 2", "note 3"]
    assert page["items"][0]["author"]["type"] == "customer"
    assert page["items"][0]["kind"] == "inbound"
    assert rest["next_cursor"] is None


def test_events_timeline(api, agent):
    ticket = make_ticket()
    patch(api, f"/tickets/{ticket.pk}", {"priority": "high"})
    items = get(api, f"/tickets/{ticket.pk}/events").json()["items"]
    assert [e["kind"] for e in items] == ["created", "priority"]
    assert items[1]["actor"]["id"] == agent.pk
    assert items[1]["data"] == {"from": "normal", "to": "high"}
    assert items[0]["actor"] is None


def test_unknown_message_list_parameter_is_refused(api):
    ticket = make_ticket()
    response = get(api, f"/tickets/{ticket.pk}/messages", page=2)
    assert response.status_code == 422
    assert response.json()["field"] == "page"
