"""Triage in the agent UI: badges (with the reasons) beside each inbound message, one-click
corrections, the ticket's triage panel and reply hints under the composer.

Each piece is an htmx partial loaded by a one-line include in the ticket templates (see
docs/triage.md, "Agent UI"); every request starts with ``access_ticket`` and every write goes
through ``helpline.triage.services``.
"""

from __future__ import annotations

from functools import lru_cache

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.urls import get_script_prefix, path, reverse
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
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
# ``get_FOO_display()`` builds a dict of every choice on each call: labels looked up here.
_INTENT_LABELS = dict(INTENT_OPTIONS)
_URGENCY_LABELS = dict(URGENCY_OPTIONS)
_SENTIMENT_LABELS = dict(SENTIMENT_OPTIONS)


_MISSING = object()


def _dig(value: object, *keys: str) -> object:
    """``value.k1.k2`` as a template looks it up in JSON: the missing part is ``_MISSING``."""
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _join(value: object, separator: str) -> object:
    """The ``join`` filter (autoescaped): a missing value joins to ""; a value it cannot
    iterate is returned as it is."""
    if value is _MISSING:
        return ""
    try:
        items = iter(value)  # type: ignore[call-overload]
    except TypeError:
        return value
    return mark_safe(separator.join([conditional_escape(v) for v in items]))


def _show(value: object, default: str | None = None) -> str:
    """A value as ``{{ value|default:... }}`` prints it."""
    if default is not None and not value:
        value = default
    return str(conditional_escape("" if value is _MISSING else str(value)))


@lru_cache(maxsize=4096)
def _two_places_cached(value: object, language: str | None) -> str:
    return str(floatformat(value, 2))


def _two_places(value: object) -> str:
    """``{{ value|floatformat:2 }}``, once per value and language."""
    if value is _MISSING:
        value = ""
    try:
        return _two_places_cached(value, get_language())
    except TypeError:  # not hashable
        return str(floatformat(value, 2))


def _correct_url(message_id: int) -> str:
    return f"{_correct_url_prefix()}{message_id}/correct/"


@lru_cache(maxsize=8)
def _url_prefix(script_prefix: str) -> str:
    url = reverse("web:triage_message_correct", args=[1])
    assert url.endswith("/1/correct/")
    return url[: -len("1/correct/")]


def _correct_url_prefix() -> str:
    return _url_prefix(get_script_prefix())


_BADGES = (
    '\n<div class="triage-badges" id="triage-message-{id}" data-message="{id}">\n'
    "  {body}\n</div>\n"
)
_PENDING = '\n    <span class="muted">Triage pending\u2026</span>\n  '
_FORM = (
    '        <form hx-post="{url}" hx-target="#triage-message-{id}" hx-swap="outerHTML" '
    'method="post" action="{url}">\n'
    '          {csrf}<input type="hidden" name="field" value="{field}">'
)
_TRIAGED = (
    "\n"
    '    <span class="badge" style="--badge: #4f46e5" '
    'title="Intent \u00b7 confidence {confidence}">{intent}{corrected}</span>\n'
    '    <span class="badge" style="--badge: {sentiment_colour}" title="Sentiment {score} \u00b7 '
    'frustration {frustration}">{sentiment}</span>\n'
    '    <span class="badge" style="--badge: {urgency_colour}" title="Urgency">{urgency} urgency'
    "</span>\n"
    "    {wants_human}\n"
    '    <span class="pill" title="Language">{language}</span>\n'
    "    {pii}\n"
    "    {saved}\n"
    "    {error}\n"
    '    <details class="triage-why">\n'
    "      <summary>Why? / Correct</summary>\n"
    '      <ul class="triage-reasons">\n'
    "        <li><strong>Intent</strong> ({reason_confidence}): {intent_because}</li>\n"
    "        <li><strong>Sentiment</strong>: {sentiment_because}</li>\n"
    "        <li><strong>Urgency</strong>: {urgency_because}</li>\n"
    "        {person}\n"
    "      </ul>\n"
    '      <div class="triage-corrections">\n'
    "{form_intent}\n"
    '          <label>Intent <select name="value" onchange="this.form.requestSubmit()">'
    "{intent_options}</select></label>\n"
    '          <noscript><button class="button" type="submit">Save</button></noscript>\n'
    "        </form>\n"
    "{form_urgency}\n"
    '          <label>Urgency <select name="value" onchange="this.form.requestSubmit()">'
    "{urgency_options}</select></label>\n"
    "        </form>\n"
    "{form_sentiment}\n"
    '          <label>Sentiment <select name="value" onchange="this.form.requestSubmit()">'
    "{sentiment_options}</select></label>\n"
    "        </form>\n"
    "{form_person}"
    '<input type="hidden" name="value" value="{person_value}">\n'
    '          <button class="button" type="submit">{person_button}</button>\n'
    "        </form>\n"
    "      </div>\n"
    "    </details>\n"
    "  "
)


