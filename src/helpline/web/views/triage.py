"""Triage in the agent UI: badges (with the reasons) beside each inbound message, one-click
corrections, the ticket's triage panel and reply hints under the composer.

Each piece is an htmx partial loaded by a one-line include in the ticket templates (see
docs/triage.md, "Agent UI"); every request starts with ``access_ticket`` and every write goes
through ``helpline.triage.services``.
"""

from __future__ import annotations

from functools import lru_cache

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from helpline.core.errors import HelplineError, NotFound
from helpline.tickets.models import Message, Ticket
from helpline.tickets.permissions import access_ticket
from helpline.triage.choices import INTENT_CHOICES, SENTIMENT_COLOURS, Sentiment, Urgency
from helpline.triage.models import MessageTriage
from helpline.triage.selectors import (
    customer_sentiment_trend,
    message_triage_get,
    reply_review,
    ticket_triage_get,
)
from helpline.triage.services import triage_correct
from helpline.web.views.common import agent_required, current_agent

URGENCY_COLOURS = {"low": "#6b7280", "normal": "#2563eb", "high": "#d97706", "urgent": "#dc2626"}
MAX_DRAFT = 100_000


def _ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    try:
        return access_ticket(actor=current_agent(request), ticket_id=ticket_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _message(request: HttpRequest, message_id: int) -> Message:
    message = Message.objects.filter(pk=message_id).only("id", "ticket_id").first()
    if message is None:
        raise Http404("Message not found.")
    _ticket(request, message.ticket_id)
    return message


@lru_cache(maxsize=256)
def _options(choices: tuple[tuple[str, str], ...], selected: str) -> SafeString:
    """``<option>``s of a correction menu: the same few lists on every customer message of a
    ticket, so they are built once per selected value rather than looped in the template."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, mark_safe(" selected") if value == selected else "", label)
        for value, label in choices),
    )


INTENT_OPTIONS = tuple((str(v), str(label)) for v, label in INTENT_CHOICES)
URGENCY_OPTIONS = tuple((str(v), str(label)) for v, label in Urgency.choices)
SENTIMENT_OPTIONS = tuple((str(v), str(label)) for v, label in Sentiment.choices)


def message_badges_context(triage: MessageTriage | None, message_id: int) -> dict[str, object]:
    """What ``web/triage/_message_badges.html`` needs for one message and its triage (or None)."""
    if triage is None:
        return {"triage": None, "message_id": message_id}
    return {
        "triage": triage,
        "message_id": message_id,
        "correct_url": reverse("web:triage_message_correct", args=[message_id]),
        "sentiment_colour": SENTIMENT_COLOURS.get(triage.sentiment, "#6b7280"),
        "urgency_colour": URGENCY_COLOURS.get(triage.urgency, "#6b7280"),
        "intent_options": _options(INTENT_OPTIONS, triage.intent),
        "urgency_options": _options(URGENCY_OPTIONS, triage.urgency),
        "sentiment_options": _options(SENTIMENT_OPTIONS, triage.sentiment),
    }


def _badges(
    request: HttpRequest, triage: MessageTriage | None, message: Message, **extra: object
) -> HttpResponse:
    return render(
        request,
        "web/triage/_message_badges.html",
        {**message_badges_context(triage, message.pk), **extra},
    )


@agent_required
@require_GET
def message_triage_badges(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message(request, message_id)
    return _badges(request, message_triage_get(message_id=message.pk), message)


@agent_required
@require_POST
def message_triage_correct(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message(request, message_id)
    field = request.POST.get("field", "")
    value = request.POST.get("value", "")
    try:
        triage = triage_correct(
            actor=current_agent(request), message_id=message.pk, field=field, value=value
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except HelplineError as exc:
        return _badges(
            request, message_triage_get(message_id=message.pk), message, error=exc.message
        )
    return _badges(request, triage, message, saved=field)


def ticket_panel_context(ticket: Ticket) -> dict[str, object]:
    """What ``web/triage/_ticket_panel.html`` needs (besides ``ticket``): three queries."""
    triage = ticket_triage_get(ticket=ticket)
    return {
        "triage": triage,
        "customer_trend": customer_sentiment_trend(customer_id=ticket.customer_id),
        "sentiment_colour": SENTIMENT_COLOURS.get(triage.sentiment, "#6b7280") if triage else "",
        "urgency_colour": URGENCY_COLOURS.get(triage.urgency, "#6b7280") if triage else "",
        "suggestion_differs": bool(
            triage and triage.suggested_priority and triage.suggested_priority != ticket.priority
        ),
    }


@agent_required
@require_GET
def ticket_triage_panel(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    return render(
        request, "web/triage/_ticket_panel.html", {"ticket": ticket, **ticket_panel_context(ticket)}
    )


@agent_required
@require_POST
def reply_hints(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    body = request.POST.get("body", "")
    if len(body) > MAX_DRAFT:
        return HttpResponseBadRequest("The draft is too long to check.")
    if request.POST.get("kind", "reply") == "note":
        review = None  # internal notes never reach the customer: nothing to check
    else:
        review = reply_review(ticket=ticket, body=body)
    return render(request, "web/triage/_reply_hints.html", {"review": review, "ticket": ticket})


urlpatterns = [
    path("messages/<int:message_id>/", message_triage_badges, name="triage_message"),
    path(
        "messages/<int:message_id>/correct/", message_triage_correct, name="triage_message_correct"
    ),
    path("tickets/<int:ticket_id>/", ticket_triage_panel, name="triage_ticket"),
    path("tickets/<int:ticket_id>/reply-hints/", reply_hints, name="triage_reply_hints"),
]
