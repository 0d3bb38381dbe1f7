"""Reads for triage: per message, per ticket, per customer, and reply checks for the composer."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean

from helpline.nlp.reply_checks import ReplyHint, check_reply
from helpline.tickets.choices import Direction
from helpline.tickets.models import Message, Ticket
from helpline.triage import conf
from helpline.triage.models import MessageTriage, TicketTriage


def message_triage_get(*, message_id: int) -> MessageTriage | None:
    return MessageTriage.objects.filter(message_id=message_id).first()


def ticket_triage_get(*, ticket: Ticket) -> TicketTriage | None:
    return TicketTriage.objects.filter(ticket_id=ticket.pk).first()


def message_triages_for_ticket(*, ticket: Ticket) -> dict[int, MessageTriage]:
    """message id -> triage, for rendering badges beside each message in one query."""
    return {t.message_id: t for t in MessageTriage.objects.filter(ticket_id=ticket.pk)}


@dataclass(frozen=True)
class CustomerTrend:
    recent: float | None  # mean sentiment of the last 10 triaged messages
    earlier: float | None  # mean of the 10 before those
    messages: int

    @property
    def change(self) -> float | None:
        if self.recent is None or self.earlier is None:
            return None
        return round(self.recent - self.earlier, 3)


def customer_sentiment_trend(*, customer_id: int) -> CustomerTrend:
    """Two queries: the last 20 scores (means taken here) and how many there are in all."""
    qs = MessageTriage.objects.filter(ticket__customer_id=customer_id)
    scores = list(
        qs.order_by("-created_at", "-id").values_list("sentiment_score", flat=True)[:20]
    )
    recent = fmean(scores[:10]) if scores else None
    earlier = fmean(scores[10:]) if len(scores) > 10 else None
    return CustomerTrend(
        recent=round(recent, 3) if recent is not None else None,
        earlier=round(earlier, 3) if earlier is not None else None,
        messages=len(scores) if len(scores) < 20 else qs.count(),
    )


@dataclass(frozen=True)
class ReplyReview:
    hints: list[ReplyHint]
    blocked: bool  # an admin made one of the hints found blocking (HELPLINE_TRIAGE_BLOCKING_CHECKS)


def reply_review(*, ticket: Ticket, body: str) -> ReplyReview:
    """Checks of a draft reply against the customer's latest message on ``ticket``."""
    config = conf.load()
    last = (
        Message.objects.filter(ticket_id=ticket.pk, direction=Direction.INBOUND)
        .order_by("-created_at", "-id")
        .first()
    )
    triage = MessageTriage.objects.filter(message=last).first() if last else None
    language = triage.language if triage else "en"
    hints = check_reply(
        body,
        customer_message=last.body_text if last else "",
        customer_sentiment=triage.sentiment if triage else "neutral",
        jargon=config.jargon,
        language=language,
    )
    blocked = any(h.code in config.blocking_checks for h in hints)
    return ReplyReview(hints=hints, blocked=blocked)