def message_badges_html(
    triage: MessageTriage | None,
    message_id: int,
    *,
    csrf_token: str,
    saved: str = "",
    error: str = "",
) -> SafeString:
    """The triage of one inbound message: badges, the reasons behind them, and one-click
    corrections (one form per field, posted with htmx, plain POST without it).

    Built here rather than in a template: a long conversation has a block under every customer
    message, ~45 template lookups, four ``floatformat`` and four ``{% csrf_token %}`` each
    (5 ms of an 18-block page). ``csrf_token`` is the page's (``get_token(request)``)."""
    if triage is None:
        return mark_safe(_BADGES.format(id=message_id, body=_PENDING))
    url = escape(_correct_url(message_id))
    csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token)
    reasons = triage.reasons
    corrected = triage.corrected
    wants_human = bool(triage.wants_human)

    def form(field: str) -> str:
        return _FORM.format(url=url, id=message_id, csrf=csrf, field=field)

    body = _TRIAGED.format(
        confidence=_two_places(triage.intent_confidence),
        intent=escape(_INTENT_LABELS.get(triage.intent, triage.intent)),
        corrected=" \u2713" if isinstance(corrected, list | tuple | dict | str)
        and "intent" in corrected
        else "",
        sentiment_colour=escape(SENTIMENT_COLOURS.get(triage.sentiment, "#6b7280")),
        score=_two_places(triage.sentiment_score),
        frustration=_two_places(triage.frustration),
        sentiment=escape(_SENTIMENT_LABELS.get(triage.sentiment, triage.sentiment)),
        urgency_colour=escape(URGENCY_COLOURS.get(triage.urgency, "#6b7280")),
        urgency=escape(_URGENCY_LABELS.get(triage.urgency, triage.urgency)),
        wants_human='<span class="badge" style="--badge: #b91c1c">Wants a person</span>'
        if wants_human
        else "",
        language=escape(str(triage.language).upper()),
        pii=format_html(
            '<span class="pill" title="Masked on arrival">masked: {}</span>',
            _show(_join(triage.pii_kinds, ", ")),
        )
        if triage.pii_kinds
        else "",
        saved='<span class="muted" role="status">Saved: thanks, Helpline learns from this.</span>'
        if saved
        else "",
        error=format_html('<span class="alert" role="alert">{}</span>', error) if error else "",
        reason_confidence=_two_places(_dig(reasons, "intent", "confidence")),
        intent_because=_show(_join(_dig(reasons, "intent", "because"), ", "), "\u2014"),
        sentiment_because=_show(
            _join(_dig(reasons, "sentiment", "because"), "; "), "no strong words"
        ),
        urgency_because=_show(_join(_dig(reasons, "urgency", "because"), "; "), "nothing special"),
        person=format_html(
            "<li><strong>Person</strong>: {}</li>",
            _show(_join(_dig(reasons, "wants_human", "because"), "; ")),
        )
        if wants_human
        else "",
        form_intent=form("intent"),
        intent_options=_options(INTENT_OPTIONS, triage.intent),
        form_urgency=form("urgency"),
        urgency_options=_options(URGENCY_OPTIONS, triage.urgency),
        form_sentiment=form("sentiment"),
        sentiment_options=_options(SENTIMENT_OPTIONS, triage.sentiment),
        form_person=form("wants_human"),
        person_value="false" if wants_human else "true",
        person_button="Does not need a person" if wants_human else "Needs a person",
    )
    return mark_safe(_BADGES.format(id=message_id, body=body))


def _badges(
    request: HttpRequest,
    triage: MessageTriage | None,
    message: Message,
    *,
    saved: str = "",
    error: str = "",
) -> HttpResponse:
    return HttpResponse(
        message_badges_html(
            triage, message.pk, csrf_token=get_token(request), saved=saved, error=error
        )
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
