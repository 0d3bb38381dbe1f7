"""Triage through the real ticket services: open a ticket, receive messages, correct, retrain."""

from __future__ import annotations

import pytest

from helpline.core.errors import NotFound, ValidationError
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.choices import Priority
from helpline.tickets.models import Message, Ticket, TicketEvent
from helpline.tickets.services import message_receive, ticket_update
from helpline.tickets.tests.factories import make_ticket
from helpline.triage import model_store, services
from helpline.triage.models import (
    IntentModelVersion,
    MessageTriage,
    PiiVault,
    TicketTriage,
    TriageCorrection,
)
from helpline.triage.selectors import customer_sentiment_trend, reply_review
from helpline.triage.vault import unseal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    model_store.forget()
    yield
    model_store.forget()


def first_message(ticket: Ticket) -> Message:
    message = ticket.messages.order_by("id").first()
    assert message is not None
    return message


def test_opening_a_ticket_triages_its_first_message():
    ticket = make_ticket(
        subject="Refund",
        body_text="I returned the kettle three weeks ago and still have no refund. "
        "Where is my money?",
    )
    triage = MessageTriage.objects.get(message=first_message(ticket))
    assert triage.intent == "refund_request"
    assert triage.language == "en"
    assert triage.sentiment in ("negative", "very_negative")
    assert triage.reasons["intent"]["because"], "an agent can see which words decided the intent"
    assert 0 < triage.intent_confidence <= 1
    ticket_triage = TicketTriage.objects.get(ticket=ticket)
    assert ticket_triage.intent == "refund_request"
    assert ticket_triage.message_count == 1


def test_every_inbound_message_is_triaged_and_the_trend_follows(settings):
    ticket = make_ticket(subject="Order", body_text="Hello, when will my order ship? Thanks!")
    message_receive(
        ticket=ticket,
        body_text="This is the THIRD time I write. STILL NO ORDER!!! Absolutely unacceptable.",
    )
    rows = list(MessageTriage.objects.filter(ticket=ticket).order_by("id"))
    assert len(rows) == 2
    assert rows[1].sentiment == "very_negative"
    assert rows[1].sentiment_score < rows[0].sentiment_score
    ticket_triage = TicketTriage.objects.get(ticket=ticket)
    assert ticket_triage.sentiment_trend < 0
    assert len(ticket_triage.sentiment_history) == 2
    reasons = " ".join(rows[1].reasons["sentiment"]["because"])
    assert "repeat contact" in reasons and "all caps" in reasons


def test_triage_is_idempotent():
    ticket = make_ticket(body_text="The app crashes when I open settings.")
    message = first_message(ticket)
    again = services.message_triage(message_id=message.pk)
    assert again is not None
    assert MessageTriage.objects.filter(message=message).count() == 1


def test_outbound_messages_are_not_triaged(agent):
    from helpline.tickets.services import reply_add

    ticket = make_ticket()
    reply = reply_add(ticket=ticket, author=agent, body_text="We are on it, sorry for the trouble.")
    assert services.message_triage(message_id=reply.pk) is None
    assert not MessageTriage.objects.filter(message=reply).exists()


def test_suggest_mode_leaves_priority_alone(settings):
    settings.TRIAGE_PRIORITY = "suggest"
    ticket = make_ticket(
        subject="SITE DOWN", body_text="Your whole site is down, we cannot take orders!"
    )
    ticket.refresh_from_db()
    assert ticket.priority == Priority.NORMAL
    assert TicketTriage.objects.get(ticket=ticket).suggested_priority == "urgent"


def test_set_mode_raises_priority_through_ticket_update(settings):
    settings.TRIAGE_PRIORITY = "set"
    ticket = make_ticket(
        subject="SITE DOWN", body_text="Your whole site is down, we cannot take orders!"
    )
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT
    event = TicketEvent.objects.get(ticket=ticket, kind="priority")
    assert event.actor is None and event.data == {"from": "normal", "to": "urgent"}
    assert TicketTriage.objects.get(ticket=ticket).priority_applied


