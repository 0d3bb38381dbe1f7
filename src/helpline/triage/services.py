"""Writes for triage: mask secrets on arrival, triage a message, apply or suggest priority,
record agents' corrections, retrain the intent model."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce

from helpline.accounts.models import User
from helpline.core import clock
from helpline.core.errors import Conflict, ValidationError
from helpline.nlp.intent import INTENTS, Example, IntentModel, bootstrap_examples
from helpline.nlp.language import SUPPORTED
from helpline.nlp.pii import mask_pii
from helpline.nlp.pipeline import MessageIn, TriageResult, analyse
from helpline.tickets.choices import PRIORITY_RANK, Direction, EventKind
from helpline.tickets.models import Message, Ticket, TicketEvent
from helpline.tickets.permissions import access_ticket
from helpline.tickets.services import ticket_update
from helpline.triage import conf, model_store, vault
from helpline.triage.choices import CorrectableField, PiiMode, PriorityMode, Sentiment, Urgency
from helpline.triage.models import (
    IntentModelVersion,
    MessageTriage,
    PiiVault,
    TicketTriage,
    TriageCorrection,
)

logger = logging.getLogger(__name__)

HISTORY = 20  # sentiment scores kept per ticket
MAX_TEAM_EXAMPLES = 20_000


def message_pii_redact(*, message_id: int) -> list[str]:
    """Mask card numbers, IBANs, security codes and passwords in an inbound message, keeping
    the original encrypted (or not at all) per HELPLINE_TRIAGE_PII. Returns the kinds found.

    Idempotent: masked text has nothing left to find. The update is conditional on the body the
    caller read, so a concurrent edit is never overwritten with stale text.
    """
    mode = conf.load().pii_mode
    if mode == PiiMode.OFF:
        return []
    found = list(
        Message.objects.filter(pk=message_id, direction=Direction.INBOUND).only(
            "body_text", "body_html"
        )[:1]
    )
    if not found:
        return []
    return _redact(found[0], mode)


def messages_pii_redact(*, message_ids: Sequence[int]) -> dict[int, list[str]]:
    """``message_pii_redact`` for many messages: one read of their text, a write only for those
    with something to mask. Returns the kinds found per message masked."""
    mode = conf.load().pii_mode
    if mode == PiiMode.OFF or not message_ids:
        return {}
    found: dict[int, list[str]] = {}
    messages = Message.objects.filter(pk__in=list(message_ids), direction=Direction.INBOUND).only(
        "body_text", "body_html"
    )
    for message in messages:
        kinds = _redact(message, mode)
        if kinds:
            found[message.pk] = kinds
    return found


def _redact(message: Message, mode: str) -> list[str]:
    text, text_findings = mask_pii(message.body_text)
    html, html_findings = mask_pii(message.body_html)
    if not text_findings and not html_findings:
        return []
    kinds = sorted({f.kind for f in text_findings + html_findings})
    with transaction.atomic():
        updated = Message.objects.filter(
            pk=message.pk, body_text=message.body_text, body_html=message.body_html
        ).update(body_text=text, body_html=html)
        if updated and mode == PiiMode.ENCRYPT:
            PiiVault.objects.update_or_create(
                message=message,
                defaults={
                    "kinds": kinds,
                    "ciphertext": vault.seal(
                        {"body_text": message.body_text, "body_html": message.body_html}
                    ),
                    "created_at": clock.now(),
                },
            )
    return kinds if updated else []


def pii_original(*, actor: User, message_id: int) -> dict[str, str]:
    """The original text of a masked message, for a supervisor or admin who must see it."""
    if not actor.is_supervisor_or_admin:
        raise ValidationError("Only supervisors and admins may read masked originals.")
    row = PiiVault.objects.select_related("message").filter(message_id=message_id).first()
    if row is None:
        raise ValidationError("Nothing was masked in this message, or the original was dropped.")
    access_ticket(actor=actor, ticket_id=row.message.ticket_id)
    return vault.unseal(row.ciphertext)


def _message_in(message: Message, *, prior: int | None = None) -> MessageIn:
    """What the analysis reads of a message; ``prior`` (the customer's earlier messages on the
    ticket) is counted here unless the caller did."""
    ticket = message.ticket
    if prior is None:
        prior = Message.objects.filter(
            ticket_id=ticket.pk, direction=Direction.INBOUND, created_at__lt=message.created_at
        ).count()
    customer = ticket.customer
    tier = customer.attributes.get("tier", "") if isinstance(customer.attributes, dict) else ""
    first = prior == 0
    return MessageIn(
        subject=ticket.subject if first else "",
        body=message.body_text or message.body_html,
        channel=message.channel,
        prior_contacts=prior,
        customer_tier=str(tier or ""),
        language_hint=customer.language[:2] if customer.language else "",
    )


def message_triage(*, message_id: int, force: bool = False) -> MessageTriage | None:
    """Triage one inbound message and update its ticket's triage; idempotent unless ``force``.

    Returns None for a message that is gone or not inbound.
    """
    message = (
        Message.objects.select_related("ticket", "ticket__customer")
        .filter(pk=message_id, direction=Direction.INBOUND)
        .first()
    )
    if message is None:
        return None
    existing = MessageTriage.objects.filter(message_id=message_id).first()
    if existing is not None and not force:
        return existing
    result = analyse(_message_in(message), model=model_store.active_model())
    now = clock.now()
    values = _values(result)
    with transaction.atomic():
        if existing is None:
            try:
                with transaction.atomic():
                    triage = MessageTriage.objects.create(
                        message=message,
                        ticket_id=message.ticket_id,
                        created_at=now,
                        updated_at=now,
                        **values,
                    )
            except IntegrityError:
                # A concurrent run for the same message won; its result stands.
                return MessageTriage.objects.get(message_id=message_id)
        else:
            # Keep what an agent corrected; refresh the rest.
            for name in existing.corrected:
                values.pop(name, None)
            MessageTriage.objects.filter(pk=existing.pk).update(updated_at=now, **values)
            triage = MessageTriage.objects.get(pk=existing.pk)
        ticket_triage = _ticket_triage_refresh(message.ticket)
    _apply_priority(message.ticket, ticket_triage)
    return triage


def messages_triage(*, message_ids: Sequence[int]) -> list[MessageTriage]:
    """Triage many inbound messages at once (the outbox's batch handler): as ``message_triage``
    for each message not triaged yet, with the messages, their earlier-contact counts, the new
    rows and their tickets' triage read and written a few statements for the whole batch.
    Returns the new rows. Idempotent: a message triaged already (a redelivered event, a
    concurrent run) keeps its triage.
    """
    wanted = sorted(set(message_ids))
    if not wanted:
        return []
    done = set(
        MessageTriage.objects.filter(message_id__in=wanted).values_list("message_id", flat=True)
    )
    earlier = (
        Message.objects.filter(
            ticket_id=OuterRef("ticket_id"),
            direction=Direction.INBOUND,
            created_at__lt=OuterRef("created_at"),
        )
        .order_by()
        .values("ticket_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    messages = list(
        Message.objects.select_related("ticket", "ticket__customer")
        .filter(pk__in=[pk for pk in wanted if pk not in done], direction=Direction.INBOUND)
        .annotate(prior=Coalesce(Subquery(earlier), 0))
        .order_by("created_at", "id")
    )
    if not messages:
        return []
    model = model_store.active_model()
    now = clock.now()
    rows = []
    for message in messages:
        prior: int = message.prior  # annotated above
        result = analyse(_message_in(message, prior=prior), model=model)
        rows.append(
            MessageTriage(
                message=message,
                ticket_id=message.ticket_id,
                created_at=now,
                updated_at=now,
                **_values(result),
            )
        )
    tickets = {message.ticket_id: message.ticket for message in messages}
    with transaction.atomic():
        # A message triaged concurrently keeps the row written first, as message_triage does.
        MessageTriage.objects.bulk_create(rows, ignore_conflicts=True)
        _ticket_triages_refresh(list(tickets))
    if conf.load().priority_mode == PriorityMode.SET:
        for triage in TicketTriage.objects.filter(ticket_id__in=list(tickets)):
            _apply_priority(tickets[triage.ticket_id], triage)
    return rows


def _ticket_triages_refresh(ticket_ids: list[int]) -> None:
    """``_ticket_triage_refresh`` of many tickets: one read of their messages' triage, one
    upsert of their rows."""
    by_ticket: dict[int, list[MessageTriage]] = {}
    for row in MessageTriage.objects.filter(ticket_id__in=ticket_ids).order_by(
        "ticket_id", "created_at", "id"
    ):
        rows = by_ticket.setdefault(row.ticket_id, [])
        if len(rows) < 500:  # as _ticket_triage_refresh reads them
            rows.append(row)
    now = clock.now()
    upserts = [
        TicketTriage(ticket_id=ticket_id, **_ticket_values(rows, now))
        for ticket_id, rows in by_ticket.items()
    ]
    TicketTriage.objects.bulk_create(
        upserts,
        update_conflicts=True,
        unique_fields=["ticket"],
        update_fields=list(_TICKET_FIELDS),
    )


def _values(result: TriageResult) -> dict[str, object]:
    return {
        "language": result.language.code,
        "intent": result.intent.intent,
        "intent_confidence": result.intent.confidence,
        "sentiment": result.sentiment.label,
        "sentiment_score": result.sentiment.score,
        "frustration": result.sentiment.frustration,
        "urgency": result.urgency.level,
        "wants_human": result.human.wants_human,
        "reasons": result.reasons(),
        "model_version": result.model_version[:40],
        "pii_kinds": sorted({f.kind for f in result.pii}),
    }


def _ticket_triage_refresh(ticket: Ticket) -> TicketTriage:
    """Recompute the ticket's row from its messages' triage (cheap: a few rows per ticket)."""
    rows = list(
        MessageTriage.objects.filter(ticket_id=ticket.pk).order_by("created_at", "id")[:500]
    )
    values = _ticket_values(rows, clock.now())
    triage, _ = TicketTriage.objects.update_or_create(ticket=ticket, defaults=values)
    return triage


_TICKET_FIELDS = (
    "intent",
    "language",
    "sentiment",
    "sentiment_score",
    "sentiment_trend",
    "sentiment_history",
    "urgency",
    "wants_human",
    "suggested_priority",
    "message_count",
    "updated_at",
)


def _ticket_values(rows: Sequence[MessageTriage], now: datetime) -> dict[str, Any]:
    """A ticket's triage from its messages' triage rows (oldest first)."""
    latest = rows[-1]
    scores = [r.sentiment_score for r in rows][-HISTORY:]
    earlier = scores[:-1]
    trend = round(scores[-1] - sum(earlier) / len(earlier), 3) if earlier else 0.0
    # The ticket is as urgent as its most urgent open question: the latest message, or an
    # earlier one that was urgent (a hacked account stays urgent when the customer adds "?").
    ranks = [PRIORITY_RANK[r.urgency] for r in rows[-5:]]
    urgency = list(PRIORITY_RANK)[max(ranks)]
    values = {
        "intent": latest.intent,
        "language": latest.language,
        "sentiment": latest.sentiment,
        "sentiment_score": latest.sentiment_score,
        "sentiment_trend": trend,
        "sentiment_history": scores,
        "urgency": urgency,
        "wants_human": any(r.wants_human for r in rows[-5:]),
        "suggested_priority": urgency,
        "message_count": len(rows),
        "updated_at": now,
    }
    return values


def _agent_set_priority(ticket: Ticket) -> bool:
    return TicketEvent.objects.filter(
        ticket_id=ticket.pk, kind=EventKind.PRIORITY, actor__isnull=False
    ).exists()


def _apply_priority(ticket: Ticket, triage: TicketTriage) -> None:
    """HELPLINE_TRIAGE_PRIORITY=set raises the priority to the urgency (never lowers it, never
    over an agent's own choice); ``suggest`` only records the suggestion."""
    if conf.load().priority_mode != PriorityMode.SET:
        return
    wanted = triage.suggested_priority
    for _attempt in range(2):
        ticket.refresh_from_db()
        if PRIORITY_RANK[wanted] <= PRIORITY_RANK[ticket.priority] or _agent_set_priority(ticket):
            return
        try:
            ticket_update(ticket=ticket, actor=None, priority=wanted)
        except Conflict:
            continue  # the status moved under us; read again and retry once
        TicketTriage.objects.filter(pk=triage.pk).update(priority_applied=True)
        return


_VALID: dict[str, frozenset[str]] = {
    CorrectableField.INTENT: frozenset(INTENTS),
    CorrectableField.URGENCY: frozenset(Urgency.values),
    CorrectableField.SENTIMENT: frozenset(Sentiment.values),
    CorrectableField.WANTS_HUMAN: frozenset({"true", "false"}),
    CorrectableField.LANGUAGE: frozenset(SUPPORTED),
}


def triage_correct(*, actor: User, message_id: int, field: str, value: str) -> MessageTriage:
    """An agent's one-click correction of one triage answer; recorded as training data."""
    triage = MessageTriage.objects.select_related("ticket").filter(message_id=message_id).first()
    if triage is None:
        # Same answer for "no triage" and "no such message" and "not yours".
        access_ticket(actor=actor, ticket_id=-1)
        raise AssertionError("unreachable")
    access_ticket(actor=actor, ticket_id=triage.ticket_id)
    if field not in _VALID:
        raise ValidationError(f"Cannot correct {field!r}.", field="field")
    value = str(value).strip().lower()
    if value not in _VALID[field]:
        raise ValidationError(f"{value!r} is not a valid {field}.", field="value")
    current = (
        triage.wants_human if field == CorrectableField.WANTS_HUMAN else getattr(triage, field)
    )
    old = str(current).lower()
    if old == value:
        return triage
    new: object = value == "true" if field == CorrectableField.WANTS_HUMAN else value
    now = clock.now()
    with transaction.atomic():
        corrected = sorted(set(triage.corrected) | {field})
        updates: dict[str, object] = {field: new, "corrected": corrected, "updated_at": now}
        if field == CorrectableField.INTENT:
            updates["intent_confidence"] = 1.0
        MessageTriage.objects.filter(pk=triage.pk).update(**updates)
        TriageCorrection.objects.create(
            triage=triage, field=field, old_value=old, new_value=value, actor=actor, created_at=now
        )
        _ticket_triage_refresh(triage.ticket)
    triage.refresh_from_db()
    return triage


def team_examples(*, limit: int = MAX_TEAM_EXAMPLES) -> tuple[list[Example], int, int]:
    """Training examples from the team's labels: intent corrections (the newest per message)
    and tickets tagged with an intent name (their first inbound message).

    Returns (examples, highest correction id, number of tagged tickets used)."""
    examples: dict[int, Example] = {}
    corrections = (
        TriageCorrection.objects.filter(field=CorrectableField.INTENT)
        .select_related("triage__message", "triage__ticket")
        .order_by("-id")[:limit]
    )
    last_id = 0
    for c in corrections:
        last_id = max(last_id, c.pk)
        message = c.triage.message
        if message.pk in examples:
            continue
        examples[message.pk] = Example(_training_text(message), c.new_value)
    tagged = 0
    ticket_rows = (
        Ticket.objects.filter(tags__name__in=INTENTS)
        .values_list("pk", "tags__name", "subject")
        .order_by("-updated_at")[:limit]
    )
    for ticket_id, tag, subject in ticket_rows:
        first = (
            Message.objects.filter(ticket_id=ticket_id, direction=Direction.INBOUND)
            .order_by("created_at", "id")
            .first()
        )
        if first is None or first.pk in examples:
            continue
        tagged += 1
        examples[first.pk] = Example(f"{subject}.\n{first.body_text}", tag)
    return list(examples.values()), last_id, tagged


def _training_text(message: Message) -> str:
    first = not Message.objects.filter(
        ticket_id=message.ticket_id, direction=Direction.INBOUND, created_at__lt=message.created_at
    ).exists()
    return f"{message.ticket.subject}.\n{message.body_text}" if first else message.body_text


def _label_signature() -> tuple[int, int]:
    max_correction = (
        TriageCorrection.objects.filter(field=CorrectableField.INTENT).aggregate(m=Max("id"))["m"]
        or 0
    )
    return int(max_correction), Ticket.objects.filter(tags__name__in=INTENTS).count()


def intent_model_retrain_due() -> bool:
    """New labels since the last model, and that model older than the retrain interval."""
    latest = IntentModelVersion.objects.order_by("-created_at", "-id").first()
    if latest is not None and clock.now() - latest.created_at < timedelta(
        minutes=conf.load().retrain_minutes
    ):
        return False
    previous = (latest.last_correction_id, latest.labelled_tickets) if latest else (0, 0)
    return _label_signature() != previous


def intent_model_retrain(*, force: bool = False) -> IntentModelVersion | None:
    """Train bootstrap + team examples and store the model when due (or ``force``)."""
    if not force and not intent_model_retrain_due():
        return None
    now = clock.now()
    max_correction, tagged_count = _label_signature()
    team, _, _ = team_examples()
    # Team labels count double: they are this desk's own words for its own topics.
    examples = bootstrap_examples() + team + team
    model = IntentModel.train(examples, version=f"team-{now:%Y%m%d%H%M%S}")
    row = IntentModelVersion.objects.create(
        created_at=now,
        examples=len(examples),
        team_examples=len(team),
        last_correction_id=max_correction,
        labelled_tickets=tagged_count,
        model_json=model.to_json(),
    )
    # Older versions are kept for a while only; the newest five are enough to roll back.
    stale = IntentModelVersion.objects.order_by("-created_at", "-id").values_list("id", flat=True)[
        5:
    ]
    IntentModelVersion.objects.filter(id__in=list(stale)).delete()
    model_store.forget()
    logger.info(
        "intent model retrained on %d examples (%d from the team)", len(examples), len(team)
    )
    return row
