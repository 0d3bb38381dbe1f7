"""The inbox: the agent's views of the tickets she may see, filtered, newest activity first;
and the SLA views, most urgent first (priority queue, breaching soon, breached)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from helpline.accounts.models import Team, User
from helpline.accounts.selectors import team_list
from helpline.core import clock
from helpline.customers.choices import Channel
from helpline.sla.selectors import tickets_breached, tickets_breaching_soon, tickets_most_urgent
from helpline.tickets.choices import Priority, Status
from helpline.tickets.models import Ticket
from helpline.tickets.selectors import InboxView, TicketFilters, ticket_list
from helpline.web.forms import INBOX_VIEW_CHOICES, URGENCY_VIEWS, InboxFilterForm
from helpline.web.pagination import Page, page_by_time_and_id
from helpline.web.presenters import ticket_rows, ticket_rows_html
from helpline.web.views.common import agent_required, current_agent, is_htmx

PAGE_SIZE = 25
FILTER_FIELDS = ("status", "priority", "channel", "team", "tag", "q")


Select = tuple[str, str, list[tuple[str, str]], str]


def _selects(teams: list[Team], data: dict[str, Any]) -> list[Select]:
    """The filters, drawn as plain <select>s: Django's widget templates cost more than the rows."""
    sources: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("status", "Status", [(str(v), str(lbl)) for v, lbl in Status.choices]),
        ("priority", "Priority", [(str(v), str(lbl)) for v, lbl in Priority.choices]),
        ("channel", "Channel", [(str(v), str(lbl)) for v, lbl in Channel.choices]),
        ("team", "Team", [(str(t.pk), t.name) for t in teams]),
    ]
    return [
        (name, label, [("", "Any"), *choices], str(data.get(name) or ""))
        for name, label, choices in sources
    ]


URGENCY_LIMIT = 50
DEFAULT_VIEW = "queue"

# What ``presenters.ticket_rows`` and ``sla_badge`` read of a ticket.
ROW_FIELDS = (
    "subject", "status", "priority", "channel", "created_at", "updated_at",
    "customer__name", "assignee__name", "assignee__email", "team__name",
    "sla__next_due_at", "sla__paused",
    *(f"sla__{target}_{when}" for target in ("first_response", "next_response", "resolution")
      for when in ("warned_at", "breached_at")),
)


def tag_names(ticket_ids: list[int]) -> dict[int, list[str]]:
    """Tag names of each ticket, one query."""
    names: dict[int, list[str]] = {}
    links = Ticket.tags.through.objects.filter(ticket_id__in=ticket_ids).order_by("id")
    for ticket_id, name in links.values_list("ticket_id", "tag__name"):
        names.setdefault(ticket_id, []).append(name)
    return names


def _urgency_view(view: str, tickets: QuerySet[Ticket], agent: User) -> list[Ticket]:
    """The SLA-ordered views: the most urgent open work first, capped (no deep pages)."""
    if view == "breaching":
        return list(tickets_breaching_soon(queryset=tickets, now=clock.now())[:URGENCY_LIMIT])
    if view == "breached":
        return list(tickets_breached(queryset=tickets, now=clock.now())[:URGENCY_LIMIT])
    # The agent the queryset is scoped to: a team-restricted agent's queue reads her teams'
    # clocks off their own index instead of walking every running clock.
    return tickets_most_urgent(queryset=tickets, limit=URGENCY_LIMIT, viewer=agent)


@require_GET
@agent_required
def inbox(request: HttpRequest) -> HttpResponse:
    agent = current_agent(request)
    teams = list(team_list())
    form = InboxFilterForm(request.GET, teams=teams)
    data = form.cleaned_data if form.is_valid() else {}
    # The default is the priority queue: the most urgent work (earliest SLA due) on top.
    view = data.get("view") or DEFAULT_VIEW
    filters = TicketFilters(
        view=InboxView.OPEN if view in URGENCY_VIEWS else view,
        status=data.get("status") or None,
        priority=data.get("priority") or None,
        channel=data.get("channel") or None,
        team_id=data.get("team"),
        tag=data.get("tag") or None,
        query=data.get("q") or "",
    )
    # The columns the rows show, and their tags in one query of their own: a prefetch builds a
    # related manager and a queryset per row, and whole customer, user and SLA rows cost more
    # to turn into objects than the page shows of them.
    tickets = (
        ticket_list(actor=agent, filters=filters)
        .select_related("sla")
        .prefetch_related(None)
        .only(*ROW_FIELDS)
    )
    page: Page[Ticket]
    if view in URGENCY_VIEWS:
        page = Page(
            rows=_urgency_view(view, tickets, agent), next_cursor=None, is_first=True
        )
    else:
        page = page_by_time_and_id(
            tickets, cursor=data.get("cursor") or None, time_field="updated_at", size=PAGE_SIZE
        )
    rows = ticket_rows(page.rows, with_sla=True, tags=tag_names([t.pk for t in page.rows]))
    kept = {name: request.GET[name] for name in FILTER_FIELDS if request.GET.get(name)}
    selects = _selects(teams, data)
    base_query = urlencode({"view": view, **kept})
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "rows_html": ticket_rows_html(rows),
        "selects": selects,
        "view": view,
        "view_label": dict(INBOX_VIEW_CHOICES).get(view, "Tickets"),
        "views": INBOX_VIEW_CHOICES,
        "urgency_limit": URGENCY_LIMIT if view in URGENCY_VIEWS else None,
        "filtered": bool(kept),
        "base_query": base_query,
        "next_query": urlencode({"view": view, **kept, "cursor": page.next_cursor})
        if page.next_cursor
        else "",
    }
    template = "web/inbox/_results.html" if is_htmx(request) else "web/inbox/inbox.html"
    response = render(request, template, context)
    # The same URL answers with a fragment for htmx and a full page otherwise.
    patch_vary_headers(response, ["HX-Request"])
    return response


urlpatterns = [
    path("", inbox, name="inbox"),
]