def test_set_mode_never_overrides_an_agent_and_never_lowers(settings, agent):
    settings.TRIAGE_PRIORITY = "set"
    ticket = make_ticket(
        subject="Question", body_text="How do I add a user?", priority=Priority.HIGH
    )
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH  # low urgency does not lower it
    ticket = ticket_update(ticket=ticket, actor=agent, priority=Priority.LOW)
    message_receive(ticket=ticket, body_text="Everything is down!!! Outage since 9am, urgent!")
    ticket.refresh_from_db()
    assert ticket.priority == Priority.LOW  # the agent's choice stands


def test_card_numbers_are_masked_on_arrival_and_the_original_kept_encrypted(settings):
    settings.TRIAGE_PII = "encrypt"
    body = "Please charge my card 4111 1111 1111 1111 instead, cvv 123. My password is Hunter2024"
    ticket = make_ticket(subject="Payment", body_text=body)
    message = first_message(ticket)
    assert "4111 1111 1111 1111" not in message.body_text
    assert "[card •••• 1111]" in message.body_text
    assert "Hunter2024" not in message.body_text
    assert "123" not in message.body_text
    vault = PiiVault.objects.get(message=message)
    assert sorted(vault.kinds) == ["card", "cvv", "password"]
    assert b"4111" not in bytes(vault.ciphertext)
    assert unseal(vault.ciphertext)["body_text"] == body


def test_pii_drop_mode_keeps_no_original(settings):
    settings.TRIAGE_PII = "drop"
    ticket = make_ticket(body_text="card 4111-1111-1111-1111 please")
    assert "[card •••• 1111]" in first_message(ticket).body_text
    assert not PiiVault.objects.exists()


def test_numbers_that_fail_luhn_are_not_masked(settings):
    settings.TRIAGE_PII = "encrypt"
    ticket = make_ticket(body_text="My order number is 4111 1111 1111 1112.")
    assert "4111 1111 1111 1112" in first_message(ticket).body_text


def test_pii_original_is_for_supervisors_only(settings, agent, supervisor):
    settings.TRIAGE_PII = "encrypt"
    ticket = make_ticket(body_text="IBAN DE89 3704 0044 0532 0130 00 for the refund")
    message = first_message(ticket)
    with pytest.raises(ValidationError):
        services.pii_original(actor=agent, message_id=message.pk)
    assert (
        "DE89 3704" in services.pii_original(actor=supervisor, message_id=message.pk)["body_text"]
    )


def test_wants_human_for_hacked_account():
    ticket = make_ticket(
        subject="Hacked", body_text="Someone hacked my account and placed orders. Not me!"
    )
    triage = MessageTriage.objects.get(message=first_message(ticket))
    assert triage.wants_human
    assert triage.urgency == "urgent"
    assert TicketTriage.objects.get(ticket=ticket).wants_human


def test_correction_is_recorded_and_kept_on_retriage(agent):
    ticket = make_ticket(subject="Hi", body_text="The thing with the box from last week.")
    message = first_message(ticket)
    triage = services.triage_correct(
        actor=agent, message_id=message.pk, field="intent", value="damaged_or_wrong_item"
    )
    assert triage.intent == "damaged_or_wrong_item"
    assert triage.corrected == ["intent"]
    correction = TriageCorrection.objects.get(triage=triage)
    assert correction.actor == agent and correction.new_value == "damaged_or_wrong_item"
    services.message_triage(message_id=message.pk, force=True)
    triage.refresh_from_db()
    assert triage.intent == "damaged_or_wrong_item"


def test_correction_validates_field_and_value(agent):
    ticket = make_ticket()
    message = first_message(ticket)
    with pytest.raises(ValidationError):
        services.triage_correct(actor=agent, message_id=message.pk, field="intent", value="nope")
    with pytest.raises(ValidationError):
        services.triage_correct(actor=agent, message_id=message.pk, field="subject", value="x")
    with pytest.raises(NotFound):
        services.triage_correct(actor=agent, message_id=10**9, field="intent", value="praise")


