"""``/api/v1/triage``: triage results per message and ticket, one-click corrections, reply
checks for the composer, and an ad-hoc analysis of any text.

Messages and tickets are reached through tickets.permissions, so one the caller may not see
answers exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from helpline.api.auth import actor
from helpline.core.errors import NotFound
from helpline.nlp.pipeline import MessageIn, analyse
from helpline.tickets.models import Message
from helpline.tickets.permissions import access_ticket
from helpline.triage import model_store
from helpline.triage.models import MessageTriage, TicketTriage
from helpline.triage.selectors import message_triages_for_ticket, reply_review
from helpline.triage.services import triage_correct

router = Router(tags=["triage"])


class MessageTriageOut(Schema):
    message_id: int
    ticket_id: int
    language: str
    intent: str
    intent_confidence: float
    sentiment: str
    sentiment_score: float
    frustration: float
    urgency: str
    wants_human: bool
    reasons: dict[str, Any]
    corrected: list[str]
    pii_kinds: list[str]
    model_version: str
    created_at: datetime
    updated_at: datetime


class TicketTriageOut(Schema):
    ticket_id: int
    intent: str
    language: str
    sentiment: str
    sentiment_score: float
    sentiment_trend: float
    sentiment_history: list[float]
    urgency: str
    wants_human: bool
    suggested_priority: str
    priority_applied: bool
    messages: list[MessageTriageOut]


class CorrectionIn(Schema):
    field: Literal["intent", "urgency", "sentiment", "wants_human", "language"]
    value: str = Field(..., min_length=1, max_length=40)


class ReplyCheckIn(Schema):
    body: str = Field(..., max_length=100_000)


class HintOut(Schema):
    code: str
    message: str
    severity: str
    excerpt: str


class ReplyCheckOut(Schema):
    hints: list[HintOut]
    blocked: bool


class AnalyseIn(Schema):
    subject: str = Field("", max_length=255)
    body: str = Field(..., max_length=100_000)
    channel: str = Field("", max_length=10)


class AnalyseOut(Schema):
    language: str
    intent: str
    urgency: str
    sentiment: str
    wants_human: bool
    reasons: dict[str, Any]


def _message_triage(request: HttpRequest, message_id: int) -> MessageTriage:
    user = actor(request)
    message = Message.objects.filter(pk=message_id).only("id", "ticket_id").first()
    if message is None:
        raise NotFound("Message not found.")
    try:
        access_ticket(actor=user, ticket_id=message.ticket_id)
    except NotFound as exc:
        raise NotFound("Message not found.") from exc
    triage = MessageTriage.objects.filter(message_id=message_id).first()
    if triage is None:
        raise NotFound("This message has not been triaged (yet).")
    return triage


@router.get(
    "/messages/{message_id}",
    response=MessageTriageOut,
    summary="Triage of one inbound message",
)
def message_triage_read(request: HttpRequest, message_id: int) -> MessageTriage:
    return _message_triage(request, message_id)


@router.post(
    "/messages/{message_id}/corrections",
    response=MessageTriageOut,
    summary="Correct one triage answer",
    description=(
        "Sets the field to the agent's value (kept on re-triage) and records the correction "
        "as training data for the intent model. wants_human takes 'true' or 'false'."
    ),
)
def message_triage_correct(
    request: HttpRequest, message_id: int, payload: CorrectionIn
) -> MessageTriage:
    _message_triage(request, message_id)
    return triage_correct(
        actor=actor(request), message_id=message_id, field=payload.field, value=payload.value
    )


@router.get(
    "/tickets/{ticket_id}",
    response=TicketTriageOut,
    summary="Triage of a ticket: latest answers, sentiment trend, suggested priority",
)
def ticket_triage_read(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    ticket = access_ticket(actor=actor(request), ticket_id=ticket_id)
    row = TicketTriage.objects.filter(ticket_id=ticket.pk).first()
    if row is None:
        raise NotFound("This ticket has not been triaged (yet).")
    messages = sorted(
        message_triages_for_ticket(ticket=ticket).values(), key=lambda t: (t.created_at, t.pk)
    )
    return {
        "ticket_id": ticket.pk,
        "intent": row.intent,
        "language": row.language,
        "sentiment": row.sentiment,
        "sentiment_score": row.sentiment_score,
        "sentiment_trend": row.sentiment_trend,
        "sentiment_history": row.sentiment_history,
        "urgency": row.urgency,
        "wants_human": row.wants_human,
        "suggested_priority": row.suggested_priority,
        "priority_applied": row.priority_applied,
        "messages": messages,
    }


@router.post(
    "/tickets/{ticket_id}/reply-check",
    response=ReplyCheckOut,
    summary="Check a draft reply (readability, jargon, empathy, unanswered questions, secrets)",
)
def ticket_reply_check(request: HttpRequest, ticket_id: int, payload: ReplyCheckIn) -> Any:
    ticket = access_ticket(actor=actor(request), ticket_id=ticket_id)
    return reply_review(ticket=ticket, body=payload.body)


@router.post(
    "/analyse",
    response=AnalyseOut,
    summary="Triage any text with the desk's current model (nothing is stored)",
)
def analyse_text(request: HttpRequest, payload: AnalyseIn) -> dict[str, Any]:
    actor(request)
    result = analyse(
        MessageIn(subject=payload.subject, body=payload.body, channel=payload.channel),
        model=model_store.active_model(),
    )
    return result.interface_dict() | {"reasons": result.reasons()}
