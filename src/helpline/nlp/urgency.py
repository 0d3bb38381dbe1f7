"""Urgency and "wants a human": small, explainable scoring rules over the other results.

Both are additive point systems rather than learned models: every point has a reason an agent
can read, and a team can disagree with one rule without retraining anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpline.nlp.sentiment import SentimentResult

URGENCY_LEVELS = ("low", "normal", "high", "urgent")

# Where each intent starts, in points (normal = 0).
_INTENT_POINTS: dict[str, int] = {
    "outage_report": 4,
    "payment_failed": 2,
    "account_access": 2,
    "praise": -1,
    "feature_request": -1,
    "how_to_question": -1,
    "product_question": -1,
    "pricing_question": -1,
    "other": -1,
}
# Below this the intent is too unsure to move urgency on its own.
MIN_INTENT_CONFIDENCE = 0.3
# Customer tiers (``Customer.attributes["tier"]``) that get a head start.
TIER_POINTS: dict[str, int] = {"vip": 1, "enterprise": 1, "premium": 1, "gold": 1, "platinum": 1}


@dataclass(frozen=True)
class UrgencyResult:
    level: str
    points: int
    confidence: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class HumanResult:
    wants_human: bool
    confidence: float
    reasons: tuple[str, ...]


def score_urgency(
    *,
    intent: str,
    intent_confidence: float,
    sentiment: SentimentResult,
    tier: str = "",
    prior_contacts: int = 0,
) -> UrgencyResult:
    reasons: list[str] = []
    points = 0
    intent_points = _INTENT_POINTS.get(intent, 0)
    if intent_points and intent_confidence >= MIN_INTENT_CONFIDENCE:
        points += intent_points
        reasons.append(f"intent {intent} ({intent_points:+d})")
    names = {s.name: s.evidence for s in sentiment.signals}
    if "urgent_words" in names:
        points += 2
        reasons.append(f"“{names['urgent_words']}” (+2)")
    if "security" in names:
        points += 4
        reasons.append(f"security: “{names['security']}” (+4)")
    if "legal_threat" in names:
        points += 2
        reasons.append(f"legal threat: “{names['legal_threat']}” (+2)")
    if "cancel_threat" in names:
        points += 1
        reasons.append("threatens to cancel (+1)")
    if "repeat_contact" in names or prior_contacts >= 2:
        points += 1
        reasons.append("repeat contact (+1)")
    if sentiment.label == "very_negative":
        points += 1
        reasons.append("very negative (+1)")
    tier_points = TIER_POINTS.get(tier.lower(), 0) if tier else 0
    if tier_points:
        points += tier_points
        reasons.append(f"{tier} customer (+{tier_points})")
    if points <= -1 and sentiment.label in ("negative", "very_negative"):
        # An unhappy customer asking a "simple" question is not low priority.
        points = 0
    if points <= -1:
        level = "low"
    elif points <= 1:
        level = "normal"
    elif points <= 3:
        level = "high"
    else:
        level = "urgent"
    edges = {"low": (-99, -1), "normal": (0, 1), "high": (2, 3), "urgent": (4, 99)}[level]
    margin = min(points - edges[0], edges[1] - points)
    confidence = round(min(0.9, 0.55 + 0.15 * margin), 2)
    return UrgencyResult(level, points, confidence, tuple(reasons))


def score_wants_human(*, intent: str, sentiment: SentimentResult) -> HumanResult:
    """True when the customer asked for a person, or a person should take it anyway."""
    names = {s.name: s.evidence for s in sentiment.signals}
    reasons: list[str] = []
    confidence = 0.0
    if "human_request" in names:
        reasons.append(f"asked for a person: “{names['human_request']}”")
        confidence = max(confidence, 0.9)
    for name, label, conf in (
        ("security", "possible account compromise or fraud", 0.8),
        ("legal_threat", "legal threat", 0.8),
        ("bereavement", "bereavement", 0.85),
        ("formal_complaint", "formal complaint or escalation", 0.75),
    ):
        if name in names:
            reasons.append(f"{label}: “{names[name]}”")
            confidence = max(confidence, conf)
    if not reasons and sentiment.frustration >= 0.9 and sentiment.label == "very_negative":
        reasons.append("very frustrated customer")
        confidence = 0.55
    if reasons:
        return HumanResult(True, round(confidence, 2), tuple(reasons))
    return HumanResult(False, 0.8, ())
