"""Query-count baselines of the pages an agent opens most: the inbox (priority queue and the
keyset views), the ticket page and the customer page. The counts must not grow with the rows
shown or the length of a conversation, and the pages carry everything they show: nothing is
left to a request per panel or per message after the page (``hx-trigger="load"``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from helpline.accounts.tests.factories import UserFactory
from helpline.core import clock
from helpline.customers.tests.factories import CustomerFactory
from helpline.sla.models import TicketSla
from helpline.tickets.services import message_receive, note_add, reply_add
from helpline.tickets.tests.factories import make_ticket
from helpline.triage.models import MessageTriage

# Triage and SLA rows are written by their apps' handlers after commit.
pytestmark = pytest.mark.django_db(transaction=True)


def _get(client: Client, url: str) -> tuple[str, int]:
    client.get(url)  # warm: per-process caches (policies, content types, templates)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(ctx.captured_queries)


def _conversation(ticket, agent, exchanges: int) -> None:
    for i in range(exchanges):
        reply_add(ticket=ticket, author=agent, body_text=f"Reply {i}: have you tried descaling?")
        message_receive(ticket=ticket, body_text=f"Answer {i}: yes, twice, still cold!")
        note_add(ticket=ticket, author=agent, body_text=f"Note {i}")


def test_ticket_page_queries_do_not_grow_with_the_conversation(agent_client, agent):
    short = make_ticket(subject="Short one", body_text="My kettle does not boil, help!")
    long = make_ticket(subject="Long one", body_text="My kettle does not boil, help!")
    _conversation(long, agent, 8)
    assert MessageTriage.objects.filter(ticket=long).count() == 9  # every inbound message

    _, short_queries = _get(agent_client, f"/tickets/{short.pk}/")
    long_html, long_queries = _get(agent_client, f"/tickets/{long.pk}/")

    assert long_queries == short_queries
    # session, user, ticket (with its customer), agents, teams, tags, timeline, messages,
    # attachments, identities, orders, notes, other tickets, message triage, ticket triage,
    # customer trend, presence, SLA (the timeline's names come from the agents and teams)
    assert long_queries <= 18
    # Everything arrives with the page: triage badges of all nine customer messages, the
    # ticket's triage panel, the presence switch; no follow-up request per panel.
    assert 'hx-trigger="load"' not in long_html
    assert long_html.count('class="triage-badges"') == 9
    assert 'class="card triage-panel"' in long_html
    assert 'id="routing-presence"' in long_html
    assert "Answer 7: yes, twice, still cold!" in long_html


def test_customer_panel_shows_the_organisation_in_the_same_queries(agent_client):
    """The panel's customer is the one ``access_ticket`` read with the ticket, its relations
    prefetched onto it: an organisation costs its own query and nothing else."""
    from helpline.customers.tests.factories import OrganisationFactory

    plain = make_ticket(subject="No company")
    _, without = _get(agent_client, f"/tickets/{plain.pk}/")
    customer = CustomerFactory(organisation=OrganisationFactory(name="Kettle Works Ltd"))
    ticket = make_ticket(subject="Company", customer=customer)
    html, with_organisation = _get(agent_client, f"/tickets/{ticket.pk}/")
    assert with_organisation == without + 1
    panel = html.split('id="customer-panel"')[1].split("</section>")[0]
    assert "Kettle Works Ltd" in panel


def test_inbox_queue_and_views_queries_do_not_grow_with_rows(agent_client, agent):
    now = clock.now()
    first = [make_ticket(subject=f"First {i}") for i in range(2)]
    _, queue_few = _get(agent_client, "/")
    _, open_few = _get(agent_client, "/?view=open")
    more = [make_ticket(subject=f"More {i}", tags=["kettle", f"t{i}"]) for i in range(6)]
    for i, ticket in enumerate(first + more):
        TicketSla.objects.filter(ticket=ticket).update(next_due_at=now + timedelta(minutes=i))
    # Tickets without a running clock come after the others.
    TicketSla.objects.filter(ticket=more[-1]).update(next_due_at=None)

    html, queue_many = _get(agent_client, "/")
    _, open_many = _get(agent_client, "/?view=open")

    assert queue_many <= queue_few + 1  # + the ranking of tickets without a running clock
    assert open_many == open_few
    # session, user, teams, the edge of the clocks' window and the visible tickets in it, the
    # ids without a running clock (one range read per priority, four at most), the rows, their
    # tags, presence
    assert queue_many <= 12
    ids = [int(x) for x in re.findall(r'data-ticket="(\d+)"', html)]
    assert ids == [t.pk for t in first + more[:-1]] + [more[-1].pk]
    assert 'hx-trigger="load"' not in html
    assert html.count("badge-sla") == 7  # the clockless ticket shows no SLA badge
    assert html.count('<span class="tag">kettle</span>') == 6


def test_queue_of_a_restricted_agent_keeps_to_her_teams(client, team_a):
    from helpline.accounts.tests.factories import TeamFactory

    restricted = UserFactory(restricted_to_teams=True)
    restricted.teams.set([team_a])
    mine = make_ticket(subject="Billing question", team=team_a)
    hidden = make_ticket(subject="Elsewhere", team=TeamFactory(name="Shipping"))
    TicketSla.objects.filter(ticket=hidden).update(next_due_at=clock.now() - timedelta(hours=2))
    TicketSla.objects.filter(ticket=mine).update(next_due_at=None)
    client.force_login(restricted)
    html, _ = _get(client, "/")
    ids = [int(x) for x in re.findall(r'data-ticket="(\d+)"', html)]
    assert ids == [mine.pk]


def test_queue_with_few_clocks_none_of_them_visible(client, team_a, monkeypatch):
    """An install whose SLAs are new: a few running clocks, all on tickets a restricted agent
    may not see. The queue reads the wider clock window (it holds every running clock, so it
    is complete) instead of ordering her whole share, then her tickets without a clock.
    The inbox passes the agent to the selector, so her teams' clocks are read per team."""
    from helpline.accounts.tests.factories import TeamFactory
    from helpline.sla import selectors as sla_selectors

    monkeypatch.setattr(sla_selectors, "_CLOCK_WINDOWS", (1, 3))  # windows of 2 and 6 clocks
    shipping = TeamFactory(name="Shipping")
    hidden = [make_ticket(subject=f"Elsewhere {i}", team=shipping) for i in range(4)]
    mine = [make_ticket(subject=f"Billing {i}", team=team_a, priority=p)
            for i, p in enumerate(["low", "urgent", "normal"])]
    restricted = UserFactory(restricted_to_teams=True)
    restricted.teams.set([team_a])
    client.force_login(restricted)
    now = clock.now()
    for i, ticket in enumerate(hidden):
        TicketSla.objects.filter(ticket=ticket).update(next_due_at=now + timedelta(minutes=i))
    TicketSla.objects.filter(ticket__in=mine).update(next_due_at=None)
    real_ids = sla_selectors._restricted_clock_ids
    answers: list[object] = []

    def spy(queryset, limit, team_ids, assignee_id):
        found = real_ids(queryset, limit, team_ids, assignee_id)
        answers.append(list(found))
        return found

    monkeypatch.setattr(sla_selectors, "_restricted_clock_ids", spy)
    html, queries = _get(client, "/")
    # her teams' clocks read off their own index: none running, and the clocks of the other
    # team were never walked (no full ordering of her share either)
    assert answers == [[], []]  # the warm-up GET and the measured one
    ids = [int(x) for x in re.findall(r'data-ticket="(\d+)"', html)]
    assert ids == [mine[1].pk, mine[2].pk, mine[0].pk]  # urgent, normal, low
    # session, user, teams, her teams, two windows (edge and tickets each), the clockless ids
    # (one range read per priority), the rows, their tags, presence
    assert queries <= 15


