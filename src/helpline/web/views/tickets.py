"""The ticket page: conversation, reply/note composer, properties, timeline, customer panel.

Every request starts with ``access_ticket`` (the same 404 for missing and forbidden tickets);
every write goes through ``helpline.tickets.services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from helpline.accounts.models import User
from helpline.accounts.selectors import agent_list, team_list
from helpline.core.errors import HelplineError, NotFound
from helpline.core.types import UNSET
from helpline.customers.models import Customer, CustomerNote, Order
from helpline.tickets.choices import TRANSITIONS, Direction, Priority, Status
from helpline.tickets.models import Attachment, Message, Ticket
from helpline.tickets.permissions import access_ticket
from helpline.tickets.selectors import customer_other_tickets, ticket_messages, ticket_timeline
from helpline.tickets.services import AttachmentIn, note_add, reply_add, ticket_update
from helpline.triage.selectors import message_triages_for_ticket
from helpline.web import slots
from helpline.web.forms import ReplyForm, TicketFieldsForm
from helpline.web.presenters import conversation_rows
from helpline.web.timeline import describe_timeline, timeline_html
from helpline.web.views.common import agent_required, current_agent, htmx_redirect, is_htmx
from helpline.web.views.triage import message_badges_html, ticket_panel_context

MAX_ATTACHMENTS = 10
OTHER_TICKETS = 6
# "Send and set ..." choices; the service still checks the transition from the current status.
REPLY_STATUSES = [(value, label) for value, label in Status.choices if value != Status.NEW]


def _access(agent: User, ticket_id: int) -> Ticket:
    try:
        return access_ticket(actor=agent, ticket_id=ticket_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _customer_for_panel(ticket: Ticket) -> Customer:
    """The ticket's customer (read with it by ``access_ticket``) with what the panel shows:
    organisation, identities, orders (``customer_detail_queryset``'s) and notes."""
    customer = ticket.customer
    prefetch_related_objects(
        [customer],
        "organisation",
        "identities",
        Prefetch("orders", queryset=Order.objects.order_by("-ordered_at")),
        Prefetch("notes", queryset=CustomerNote.objects.select_related("author")),
    )
    return customer


def _ticket_context(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    reply_error: str = "",
    fields_error: str = "",
) -> dict[str, Any]:
    agent = current_agent(request)
    agents = list(agent_list())
    teams = list(team_list())
    tag_names = [t.name for t in ticket.tags.order_by("name")]
    events = list(ticket_timeline(ticket=ticket))
    timeline = describe_timeline(
        ticket=ticket,
        events=events,
        known_users={a.pk: str(a) for a in agents},
        known_teams={t.pk: t.name for t in teams},
    )
    # Attachments in one query of their own: prefetching builds a related manager and a
    # queryset per message (1-2 ms for a 45-message conversation).
    conversation = list(ticket_messages(ticket=ticket).prefetch_related(None))
    attachments: dict[int, list[Attachment]] = {}
    for attachment in Attachment.objects.filter(
        message_id__in=[m.pk for m in conversation]
    ).order_by("id"):
        attachments.setdefault(attachment.message_id, []).append(attachment)
    return {
        "ticket": ticket,
        "conversation": conversation_rows(conversation, ticket=ticket, attachments=attachments),
        **_triage(ticket, conversation, csrf_token=get_token(request)),
        "timeline": timeline,
        "timeline_html": timeline_html(timeline),
        "customer": _customer_for_panel(ticket),
        "other_tickets": customer_other_tickets(actor=agent, ticket=ticket, limit=OTHER_TICKETS),
        "agents": agents,
        "teams": teams,
        "tag_names": tag_names,
        "statuses": [
            (value, label, value == ticket.status or value in TRANSITIONS[ticket.status])
            for value, label in Status.choices
        ],
        "priorities": Priority.choices,
        "reply_form": reply_form or ReplyForm(),
        "reply_error": reply_error,
        "fields_error": fields_error,
        "reply_statuses": REPLY_STATUSES,
        **_slots(),
    }


def _triage(ticket: Ticket, conversation: list[Message], *, csrf_token: str) -> dict[str, object]:
    """Triage badges of every inbound message (their markup, built in Python) and the
    ticket's triage panel, rendered with the page (four queries) instead of fetched by one
    htmx request each after it."""
    inbound = [m.pk for m in conversation if m.direction == Direction.INBOUND]
    triages = message_triages_for_ticket(ticket=ticket) if inbound else {}
    return {
        "triage_badges": {
            pk: message_badges_html(triages.get(pk), pk, csrf_token=csrf_token) for pk in inbound
        },
        "triage_panel": ticket_panel_context(ticket),
    }


def _slots() -> dict[str, list[str]]:
    return {
        "side_panels": slots.TICKET_SIDE_PANELS,
        "message_extras": slots.MESSAGE_EXTRAS,
        "composer_extras": slots.COMPOSER_EXTRAS,
    }


def _first_error(form: ReplyForm | TicketFieldsForm) -> str:
    for field, errors in form.errors.items():
        if field in form.fields:
            label = form.fields[field].label or field.replace("_", " ").capitalize()
            return f"{label}: {errors[0]}"
        return str(errors[0])
    return "Check the form and try again."


@require_GET
@agent_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _access(current_agent(request), ticket_id)
    return render(request, "web/tickets/detail.html", _ticket_context(request, ticket))


@require_POST
@agent_required
def ticket_message_add(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A reply to the customer or an internal note, optionally setting the status after it."""
    agent = current_agent(request)
    ticket = _access(agent, ticket_id)
    form = ReplyForm(request.POST)
    error = ""
    status = 200
    files = request.FILES.getlist("attachments")
    if not form.is_valid():
        error, status = _first_error(form), 422
    elif len(files) > MAX_ATTACHMENTS:
        error, status = f"Attach at most {MAX_ATTACHMENTS} files to one message.", 422
    else:
        body = form.cleaned_data["body"]
        status_after = form.cleaned_data["status_after"]
        attachments = [
            AttachmentIn(
                filename=f.name or "attachment",
                content=f.read(),
                content_type=f.content_type or "",
            )
            for f in files
        ]
        try:
            if form.cleaned_data["kind"] == ReplyForm.KIND_NOTE:
                # The note and its status change land together or not at all.
                with transaction.atomic():
                    note_add(ticket=ticket, author=agent, body_text=body, attachments=attachments)
                    if status_after:
                        ticket_update(ticket=ticket, actor=agent, status=status_after)
            else:
                reply_add(
                    ticket=ticket,
                    author=agent,
                    body_text=body,
                    status_after=status_after or UNSET,
                    attachments=attachments,
                )
        except HelplineError as exc:
            error, status = exc.message, exc.status
    if error:
        if not is_htmx(request):
            context = _ticket_context(request, ticket, reply_form=form, reply_error=error)
            return render(request, "web/tickets/detail.html", context, status=status)
        context = {
            "ticket": ticket,
            "reply_form": form,
            "reply_error": error,
            "reply_statuses": REPLY_STATUSES,
            **_slots(),
        }
        return render(request, "web/tickets/_composer.html", context, status=status)
    return _after_write(request, ticket_id, "web/tickets/_after_message.html")


@require_POST
@agent_required
def ticket_fields_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Status, priority, assignee, team and tags, from the side panel."""
    agent = current_agent(request)
    ticket = _access(agent, ticket_id)
    agents = list(agent_list())
    teams = list(team_list())
    form = TicketFieldsForm(request.POST, agents=agents, teams=teams)
    error = ""
    status = 200
    if not form.is_valid():
        error, status = _first_error(form), 422
    else:
        by_id = {a.pk: a for a in agents}
        teams_by_id = {t.pk: t for t in teams}
        data = form.cleaned_data
        touched = form.touched()
        try:
            ticket_update(
                ticket=ticket,
                actor=agent,
                status=data["status"] if "status" in touched else UNSET,
                priority=data["priority"] if "priority" in touched else UNSET,
                assignee=by_id.get(data["assignee"] or 0) if "assignee" in touched else UNSET,
                team=teams_by_id.get(data["team"] or 0) if "team" in touched else UNSET,
                tags=form.tag_names() if "tags" in touched else UNSET,
            )
        except HelplineError as exc:
            error, status = exc.message, exc.status
    if error:
        ticket = _access(agent, ticket_id)
        context = _ticket_context(request, ticket, fields_error=error)
        template = "web/tickets/_properties.html" if is_htmx(request) else "web/tickets/detail.html"
        return render(request, template, context, status=status)
    return _after_write(request, ticket_id, "web/tickets/_after_fields.html")


def _after_write(request: HttpRequest, ticket_id: int, fragment: str) -> HttpResponse:
    """Answer a successful write: fresh fragments for htmx, a redirect (PRG) otherwise."""
    url = reverse("web:ticket_detail", args=[ticket_id])
    try:
        ticket = access_ticket(actor=current_agent(request), ticket_id=ticket_id)
    except NotFound:
        # The change moved the ticket out of this agent's reach (another team): back to the inbox.
        messages.info(request, f"Ticket #{ticket_id} moved out of your teams.")
        inbox = reverse("web:inbox")
        return htmx_redirect(inbox) if is_htmx(request) else HttpResponseRedirect(inbox)
    if not is_htmx(request):
        return HttpResponseRedirect(url)
    return render(request, fragment, _ticket_context(request, ticket))


@require_GET
@agent_required
def attachment_download(request: HttpRequest, ticket_id: int, attachment_id: int) -> FileResponse:
    ticket = _access(current_agent(request), ticket_id)
    attachment = Attachment.objects.filter(pk=attachment_id, message__ticket_id=ticket.pk).first()
    if attachment is None:
        raise Http404("Attachment not found.")
    # Always a download, never rendered inline: the bytes came from a customer.
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("<int:ticket_id>/", ticket_detail, name="ticket_detail"),
    path("<int:ticket_id>/messages/", ticket_message_add, name="ticket_message_add"),
    path("<int:ticket_id>/fields/", ticket_fields_update, name="ticket_fields_update"),
    path(
        "<int:ticket_id>/attachments/<int:attachment_id>/",
        attachment_download,
        name="attachment_download",
    ),
]
