from __future__ import annotations

import re

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpline.accounts.models import Team, User
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.choices import PRIORITY_COLOURS, STATUS_COLOURS, Status
from helpline.tickets.services import ticket_update
from helpline.tickets.tests.factories import make_ticket
from helpline.web.tests.conftest import HX
from helpline.web.views import inbox as inbox_views

pytestmark = pytest.mark.django_db


def shown_ids(response: HttpResponse) -> list[int]:
    return [int(x) for x in re.findall(rb'data-ticket="(\d+)"', response.content)]


def test_inbox_lists_open_tickets_newest_activity_first(agent_client, agent):
    older = make_ticket(subject="Kettle leaks")
    newer = make_ticket(subject="Refund please")
    solved = make_ticket(subject="Already fixed")
    ticket_update(ticket=solved, actor=agent, status=Status.SOLVED)
    ticket_update(ticket=older, actor=agent, priority="high")  # touched last

    response = agent_client.get(reverse("web:inbox"))

    assert response.status_code == 200
    assert shown_ids(response) == [older.pk, newer.pk]
    html = response.content.decode()
    assert "Kettle leaks" in html
    assert str(older.customer) in html
    # Badge colours come from tickets.choices.
    assert f"--badge: {STATUS_COLOURS[Status.NEW]}" in html
    assert f"--badge: {PRIORITY_COLOURS['high']}" in html


def test_views_mine_unassigned_open_all(agent_client, agent, supervisor):
    mine = make_ticket()
    ticket_update(ticket=mine, actor=agent, assignee=agent)
    theirs = make_ticket()
    ticket_update(ticket=theirs, actor=agent, assignee=supervisor)
    nobody = make_ticket()
    done = make_ticket()
    ticket_update(ticket=done, actor=agent, status=Status.CLOSED)

    def ids(view: str) -> set[int]:
        return set(shown_ids(agent_client.get(reverse("web:inbox"), {"view": view})))

    assert ids("mine") == {mine.pk}
    assert ids("unassigned") == {nobody.pk}
    assert ids("open") == {mine.pk, theirs.pk, nobody.pk}
    assert ids("all") == {mine.pk, theirs.pk, nobody.pk, done.pk}


def test_filters(agent_client, agent, team_a):
    email = make_ticket(subject="Broken lid", channel="email")
    chat = make_ticket(subject="Where is my parcel", channel="chat", priority="urgent")
    tagged = make_ticket(subject="Invoice copy", tags=["billing"], team=team_a)
    ticket_update(ticket=email, actor=agent, status=Status.PENDING)

    def ids(**params: str) -> set[int]:
        return set(shown_ids(agent_client.get(reverse("web:inbox"), {"view": "all", **params})))

    assert ids(status="pending") == {email.pk}
    assert ids(priority="urgent") == {chat.pk}
    assert ids(channel="chat") == {chat.pk}
    assert ids(team=str(team_a.pk)) == {tagged.pk}
    assert ids(tag="Billing") == {tagged.pk}
    assert ids(q="parcel") == {chat.pk}
    assert ids(q=f"#{tagged.pk}") == {tagged.pk}
    assert ids(status="bogus") == {email.pk, chat.pk, tagged.pk}  # invalid filters are ignored


def test_restricted_agent_never_sees_other_teams_tickets(
    restricted_client, restricted, team_a, team_b
):
    own = make_ticket(subject="Ours", team=team_a)
    other = make_ticket(subject="Theirs", team=team_b)
    ticket_update(ticket=other, actor=None, assignee=None)
    for view in ("mine", "unassigned", "open", "all"):
        response = restricted_client.get(reverse("web:inbox"), {"view": view})
        assert other.pk not in shown_ids(response)
        assert b"Theirs" not in response.content
    assert shown_ids(restricted_client.get(reverse("web:inbox"), {"view": "all"})) == [own.pk]
    # Nor by asking for it by id.
    response = restricted_client.get(reverse("web:inbox"), {"view": "all", "q": f"#{other.pk}"})
    assert shown_ids(response) == []


def test_keyset_pages_cover_everything_once_without_counting(agent_client, monkeypatch):
    monkeypatch.setattr(inbox_views, "PAGE_SIZE", 3)
    customer = CustomerFactory()
    tickets = [make_ticket(customer=customer, subject=f"T{i}") for i in range(8)]
    seen: list[int] = []
    params = {"view": "all"}
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            response = agent_client.get(reverse("web:inbox"), params)
            seen += shown_ids(response)
            match = re.search(rb'href="\?([^"]*cursor=[^"]*)" rel="next"', response.content)
            if not match:
                break
            query = match.group(1).decode().replace("&amp;", "&")
            params = dict(pair.split("=", 1) for pair in query.split("&"))
    assert seen == [t.pk for t in reversed(tickets)]
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


def test_bad_cursor_starts_from_the_top(agent_client):
    ticket = make_ticket()
    response = agent_client.get(reverse("web:inbox"), {"view": "all", "cursor": "!!not-a-cursor"})
    assert shown_ids(response) == [ticket.pk]


def test_htmx_request_gets_the_results_fragment(agent_client):
    make_ticket(subject="Fragment me")
    response = agent_client.get(reverse("web:inbox"), {"q": "Fragment"}, headers=HX)
    html = response.content.decode()
    assert 'id="inbox-results"' in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def _add_tickets(n: int, team: Team, agent: User) -> None:
    customer = CustomerFactory()
    for i in range(n):
        ticket = make_ticket(customer=customer if i % 2 else None, tags=["a", "b"], team=team)
        ticket_update(ticket=ticket, actor=None, assignee=agent)


def _count_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("web:inbox"), {"view": "all"})
    return len(ctx.captured_queries), len(shown_ids(response))


def test_inbox_query_count_does_not_grow_with_tickets(
    agent_client, agent, team_a, django_assert_max_num_queries, monkeypatch
):
    _add_tickets(5, team_a, agent)
    # The first request of an agent records her activity (routing presence); warm it up so
    # the counts compare pages, not that once-a-minute write.
    agent_client.get(reverse("web:inbox"))
    few, shown = _count_queries(agent_client)
    assert shown == 5
    monkeypatch.setattr(inbox_views, "PAGE_SIZE", 50)
    _add_tickets(45, team_a, agent)
    many, shown = _count_queries(agent_client)
    assert shown == 50
    assert few == many
    with django_assert_max_num_queries(8):
        agent_client.get(reverse("web:inbox"), {"view": "all"})


def test_first_page_refreshes_itself_later_pages_do_not(agent_client, monkeypatch):
    monkeypatch.setattr(inbox_views, "PAGE_SIZE", 1)
    make_ticket()
    make_ticket()
    first = agent_client.get(reverse("web:inbox"), {"view": "all", "priority": "normal"})
    html = first.content.decode()
    assert 'hx-trigger="every 30s' in html
    assert 'hx-get="/?view=all&amp;priority=normal"' in html
    cursor = first.context["page"].next_cursor
    later = agent_client.get(reverse("web:inbox"), {"view": "all", "cursor": cursor})
    assert "every 30s" not in later.content.decode()