def test_open_statuses_are_listed_in_the_indexes_order(agent_client, restricted, client):
    """PostgreSQL takes an IN list in another order than a partial index's predicate for a
    second condition and squares its selectivity; the inbox lists the open statuses sorted,
    as the indexes do, whatever the process's hash seed made of the frozenset."""
    make_ticket(subject="Any")
    client.force_login(restricted)
    for c in (agent_client, client):
        for url in ("/", "/?view=mine", "/?view=open", "/?view=unassigned", "/?view=breached",
                    "/?view=breaching"):
            c.get(url)
            with CaptureQueriesContext(connection) as ctx:
                assert c.get(url).status_code == 200
            lists = [m for q in ctx.captured_queries
                     for m in re.findall(r"\"status\" IN \(([^)]*)\)", q["sql"])]
            assert lists, url
            for found in lists:
                assert found == "'new', 'on_hold', 'open', 'pending'", (url, found)


def test_customer_page_queries_do_not_grow_with_tickets(agent_client):
    customer = CustomerFactory()
    make_ticket(customer=customer)
    _, few = _get(agent_client, f"/customers/{customer.pk}/")
    for i in range(5):
        make_ticket(customer=customer, subject=f"Another {i}", tags=["x"])
    html, many = _get(agent_client, f"/customers/{customer.pk}/")
    assert many == few
    # session, user, customer, identities, orders, notes, tickets, their tags, presence
    assert many <= 9
    assert html.count('class="row"') == 6