def test_wants_human_correction(agent):
    ticket = make_ticket(body_text="When does the shop open?")
    message = first_message(ticket)
    triage = services.triage_correct(
        actor=agent, message_id=message.pk, field="wants_human", value="true"
    )
    assert triage.wants_human is True
    assert TicketTriage.objects.get(ticket=ticket).wants_human is True


def test_retrain_learns_the_teams_labels(agent, settings):
    settings.TRIAGE_RETRAIN_MINUTES = 60
    # A desk-specific topic the bootstrap set knows nothing about.
    texts = [
        "The flux capacitor on my Zorblax unit makes noise",
        "Zorblax flux capacitor humming loudly",
        "My Zorblax capacitor is noisy again",
    ]
    for text in texts:
        ticket = make_ticket(subject="Zorblax", body_text=text)
        services.triage_correct(
            actor=agent, message_id=first_message(ticket).pk, field="intent", value="bug_report"
        )
    assert services.intent_model_retrain_due()
    row = services.intent_model_retrain()
    assert row is not None and row.team_examples == 3
    assert not services.intent_model_retrain_due()
    assert services.intent_model_retrain() is None  # nothing new: no second model
    ticket = make_ticket(subject="Zorblax", body_text="zorblax flux capacitor noise")
    triage = MessageTriage.objects.get(message=first_message(ticket))
    assert triage.intent == "bug_report"
    assert triage.model_version.startswith("team-")


def test_tagged_tickets_are_training_data(agent):
    ticket = make_ticket(subject="Quibble", body_text="quibble wobble on the frobnicator")
    ticket_update(ticket=ticket, actor=agent, tags=["product_question"])
    examples, _, tagged = services.team_examples()
    assert tagged == 1
    assert examples[0].intent == "product_question"
    assert "frobnicator" in examples[0].text


def test_retrain_waits_for_the_interval(agent, settings):
    settings.TRIAGE_RETRAIN_MINUTES = 60
    ticket = make_ticket(body_text="x y z")
    services.triage_correct(
        actor=agent, message_id=first_message(ticket).pk, field="intent", value="other"
    )
    assert services.intent_model_retrain() is not None
    ticket = make_ticket(body_text="a b c")
    services.triage_correct(
        actor=agent, message_id=first_message(ticket).pk, field="intent", value="praise"
    )
    assert not services.intent_model_retrain_due()  # new label, but the model is fresh
    assert IntentModelVersion.objects.count() == 1


def test_customer_trend():
    customer = CustomerFactory()
    for text in ["Thanks, all great!", "Fine, thank you", "Love it"] * 4:
        make_ticket(customer=customer, body_text=text)
    for text in ["Terrible, still broken!!!", "Unacceptable, third time I write"] * 5:
        make_ticket(customer=customer, body_text=text)
    trend = customer_sentiment_trend(customer_id=customer.pk)
    assert trend.messages == 22
    assert trend.change is not None and trend.change < 0


def test_reply_review_uses_the_customers_last_message(settings):
    settings.TRIAGE_BLOCKING_CHECKS = "sensitive"
    ticket = make_ticket(
        subject="Angry", body_text="Third time I ask!!! Where is my refund? This is a disgrace."
    )
    review = reply_review(ticket=ticket, body="Your password is Summer2024. Kindly revert.")
    codes = {h.code for h in review.hints}
    assert {"acknowledge", "unanswered", "sensitive", "jargon"} <= codes
    assert review.blocked
    calm = reply_review(
        ticket=ticket, body="I'm sorry for the wait. Your refund was sent today and arrives Friday."
    )
    assert {h.code for h in calm.hints} & {"acknowledge", "unanswered", "sensitive"} == set()
    assert not calm.blocked
