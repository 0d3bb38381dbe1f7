"""Email administration in the agent UI: mailboxes and their acknowledgement template, the
quarantine (with reprocess), the spam view (release or block), and a message's original."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpline.accounts.models import User
from helpline.connectors.email import selectors, services
from helpline.connectors.email.choices import InboundStatus, NonParticipantPolicy
from helpline.connectors.email.models import InboundEmail, Mailbox
from helpline.connectors.email.parsing import EmailParseError, parse_email
from helpline.core.errors import HelplineError
from helpline.core.html import sanitize_html
from helpline.tickets.models import Message
from helpline.tickets.permissions import access_ticket
from helpline.web.views.common import agent_required, current_agent

LIST_LIMIT = 200


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise PermissionDenied("Only admins manage email.")


class MailboxAddForm(forms.Form):
    address = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=200, required=False)
    imap_url = forms.CharField(
        max_length=8000, required=False, help_text="imaps://user:password@host:993/INBOX"
    )
    smtp_url = forms.CharField(max_length=1000, required=False)


class MailboxEditForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    imap_url = forms.CharField(
        max_length=8000, required=False, help_text="Leave empty to keep the stored one."
    )
    smtp_url = forms.CharField(
        max_length=1000,
        required=False,
        help_text="This mailbox's own outbound relay. Leave empty to keep the stored one.",
    )
    smtp_url_clear = forms.BooleanField(
        required=False, label="Send through the install's relay (forget this mailbox's own)"
    )
    is_active = forms.BooleanField(required=False)
    reply_target_hours = forms.IntegerField(min_value=1, max_value=720)
    non_participant_policy = forms.ChoiceField(choices=NonParticipantPolicy.choices)
    ack_enabled = forms.BooleanField(required=False)
    ack_subject = forms.CharField(max_length=255)
    ack_body = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), max_length=20000)


def _mailbox(pk: int) -> Mailbox:
    mailbox = Mailbox.objects.filter(pk=pk).first()
    if mailbox is None:
        raise Http404("No such mailbox.")
    return mailbox


def _inbound(pk: int) -> InboundEmail:
    row = InboundEmail.objects.filter(pk=pk).first()
    if row is None:
        raise Http404("No such message.")
    return row


@require_http_methods(["GET", "POST"])
@agent_required
def mailbox_list(request: HttpRequest) -> HttpResponse:
    _require_admin(current_agent(request))
    form = MailboxAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = services.mailbox_create(**form.cleaned_data)
        except HelplineError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Mailbox {mailbox.address} added.")
            return HttpResponseRedirect(reverse("web:email_mailbox", args=[mailbox.pk]))
    counts = {
        status: InboundEmail.objects.filter(status=status).count()
        for status in (InboundStatus.QUARANTINED, InboundStatus.SPAM, InboundStatus.RECEIVED)
    }
    return render(
        request,
        "web/email/mailboxes.html",
        {"mailboxes": selectors.mailbox_list(), "form": form, "counts": counts},
        status=422 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@agent_required
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(current_agent(request))
    mailbox = _mailbox(pk)
    # Credentials never go back to the browser: the URL fields start empty and keep the stored
    # value unless a new one is typed.
    secrets = {"imap_url", "smtp_url", "smtp_url_clear"}
    initial = {f: getattr(mailbox, f) for f in MailboxEditForm.base_fields if f not in secrets}
    form = MailboxEditForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        if not changes["imap_url"]:
            changes.pop("imap_url")
        if changes.pop("smtp_url_clear"):
            changes["smtp_url"] = ""
        elif not changes["smtp_url"]:
            changes.pop("smtp_url")
        try:
            services.mailbox_update(mailbox=mailbox, **changes)
        except HelplineError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Mailbox saved.")
            return HttpResponseRedirect(reverse("web:email_mailbox", args=[mailbox.pk]))
    if request.method == "GET":
        preview = _ack_preview(mailbox)
    return render(
        request,
        "web/email/mailbox.html",
        {"mailbox": mailbox, "form": form, "preview": preview},
        status=422 if request.method == "POST" else 200,
    )


def _ack_preview(mailbox: Mailbox) -> dict[str, str] | None:
    """The acknowledgement as the last customer on this mailbox would get it."""
    row = (
        InboundEmail.objects.filter(mailbox=mailbox, ticket__isnull=False)
        .select_related("ticket__customer")
        .order_by("-id")
        .first()
    )
    if row is None or row.ticket is None:
        return None
    subject, body = services.ack_render(
        mailbox=mailbox, ticket=row.ticket, customer=row.ticket.customer
    )
    return {"subject": subject, "body": body}


@require_POST
@agent_required
def mailbox_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(current_agent(request))
    mailbox = _mailbox(pk)
    services.mailbox_delete(mailbox=mailbox)
    messages.success(request, f"Mailbox {mailbox.address} deleted.")
    return HttpResponseRedirect(reverse("web:email_mailboxes"))


@require_GET
@agent_required
def quarantine(request: HttpRequest) -> HttpResponse:
    _require_admin(current_agent(request))
    rows = selectors.quarantine_list()[:LIST_LIMIT]
    return render(request, "web/email/quarantine.html", {"rows": rows})


@require_GET
@agent_required
def spam(request: HttpRequest) -> HttpResponse:
    _require_admin(current_agent(request))
    rows = selectors.spam_list()[:LIST_LIMIT]
    return render(
        request, "web/email/spam.html", {"rows": rows, "rules": selectors.block_rule_list()}
    )


@require_POST
@agent_required
def reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(current_agent(request))
    row = _inbound(pk)
    was_spam = row.status == InboundStatus.SPAM
    try:
        row = services.inbound_reprocess(inbound=row, allow_spam=was_spam)
    except HelplineError as exc:
        messages.error(request, exc.message)
    else:
        if row.status == InboundStatus.PROCESSED and row.ticket_id:
            messages.success(request, f"Message {row.pk} is now on ticket #{row.ticket_id}.")
        else:
            messages.error(request, f"Message {row.pk}: still {row.get_status_display().lower()}.")
    target = "web:email_spam" if was_spam else "web:email_quarantine"
    return HttpResponseRedirect(reverse(target))


@require_POST
@agent_required
def block_sender(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(current_agent(request))
    row = _inbound(pk)
    try:
        rule = services.block_rule_add(pattern=row.from_address, action="spam")
    except HelplineError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Mail from {rule.pattern} now goes straight to spam.")
    return HttpResponseRedirect(reverse("web:email_spam"))


@require_GET
@agent_required
def raw(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(current_agent(request))
    row = _inbound(pk)
    response = HttpResponse(bytes(row.raw), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="message-{row.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@agent_required
def original(request: HttpRequest, message_id: int) -> HttpResponse:
    """The whole original of an email message (quotes and signature included), made safe."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        raise Http404("No such message.")
    ticket = access_ticket(actor=current_agent(request), ticket_id=message.ticket_id)
    row = InboundEmail.objects.filter(message=message).first()
    html = ""
    text = message.body_text
    if row is not None:
        try:
            parsed = parse_email(bytes(row.raw))
        except EmailParseError:
            parsed = None
        if parsed is not None:
            html = sanitize_html(parsed.html) if parsed.html else ""
            text = parsed.text
    return render(
        request,
        "web/email/original.html",
        {"ticket": ticket, "message": message, "html": html, "text": text},
    )


urlpatterns = [
    path("", mailbox_list, name="email_mailboxes"),
    path("mailboxes/<int:pk>/", mailbox_edit, name="email_mailbox"),
    path("mailboxes/<int:pk>/delete/", mailbox_delete, name="email_mailbox_delete"),
    path("quarantine/", quarantine, name="email_quarantine"),
    path("spam/", spam, name="email_spam"),
    path("inbound/<int:pk>/reprocess/", reprocess, name="email_reprocess"),
    path("inbound/<int:pk>/block/", block_sender, name="email_block_sender"),
    path("inbound/<int:pk>/raw/", raw, name="email_raw"),
    path("messages/<int:message_id>/original/", original, name="email_original"),
]
