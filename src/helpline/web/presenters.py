"""Rows for long lists, prepared in Python so the template only prints them.

Template lookups, filters and ``{% url %}`` cost microseconds each; at fifty rows with a dozen
cells that is most of an inbox request. A row here is computed once, with plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html import escape as _escape
from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist
from django.template.defaultfilters import linebreaks_filter as linebreaks
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import TIME_STRINGS, timesince, timeuntil
from django.utils.translation import get_language

from helpline.core import clock
from helpline.tickets.choices import Direction
from helpline.tickets.models import Attachment, Message, Ticket
from helpline.web.badges import channel_label, priority_badge, status_badge


def relative_time(value: datetime | None, *, now: datetime | None = None) -> str:
    """A short relative time: "just now", "4 min ago", "3 h ago", "2 d ago", then a date."""
    if value is None:
        return ""
    seconds = int(((now or clock.now()) - value).total_seconds())
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    if seconds < 7 * 86400:
        return f"{seconds // 86400} d ago"
    local = timezone.localtime(value)
    return f"{local.day} {local:%b %Y}"


def initials(value: object) -> str:
    words = [w for w in str(value).replace("@", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


@lru_cache(maxsize=2048)
def _time_unit(language: str | None, name: str, num: int) -> str:
    return str(TIME_STRINGS[name] % {"num": num})


class _TimeUnit:
    """One of Django's ``timesince`` unit strings ("%(num)d minutes"), translated once per
    language and number instead of through gettext on every call (most of a badge's cost)."""

    __slots__ = ("language", "name")

    def __init__(self, language: str | None, name: str) -> None:
        self.language, self.name = language, name

    def __mod__(self, values: dict[str, int]) -> str:
        return _time_unit(self.language, self.name, values["num"])


@lru_cache(maxsize=16)
def _time_strings(language: str | None) -> dict[str, str]:
    # Stands in for the str values timesince formats with ``%``.
    return {name: cast(str, _TimeUnit(language, name)) for name in TIME_STRINGS}


SLA_RED, SLA_AMBER, SLA_BLUE, SLA_GREY = "#dc2626", "#d97706", "#2563eb", "#6b7280"


def sla_badge(ticket: Ticket) -> SafeString:
    """The SLA badge of one ticket: time left on the earliest running target, "Overdue ..."
    once it has passed, "SLA paused" while pending/on hold, "SLA breached" after a breach with
    no clock running, nothing without SLA. Reads ``ticket.sla`` (select it with the ticket).
    Times left are measured with Django's clock, as the template filters did."""
    s: Any
    try:
        # Selected with the ticket: the cached row, or None when the ticket has no SLA row
        # (reading ``ticket.sla`` would raise, and building that exception costs more than
        # the whole badge).
        s = Ticket.sla.related.get_cached_value(ticket)
    except KeyError:
        try:
            s = ticket.sla
        except ObjectDoesNotExist:
            s = None
    if s is None:
        return mark_safe("")
    if s.next_due_at:
        local = timezone.localtime(s.next_due_at)
        title = f"{local:%Y-%m-%d %H:%M}"
        iso = local.isoformat()  # the "c" date format
        units = _time_strings(get_language())
        left = timeuntil(s.next_due_at, time_strings=units)
        if left[:1] == "0":
            return format_html(
                '<span class="badge badge-sla" style="--badge:{}" title="SLA due {}" '
                'data-sla-due="{}">Overdue {}</span>',
                SLA_RED, title, iso, timesince(s.next_due_at, time_strings=units),
            )
        warned = s.first_response_warned_at or s.next_response_warned_at or s.resolution_warned_at
        return format_html(
            '<span class="badge badge-sla" style="--badge:{}" title="SLA due {}" '
            'data-sla-due="{}">{} left</span>',
            SLA_AMBER if warned else SLA_BLUE, title, iso, left,
        )
    if s.paused:
        return format_html(
            '<span class="badge badge-sla" style="--badge:{}" title="SLA clock paused">'
            "SLA paused</span>",
            SLA_GREY,
        )
    if s.first_response_breached_at or s.next_response_breached_at or s.resolution_breached_at:
        return format_html(
            '<span class="badge badge-sla" style="--badge:{}">SLA breached</span>', SLA_RED
        )
    return mark_safe("")


@dataclass(frozen=True, slots=True)
class TicketRow:
    id: int
    url: str
    subject: str
    tags: list[str]
    customer: str
    channel: str
    channel_label: str
    status: SafeString
    priority: SafeString
    assignee: str
    assignee_initials: str
    team: str
    updated: str
    updated_exact: str
    sla: SafeString
    ticket: Ticket  # for partials of other areas, e.g. the SLA badge (ticket.sla)


def _ticket_url_prefix() -> str:
    url = reverse("web:ticket_detail", args=[1])
    assert url.endswith("/1/")
    return url[: -len("1/")]


def ticket_rows(
    tickets: Iterable[Ticket],
    *,
    with_sla: bool = False,
    tags: Mapping[int, list[str]] | None = None,
) -> list[TicketRow]:
    """Rows for tickets fetched with customer, assignee and team already loaded (and ``sla``
    with ``with_sla``); their tag names from ``tags`` (ticket id -> names) or, without it,
    from each ticket's prefetched ``tags``."""
    now = clock.now()
    prefix = _ticket_url_prefix()
    rows = []
    for t in tickets:
        assignee = str(t.assignee) if t.assignee_id else ""
        rows.append(
            TicketRow(
                id=t.pk,
                url=f"{prefix}{t.pk}/",
                subject=t.subject,
                tags=[tag.name for tag in t.tags.all()] if tags is None else tags.get(t.pk, []),
                customer=str(t.customer),
                channel=t.channel,
                channel_label=channel_label(t.channel),
                status=status_badge(t.status),
                priority=priority_badge(t.priority),
                assignee=assignee,
                assignee_initials=initials(assignee) if assignee else "",
                team=t.team.name if t.team_id and t.team else "",
                updated=relative_time(t.updated_at, now=now),
                updated_exact=f"{timezone.localtime(t.updated_at):%Y-%m-%d %H:%M}",
                sla=sla_badge(t) if with_sla else mark_safe(""),
                ticket=t,
            )
        )
    return rows


def ticket_row_html(row: TicketRow) -> SafeString:
    """One ``<tr>`` of the inbox table (``web/inbox/_results.html``), as its template wrote it:
    fifty rows of a dozen cells cost ~900 template variable lookups, most of a page's CPU.
    Values go through ``html.escape`` (what ``format_html`` applies, without its lazy-string
    wrappers, ~20 per row); the badges are already safe HTML."""
    tags = "".join([f' <span class="tag">{_escape(tag)}</span>' for tag in row.tags])
    if row.assignee:
        name = _escape(row.assignee)
        assignee = (
            f'<span class="avatar avatar-sm" title="{name}">{_escape(row.assignee_initials)}'
            f"</span> {name}"
        )
    else:
        assignee = UNASSIGNED
    team = f'<div class="sub">{_escape(row.team)}</div>' if row.team else ""
    return mark_safe(
        f'\n      <tr class="row" data-ticket="{row.id}">\n'
        f'        <td class="col-id muted">{row.id}</td>\n'
        f'        <td class="col-subject"><a class="row-link" href="{_escape(row.url)}">'
        f"{_escape(row.subject)}</a>{tags}</td>\n"
        f'        <td class="col-customer">{_escape(row.customer)}</td>\n'
        f'        <td><span class="channel channel-{_escape(row.channel)}">'
        f"{_escape(row.channel_label)}</span></td>\n"
        f"        <td>{row.status}</td>\n"
        f"        <td>{row.priority}</td>\n"
        f'        <td class="col-sla">{row.sla}</td>\n'
        f'        <td class="col-assignee">{assignee}{team}</td>\n'
        f'        <td class="col-time muted" title="{_escape(row.updated_exact)}">'
        f"{_escape(row.updated)}</td>\n"
        "      </tr>\n    "
    )


UNASSIGNED = mark_safe('<span class="muted">Unassigned</span>')


def ticket_rows_html(rows: Iterable[TicketRow]) -> SafeString:
    """The inbox table's rows, printed by the template with one variable."""
    return mark_safe("".join([ticket_row_html(row) for row in rows]))


ATTACHMENT_ICON = mark_safe(
    '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M21 11.5 12.6 19.9a5.5 '
    "5.5 0 0 1-7.8-7.8l8.5-8.5a3.7 3.7 0 0 1 5.2 5.2l-8.5 8.5a1.8 1.8 0 0 1-2.6-2.6l7.8-7.8\"/>"
    "</svg>"
)


@dataclass(frozen=True, slots=True)
class MessageView:
    """One message of the conversation, its head, body and attachments already rendered; the
    template adds the other areas' extras (``MESSAGE_EXTRAS``) with ``m`` = ``message``
    between ``top`` (the article up to the body) and ``bottom`` (attachments, the end)."""

    pk: int
    direction: str
    head: SafeString
    body: SafeString
    attachments: SafeString
    message: Message

    @property
    def top(self) -> SafeString:
        direction = _escape(self.direction)
        return mark_safe(
            f'\n  <article class="message message-{direction}" id="message-{self.pk}" '
            f'data-direction="{direction}">\n'
            f'    <div class="message-head">\n      {self.head}\n    </div>\n'
            f'    <div class="message-body">\n      {self.body}\n    </div>\n    '
        )

    @property
    def bottom(self) -> SafeString:
        return mark_safe(f"\n    {self.attachments}\n  </article>\n  ")


def _message_head(
    m: Message, customer: object, now: datetime, people: dict[object, tuple[str, str]]
) -> SafeString:
    """The head of one message. Built with ``html.escape`` (what ``format_html`` applies to
    each value, without its lazy-string wrappers: a long conversation has hundreds of them).
    ``people`` caches the escaped initials and name of each author across the messages."""
    if m.direction == Direction.INBOUND:
        who: object = m.author_customer or customer
        outgoing = False
        css, pill = "avatar avatar-customer", '<span class="pill">Customer</span>'
    elif m.direction == Direction.NOTE:
        who = m.author_user or "Helpline"
        outgoing = False
        css, pill = "avatar", '<span class="pill pill-note">Internal note</span>'
    else:
        who = m.author_user or "Helpline"
        outgoing = True
        css = "avatar avatar-agent"
        pill = (
            '<span class="pill pill-reply">Automatic reply</span>'
            if m.is_automatic
            else '<span class="pill pill-reply">Reply</span>'
        )
    known = people.get(who)
    if known is None:
        known = people[who] = (_escape(initials(who)), _escape(str(who)))
    head = (
        f'<span class="{css}">{known[0]}</span>\n'
        f"        <strong>{known[1]}</strong>\n        {pill}"
    )
    if outgoing and m.delivery_status:
        head += (
            f'\n        <span class="delivery delivery-{_escape(m.delivery_status)}" '
            f'title="{_escape(m.delivery_detail)}">'
            f"{_escape(str(m.get_delivery_status_display()))}</span>"
        )
    local = timezone.localtime(m.created_at)
    return mark_safe(
        f'{head}\n      <span class="message-meta muted">{_escape(channel_label(m.channel))} · '
        f'<time datetime="{local.isoformat()}" title="{local:%Y-%m-%d %H:%M}">'
        f"{_escape(relative_time(m.created_at, now=now))}</time></span>"
    )


def conversation_rows(
    messages: Iterable[Message],
    *,
    ticket: Ticket,
    attachments: Mapping[int, Sequence[Attachment]] | None = None,
) -> list[MessageView]:
    """The conversation of ``ticket`` for ``web/tickets/_conversation.html``: messages fetched
    with their authors (``tickets.selectors.ticket_messages``), and their attachments from
    ``attachments`` (message id -> attachments, read in one query) or, without it, from each
    message's ``attachments`` (prefetched)."""
    now = clock.now()
    customer = ticket.customer
    prefix = _ticket_url_prefix()
    people: dict[object, tuple[str, str]] = {}
    rows = []
    for m in messages:
        files = list(m.attachments.all()) if attachments is None else attachments.get(m.pk, ())
        rows.append(
            MessageView(
                pk=m.pk,
                direction=m.direction,
                head=_message_head(m, customer, now, people),
                body=mark_safe(m.body_html) if m.body_html else linebreaks(m.body_text),
                attachments=format_html(
                    '<ul class="attachments">\n      {}\n    </ul>',
                    format_html_join(
                        "",
                        '<li><a href="{}{}/attachments/{}/">{} {}</a> <span class="muted">{}'
                        "</span></li>",
                        (
                            (prefix, ticket.pk, a.pk, ATTACHMENT_ICON, a.filename,
                             filesize(a.size))
                            for a in files
                        ),
                    ),
                )
                if files
                else mark_safe(""),
                message=m,
            )
        )
    return rows


def filesize(value: int) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
