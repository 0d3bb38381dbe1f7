"""The whole triage of one inbound message, as one pure function.

``analyse`` is what the triage service stores for every inbound message and what
``helpline triage --jsonl`` prints; it takes the intent model as an argument so the service can
pass the team's retrained model and the CLI the bootstrap one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from helpline.nlp.intent import IntentModel, IntentPrediction, bootstrap_model
from helpline.nlp.language import LanguageResult, detect_language
from helpline.nlp.pii import PiiFinding, mask_pii
from helpline.nlp.sentiment import SentimentResult, analyse_sentiment
from helpline.nlp.text import combine
from helpline.nlp.urgency import HumanResult, UrgencyResult, score_urgency, score_wants_human


@dataclass(frozen=True)
class MessageIn:
    subject: str
    body: str
    channel: str = ""
    prior_contacts: int = 0  # earlier inbound messages on the same ticket
    customer_tier: str = ""
    language_hint: str = ""  # e.g. the customer's stored language, used for very short texts


@dataclass(frozen=True)
class TriageResult:
    language: LanguageResult
    intent: IntentPrediction
    sentiment: SentimentResult
    urgency: UrgencyResult
    human: HumanResult
    pii: tuple[PiiFinding, ...] = field(default_factory=tuple)
    model_version: str = ""

    def interface_dict(self) -> dict[str, Any]:
        """The fields of the CLI's documented output line (without ``id``)."""
        return {
            "language": self.language.code,
            "intent": self.intent.intent,
            "urgency": self.urgency.level,
            "sentiment": self.sentiment.label,
            "wants_human": self.human.wants_human,
        }

    def reasons(self) -> dict[str, Any]:
        """Everything an agent may want to see to understand the result (JSON-ready)."""
        return {
            "language": {"confidence": self.language.confidence},
            "intent": {
                "confidence": self.intent.confidence,
                "because": list(self.intent.reasons),
                "alternatives": [list(x) for x in self.intent.ranked[1:]],
            },
            "sentiment": {
                "score": self.sentiment.score,
                "frustration": self.sentiment.frustration,
                "confidence": self.sentiment.confidence,
                "because": list(self.sentiment.reasons),
            },
            "urgency": {
                "points": self.urgency.points,
                "confidence": self.urgency.confidence,
                "because": list(self.urgency.reasons),
            },
            "wants_human": {
                "confidence": self.human.confidence,
                "because": list(self.human.reasons),
            },
            "pii": [asdict(f) | {"text": None} for f in self.pii],
        }


def analyse(message: MessageIn, *, model: IntentModel | None = None) -> TriageResult:
    model = model or bootstrap_model()
    text = combine(message.subject, message.body)
    # Secrets are masked before anything else reads the text: reasons never quote them.
    masked, findings = mask_pii(text)
    language = detect_language(masked, default=message.language_hint or "en")
    if language.confidence < 0.3 and message.language_hint:
        language = LanguageResult(message.language_hint, language.confidence)
    intent = model.predict(masked)
    sentiment = analyse_sentiment(
        masked, language=language.code, prior_contacts=message.prior_contacts
    )
    urgency = score_urgency(
        intent=intent.intent,
        intent_confidence=intent.confidence,
        sentiment=sentiment,
        tier=message.customer_tier,
        prior_contacts=message.prior_contacts,
    )
    human = score_wants_human(intent=intent.intent, sentiment=sentiment)
    return TriageResult(
        language=language,
        intent=intent,
        sentiment=sentiment,
        urgency=urgency,
        human=human,
        pii=tuple(findings),
        model_version=model.version,
    )