@pytest.mark.parametrize("windows", [(1,), (1, 2), (10, 100)])
def test_most_urgent_matches_the_full_sort(monkeypatch, windows, team_a):
    """Looking at a window of the earliest clocks gives exactly the order of one ORDER BY: ties,
    clockless tickets, restricted visibility and the fallback included."""
    from helpline.accounts.tests.factories import TeamFactory
    from helpline.sla import selectors as sla_selectors
    from helpline.sla.selectors import tickets_by_urgency, tickets_most_urgent
    from helpline.tickets.selectors import InboxView, TicketFilters, ticket_list

    monkeypatch.setattr(sla_selectors, "_CLOCK_WINDOWS", windows)
    other = TeamFactory(name="Shipping")
    now = clock.now()
    dues = [5, 5, 5, None, 1, 9, 5, None, 1, 30, 2, None, 5]
    priorities = ["low", "urgent", "normal", "high", "normal", "urgent", "high", "urgent",
                  "low", "normal", "high", "low", "urgent"]
    for i, (due, priority) in enumerate(zip(dues, priorities, strict=True)):
        ticket = make_ticket(subject=f"T{i}", priority=priority, team=team_a if i % 3 else other)
        if due is None and i % 2:
            TicketSla.objects.filter(ticket=ticket).delete()
        else:
            TicketSla.objects.filter(ticket=ticket).update(
                next_due_at=now + timedelta(minutes=due) if due is not None else None
            )
    supervisor = UserFactory(role="supervisor")
    restricted = UserFactory(restricted_to_teams=True)
    restricted.teams.set([team_a])
    for actor in (supervisor, restricted):
        def visible(actor: Any = actor) -> Any:
            return ticket_list(actor=actor, filters=TicketFilters(view=InboxView.OPEN))

        expected = list(tickets_by_urgency(visible()).values_list("id", flat=True))
        for limit in range(1, len(dues) + 2):
            got = [t.pk for t in tickets_most_urgent(queryset=visible(), limit=limit)]
            assert got == expected[:limit], (actor, limit)


def test_triage_badges_built_in_python_escape_and_carry_the_forms(agent_client, agent):
    """The badges under a customer message are built by ``message_badges_html`` (no template):
    reasons are escaped, a corrected intent is ticked, the four correction forms carry the
    page's CSRF token, and the correction endpoint answers with the same block."""
    ticket = make_ticket(subject="Refund", body_text="Where is my refund?")
    message = ticket.messages.get()
    MessageTriage.objects.filter(message=message).update(
        reasons={"intent": {"confidence": 0.125, "because": ["order <b>"]},
                 "wants_human": {"because": ["asked for a person"]}},
        corrected=["intent"], wants_human=True, pii_kinds=["email"],
    )
    html, _ = _get(agent_client, f"/tickets/{ticket.pk}/")
    block = html.split(f'id="triage-message-{message.pk}"')[1].split("</details>")[0]
    assert "order &lt;b&gt;" in block and "order <b>" not in block
    assert "(0.13)" in block  # floatformat rounds half up
    assert " ✓</span>" in block
    assert "masked: email" in block
    assert "<strong>Person</strong>: asked for a person" in block
    assert block.count('name="csrfmiddlewaretoken"') == 4
    assert "Does not need a person" in block
    answer = agent_client.post(
        f"/triage/messages/{message.pk}/correct/", {"field": "urgency", "value": "low"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert answer.startswith(f'\n<div class="triage-badges" id="triage-message-{message.pk}"')
    assert "Saved: thanks" in answer and "Low urgency" in answer


def test_inbox_rows_escape_what_people_typed(agent_client, agent):
    """The rows are built in Python: subjects, customer names, tags, assignee and team names
    are escaped as the template escaped them."""
    from helpline.accounts.tests.factories import TeamFactory
    from helpline.tickets.services import ticket_update

    customer = CustomerFactory(name='Tom & "Jerry" <b>')
    ticket = make_ticket(subject="<script>alert(1)</script> & co", customer=customer,
                         tags=["a&b"], team=TeamFactory(name="R&D <x>"))
    ticket_update(ticket=ticket, actor=agent, assignee=agent)
    for url in ("/", "/?view=open"):
        html, _ = _get(agent_client, url)
        row = html.split(f'data-ticket="{ticket.pk}"')[1].split("</tr>")[0]
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in row
        assert "<script>" not in row
        assert "Tom &amp; &quot;Jerry&quot; &lt;b&gt;" in row
        assert '<span class="tag">a&amp;b</span>' in row
        assert '<div class="sub">R&amp;D &lt;x&gt;</div>' in row
