"""Email over the API: ``/api/v1/mailboxes`` (admins), ``POST /api/v1/inbound/email`` (mail
providers' inbound webhooks, signed with a shared secret), and the quarantine and spam views.

The webhook body is the raw RFC 822 message; the signature is
``X-Helpline-Signature: sha256=<hex HMAC-SHA256 of the body with HELPLINE_EMAIL_WEBHOOK_SECRET>``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from helpline.accounts.models import User
from helpline.api.auth import actor, client_ip, throttle
from helpline.connectors.email import selectors, services
from helpline.connectors.email.choices import InboundStatus, Transport
from helpline.connectors.email.conf import email_config
from helpline.connectors.email.models import InboundEmail, Mailbox
from helpline.core.errors import NotFound, PermissionDenied, ValidationError

router = Router(tags=["email"])

SIGNATURE_HEADER = "X-Helpline-Signature"


def _admin(request: HttpRequest) -> User:
    user = actor(request)
    if not user.is_admin:
        raise PermissionDenied("Only admins manage email.")
    return user



IMAP_URL_HELP = (
    "imaps://user:password@host:993/INBOX (imap:// for plain). Options: ?auth=xoauth2 (the "
    "password is an OAuth2 access token), with token_url, client_id, client_secret and "
    "refresh_token so that Helpline gets new access tokens itself (the password may then be "
    "empty), ?starttls (imap:// upgraded to TLS), ?ca_file=/path (trust only this CA), "
    "?tls_verify=no (no certificate check; never on the internet). Stored encrypted, never "
    "returned."
)

class MailboxOut(Schema):
    id: int
    address: str
    name: str
    transport: str
    imap_configured: bool
    smtp_configured: bool
    is_active: bool
    reply_target_hours: int
    non_participant_policy: str
    ack_enabled: bool
    ack_subject: str
    ack_body: str
    imap_polled_at: datetime | None
    imap_error: str

    @staticmethod
    def resolve_imap_configured(obj: Mailbox) -> bool:
        return bool(obj.imap_url)

    @staticmethod
    def resolve_smtp_configured(obj: Mailbox) -> bool:
        return bool(obj.smtp_url)


class MailboxIn(Schema):
    address: str = Field(..., max_length=254)
    name: str = Field("", max_length=200)
    imap_url: str = Field("", max_length=8000, description=IMAP_URL_HELP)
    smtp_url: str = Field("", max_length=1000, description="smtp[s]://user:password@host:port")
    reply_target_hours: int = Field(24, ge=1, le=720)
    non_participant_policy: str = "new_ticket"
    ack_enabled: bool = True


class MailboxPatch(Schema):
    name: str | None = Field(None, max_length=200)
    imap_url: str | None = Field(None, max_length=8000, description=IMAP_URL_HELP)
    smtp_url: str | None = Field(None, max_length=1000)
    is_active: bool | None = None
    reply_target_hours: int | None = Field(None, ge=1, le=720)
    non_participant_policy: str | None = None
    ack_enabled: bool | None = None
    ack_subject: str | None = Field(None, max_length=255)
    ack_body: str | None = Field(None, max_length=20000)


class InboundOut(Schema):
    id: int
    status: str
    transport: str
    mailbox: str | None
    message_id: str = Field(..., alias="rfc_id")
    subject: str
    from_address: str
    noise: str
    spam_score: float | None
    error: str
    attempts: int
    ticket_id: int | None
    size: int
    received_at: datetime
    processed_at: datetime | None

    @staticmethod
    def resolve_mailbox(obj: InboundEmail) -> str | None:
        return obj.mailbox.address if obj.mailbox else None


class InboundListParams(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


def _mailbox(mailbox_id: int) -> Mailbox:
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound("Mailbox not found.")
    return mailbox


def _inbound(inbound_id: int) -> InboundEmail:
    row = InboundEmail.objects.select_related("mailbox").filter(pk=inbound_id).first()
    if row is None:
        raise NotFound("Message not found.")
    return row


@router.get("/mailboxes", response=list[MailboxOut], summary="List mailboxes")
def mailbox_list_view(request: HttpRequest) -> list[Mailbox]:
    _admin(request)
    return list(selectors.mailbox_list())


@router.post("/mailboxes", response={201: MailboxOut}, summary="Add a mailbox")
def mailbox_create_view(request: HttpRequest, payload: MailboxIn) -> Status[Mailbox]:
    _admin(request)
    return Status(201, services.mailbox_create(**payload.dict()))


@router.get("/mailboxes/{mailbox_id}", response=MailboxOut, summary="One mailbox")
def mailbox_get_view(request: HttpRequest, mailbox_id: int) -> Mailbox:
    _admin(request)
    return _mailbox(mailbox_id)


@router.patch("/mailboxes/{mailbox_id}", response=MailboxOut, summary="Change a mailbox")
def mailbox_patch_view(request: HttpRequest, mailbox_id: int, payload: MailboxPatch) -> Mailbox:
    _admin(request)
    changes = payload.dict(exclude_unset=True)
    if any(v is None for v in changes.values()):
        raise ValidationError("Fields cannot be null.")
    return services.mailbox_update(mailbox=_mailbox(mailbox_id), **changes)


@router.delete("/mailboxes/{mailbox_id}", response={204: None}, summary="Delete a mailbox")
def mailbox_delete_view(request: HttpRequest, mailbox_id: int) -> Status[None]:
    _admin(request)
    services.mailbox_delete(mailbox=_mailbox(mailbox_id))
    return Status(204, None)


def _check_signature(request: HttpRequest) -> None:
    secret = email_config().webhook_secret
    if not secret:
        raise HttpError(503, "Inbound email webhook is off: set HELPLINE_EMAIL_WEBHOOK_SECRET.")
    given = request.headers.get(SIGNATURE_HEADER, "")
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.strip().lower(), expected):
        raise HttpError(401, "Bad or missing signature.")


class InboundParams(Schema):
    mailbox: str | None = Field(None, max_length=254, description="Receiving mailbox address.")


class InboundAccepted(Schema):
    id: int
    status: str
    ticket_id: int | None
    duplicate: bool


@router.post(
    "/inbound/email",
    auth=None,
    response={202: InboundAccepted},
    summary="Receive one raw RFC 822 message from a mail provider's webhook",
    openapi_extra={
        "requestBody": {"content": {"message/rfc822": {"schema": {"type": "string"}}}},
    },
)
def inbound_email_view(
    request: HttpRequest, params: Query[InboundParams]
) -> Status[dict[str, object]]:
    throttle(
        "webhook",
        client_ip(request),
        limit=settings.HELPLINE_WEBHOOK_RATE_PER_MINUTE,
        per="address",
    )
    _check_signature(request)
    mailbox = None
    if params.mailbox:
        mailbox = selectors.mailbox_for_address(params.mailbox)
        if mailbox is None:
            raise NotFound("No such mailbox.", field="mailbox")
    row, created = services.inbound_store(
        raw=request.body, transport=Transport.WEBHOOK, mailbox=mailbox
    )
    if row.status == InboundStatus.RECEIVED:
        row = services.inbound_process(inbound=row)
    return Status(
        202,
        {"id": row.pk, "status": row.status, "ticket_id": row.ticket_id, "duplicate": not created},
    )


@router.get("/email/quarantine", response=list[InboundOut], summary="Messages that failed")
def quarantine_view(request: HttpRequest, params: Query[InboundListParams]) -> list[InboundEmail]:
    _admin(request)
    return list(selectors.quarantine_list()[params.offset : params.offset + params.limit])


@router.get("/email/spam", response=list[InboundOut], summary="Messages held as spam")
def spam_view(request: HttpRequest, params: Query[InboundListParams]) -> list[InboundEmail]:
    _admin(request)
    return list(selectors.spam_list()[params.offset : params.offset + params.limit])


@router.post(
    "/email/inbound/{inbound_id}/reprocess",
    response=InboundOut,
    summary="Process a quarantined, ignored or spam message again (spam is let through)",
)
def reprocess_view(request: HttpRequest, inbound_id: int) -> InboundEmail:
    _admin(request)
    row = _inbound(inbound_id)
    return services.inbound_reprocess(inbound=row, allow_spam=row.status == InboundStatus.SPAM)
