"""Turns a ticket's timeline events into sentences an agent reads at a glance.

Presentation only: the events themselves come from ``tickets.selectors.ticket_timeline``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from helpline.accounts.selectors import agent_list, team_list
from helpline.core import clock
from helpline.customers.choices import Channel
from helpline.tickets.choices import EventKind, Priority, Status
from helpline.tickets.models import Ticket, TicketEvent
from helpline.web.presenters import relative_time


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    actor: str
    text: str
    created_at: datetime


def _label(choices: type[Status] | type[Priority] | type[Channel], value: object) -> str:
    try:
        return str(choices(str(value)).label)
    except ValueError:
        return str(value)


def _ids(events: Iterable[TicketEvent], kind: str) -> set[int]:
    found: set[int] = set()
    for event in events:
        if event.kind == kind:
            for key in ("from", "to"):
                value = event.data.get(key)
                if isinstance(value, int):
                    found.add(value)
    return found


def _join(names: Sequence[str]) -> str:
    quoted = [f"“{n}”" for n in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def describe_timeline(
    *,
    ticket: Ticket,
    events: Sequence[TicketEvent],
    known_users: Mapping[int, str] | None = None,
    known_teams: Mapping[int, str] | None = None,
) -> list[TimelineEntry]:
    """One sentence per event; names of people and teams are looked up in two queries at most,
    none for those in ``known_users`` / ``known_teams`` (id -> name, e.g. the lists the page
    already has)."""
    users = dict(known_users or {})
    teams = dict(known_teams or {})
    user_ids = _ids(events, EventKind.ASSIGNEE) - users.keys()
    team_ids = _ids(events, EventKind.TEAM) - teams.keys()
    if user_ids:
        users.update(
            (u.pk, str(u)) for u in agent_list(active_only=False).filter(pk__in=user_ids)
        )
    if team_ids:
        teams.update((t.pk, t.name) for t in team_list().filter(pk__in=team_ids))
    customer_name = str(ticket.customer)
    entries = []
    for event in events:
        data = event.data
        actor = str(event.actor) if event.actor else "Helpline"
        if event.kind == EventKind.CREATED:
            channel = _label(Channel, data.get("channel", ticket.channel))
            if event.actor:
                text = f"logged the ticket on behalf of {customer_name} ({channel})"
            else:
                actor = customer_name
                text = f"opened the ticket by {channel}"
        elif event.kind == EventKind.MESSAGE:
            direction = data.get("direction")
            if direction == "inbound":
                actor = actor if event.actor else customer_name
                text = "wrote a message"
            elif direction == "note":
                text = "added an internal note"
            else:
                text = "replied to the customer"
        elif event.kind == EventKind.STATUS:
            text = (
                f"changed status from {_label(Status, data.get('from'))} "
                f"to {_label(Status, data.get('to'))}"
            )
        elif event.kind == EventKind.PRIORITY:
            text = (
                f"changed priority from {_label(Priority, data.get('from'))} "
                f"to {_label(Priority, data.get('to'))}"
            )
        elif event.kind == EventKind.ASSIGNEE:
            to_id, from_id = data.get("to"), data.get("from")
            to_name = data.get("to_name") or (users.get(to_id) if isinstance(to_id, int) else None)
            from_name = users.get(from_id) if isinstance(from_id, int) else None
            if to_name and from_name:
                text = f"reassigned the ticket from {from_name} to {to_name}"
            elif to_name:
                text = f"assigned the ticket to {to_name}"
            else:
                text = f"unassigned the ticket (was {from_name or 'someone'})"
        elif event.kind == EventKind.TEAM:
            to_id, from_id = data.get("to"), data.get("from")
            to_name = data.get("to_name") or (teams.get(to_id) if isinstance(to_id, int) else None)
            from_name = teams.get(from_id) if isinstance(from_id, int) else None
            if to_name and from_name:
                text = f"moved the ticket from team {from_name} to {to_name}"
            elif to_name:
                text = f"moved the ticket to team {to_name}"
            else:
                text = f"removed the ticket from team {from_name or 'its team'}"
        elif event.kind == EventKind.TAGS:
            added = [str(t) for t in data.get("added", [])]
            removed = [str(t) for t in data.get("removed", [])]
            parts = []
            if added:
                parts.append(f"added tag{'s' if len(added) > 1 else ''} {_join(added)}")
            if removed:
                parts.append(f"removed tag{'s' if len(removed) > 1 else ''} {_join(removed)}")
            text = " and ".join(parts) or "changed the tags"
        elif event.kind == EventKind.SUBJECT:
            text = f"renamed the ticket to “{data.get('to', '')}”"
        elif event.kind == EventKind.CUSTOMER:
            text = "changed the ticket's customer"
        else:
            text = event.get_kind_display().lower()
        entries.append(
            TimelineEntry(kind=event.kind, actor=actor, text=text, created_at=event.created_at)
        )
    return entries


def timeline_html(entries: Sequence[TimelineEntry]) -> SafeString:
    """The ``<li>`` items of ``web/tickets/_timeline.html``, newest first, as its template loop
    wrote them (a long ticket has ~100 entries; two date filters each were 3 ms a page)."""
    now = clock.now()
    return mark_safe(
        "".join(
            [
                f'\n    <li class="tl tl-{escape(e.kind)}"><span class="tl-dot"></span>\n'
                f"      <div><strong>{escape(e.actor)}</strong> {escape(e.text)}"
                f'<div class="muted tl-time" '
                f'title="{timezone.localtime(e.created_at):%Y-%m-%d %H:%M}">'
                f"{escape(relative_time(e.created_at, now=now))}</div></div>\n    </li>\n    "
                for e in reversed(entries)
            ]
        )
    )
