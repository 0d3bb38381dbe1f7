from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpline.nlp.intent import INTENTS, Example, IntentModel, bootstrap_model
from helpline.nlp.language import detect_language
from helpline.nlp.pipeline import MessageIn, analyse
from helpline.nlp.sentiment import LABELS, analyse_sentiment
from helpline.nlp.signals import exclamations, find_signals, shouting


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("My parcel has not arrived and the tracking has not moved since Monday.", "en"),
        ("Meine Bestellung ist noch nicht angekommen.", "de"),
        ("Ma commande n'est toujours pas arrivée.", "fr"),
        ("Mi pedido todavía no ha llegado.", "es"),
        ("Mijn bestelling is nog niet aangekomen.", "nl"),
        ("Il mio ordine non è ancora arrivato.", "it"),
        ("Meu pedido ainda não chegou.", "pt"),
    ],
)
def test_language(text, code):
    assert detect_language(text).code == code


def test_language_of_nothing_is_the_default_with_no_confidence():
    assert detect_language("#1042 !!!", default="de").code == "de"
    assert detect_language("", default="en").confidence == 0.0


def test_signals():
    names = {
        s.name
        for s in find_signals("This is the third time I write, I will cancel my subscription")
    }
    assert {"repeat_contact", "cancel_threat"} <= names
    assert "sarcasm" in {s.name for s in find_signals("Great, another week without my order.")}
    assert "human_request" in {s.name for s in find_signals("Can I talk to a real person?")}
    assert "legal_threat" in {s.name for s in find_signals("Ich schalte meinen Anwalt ein")}
    assert shouting("WHERE IS MY ORDER, THIS TAKES forever") > 0.5
    assert shouting("I called the ATM hotline at IBM") == 0.0
    assert exclamations("what?!!!") == 4


def test_sentiment_orders_calm_polite_and_angry():
    praise = analyse_sentiment("Thank you so much, the support was brilliant!")
    neutral = analyse_sentiment("How do I export my invoices?")
    polite_fault = analyse_sentiment("My order has not arrived yet.")
    angry = analyse_sentiment("THIRD TIME I WRITE!!! STILL NOTHING. Unacceptable.")
    assert praise.label == "positive"
    assert neutral.label == "neutral"
    assert polite_fault.label == "negative"
    assert angry.label == "very_negative"
    assert praise.score > neutral.score > polite_fault.score > angry.score
    assert angry.frustration > polite_fault.frustration > neutral.frustration


def test_sarcasm_turns_positive_words_negative():
    result = analyse_sentiment("Oh great, thanks for nothing. Really loving the wait.")
    assert result.label in ("negative", "very_negative")
    assert any("sarcasm" in r for r in result.reasons)


def test_other_languages_approximately():
    assert analyse_sentiment("Vielen Dank, super Service!", language="de").label == "positive"
    assert analyse_sentiment("C'est inadmissible, je suis furieuse", language="fr").label in (
        "negative",
        "very_negative",
    )


def test_repeat_contact_lowers_sentiment():
    first = analyse_sentiment("Any news on my order?", prior_contacts=0)
    fourth = analyse_sentiment("Any news on my order?", prior_contacts=3)
    assert fourth.score < first.score


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_pipeline_total_on_any_text(text):
    result = analyse(MessageIn(subject="", body=text))
    out = result.interface_dict()
    assert out["intent"] in INTENTS
    assert out["sentiment"] in LABELS
    assert out["urgency"] in ("low", "normal", "high", "urgent")
    assert isinstance(out["wants_human"], bool)
    assert 0.0 <= result.intent.confidence <= 1.0
    assert -1.0 <= result.sentiment.score <= 1.0


def test_intent_model_learns_and_round_trips_through_json():
    examples = [
        Example("the blue widget squeaks", "bug_report"),
        Example("widget squeaking again", "bug_report"),
        Example("how much is the widget", "pricing_question"),
        Example("widget price list please", "pricing_question"),
    ]
    model = IntentModel.train(examples, version="t")
    assert model.predict("my widget squeaks").intent == "bug_report"
    assert model.predict("price of a widget").intent == "pricing_question"
    again = IntentModel.from_json(model.to_json())
    assert again.predict("my widget squeaks") == model.predict("my widget squeaks")
    assert again.version == "t" and again.trained_on == 4


def test_bootstrap_model_explains_itself():
    prediction = bootstrap_model().predict("I would like a refund for my order")
    assert prediction.intent == "refund_request"
    assert prediction.reasons
    assert prediction.ranked[0][0] == "refund_request"
    assert prediction.confidence == prediction.ranked[0][1]


def test_urgency_and_wants_human_from_signals():
    hacked = analyse(MessageIn(subject="", body="My account was hacked, someone changed my email"))
    assert hacked.urgency.level == "urgent" and hacked.human.wants_human
    down = analyse(MessageIn(subject="", body="Your website is down, nothing loads"))
    assert down.urgency.level == "urgent"
    vip = analyse(MessageIn(subject="", body="My card was declined", customer_tier="vip"))
    plain = analyse(MessageIn(subject="", body="My card was declined"))
    assert vip.urgency.points == plain.urgency.points + 1
    praise = analyse(MessageIn(subject="", body="Thanks, great service!"))
    assert praise.urgency.level == "low" and not praise.human.wants_human
    bereaved = analyse(
        MessageIn(subject="", body="My mother passed away, please close her account")
    )
    assert bereaved.human.wants_human


def test_pii_is_masked_before_analysis_so_reasons_never_quote_it():
    result = analyse(MessageIn(subject="", body="password: hunter2hunter2 card 4111111111111111"))
    assert "hunter2" not in repr(result.reasons())
    assert "4111111111111111" not in repr(result.reasons())
    assert {f.kind for f in result.pii} == {"password", "card"}
