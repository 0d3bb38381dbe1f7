"""Intent classification: a Complement Naive Bayes model over words, word pairs and character
n-grams, small enough to train in well under a second and to store as JSON in one DB row.

Why this model: it learns from a few examples per class (the bootstrap set) and keeps learning
from agents' labels without a GPU or a dependency; character n-grams carry it across
inflections and typos in German, French, Spanish, Dutch, Italian and Portuguese. Every
prediction names the features that pushed it, so an agent can see why.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from helpline.nlp.text import folded_words

INTENTS: tuple[str, ...] = (
    "billing_question",
    "refund_request",
    "payment_failed",
    "shipping_delay",
    "damaged_or_wrong_item",
    "return_or_exchange",
    "cancel_subscription",
    "account_access",
    "password_reset",
    "bug_report",
    "how_to_question",
    "product_question",
    "pricing_question",
    "complaint",
    "praise",
    "feature_request",
    "data_privacy_request",
    "outage_report",
    "order_change",
    "other",
)

# Words too common to carry an intent (several languages, folded).
_STOP = frozenset(
    [
        "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "for", "with",
        "from", "by", "is", "are", "was", "were", "be", "been", "am", "i", "me", "my", "we", "our",
        "you", "your", "it", "its", "this", "that", "these", "those", "have", "has", "had", "do",
        "does", "did", "so", "as", "just", "please", "hi", "hello", "hey", "dear", "thanks",
        "thank", "regards", "best", "cheers", "team", "hallo", "guten", "tag", "ich", "mein",
        "meine", "und", "oder", "der", "die", "das", "ein", "eine", "ist", "sind", "bitte", "danke",
        "gruss", "grusse", "mit", "von", "fur", "bonjour", "je", "mon", "ma", "mes", "et", "ou",
        "le", "la", "les", "un", "une", "est", "de", "du", "des", "pour", "avec", "merci",
        "cordialement", "hola", "yo", "mi", "mis", "y", "o", "el", "los", "las", "es", "son", "por",
        "para", "con", "gracias", "saludos", "hoi", "ik", "mijn", "en", "of", "het", "een", "is",
        "zijn", "voor", "met", "groeten", "ciao", "io", "il", "lo", "gli", "e", "sono", "per",
        "con", "grazie", "saluti", "ola", "eu", "meu", "minha", "os", "as", "uma", "sou"
    ]
)


TEMPERATURE = 0.4


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    language: str = ""


@dataclass(frozen=True)
class IntentPrediction:
    intent: str
    confidence: float
    reasons: tuple[str, ...]
    ranked: tuple[tuple[str, float], ...]  # top three (intent, probability)


def features(text: str) -> Counter[str]:
    """Bag of features: folded words, adjacent word pairs and 3-5 character n-grams of words."""
    tokens = [w for w in folded_words(text) if not w.isdigit()]
    content = [w for w in tokens if w not in _STOP]
    feats: Counter[str] = Counter()
    for w in content:
        feats["w:" + w] += 1
        if len(w) >= 3:
            padded = f"<{w}>"
            for n in (3, 4, 5):
                for i in range(len(padded) - n + 1):
                    feats["c:" + padded[i : i + n]] += 1
    for a, b in pairwise(tokens):
        if a in _STOP and b in _STOP:
            continue
        feats[f"b:{a}_{b}"] += 1
    return feats


class IntentModel:
    """Complement Naive Bayes (Rennie et al., 2003) with log-scaled, length-normalised counts."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        weights: npt.NDArray[np.float32],
        classes: Sequence[str],
        *,
        trained_on: int = 0,
        version: str = "",
    ) -> None:
        self.vocabulary = vocabulary  # feature -> row of ``weights``
        self.weights = weights  # (features, classes); lower = more typical of the class
        self.classes = tuple(classes)
        self.trained_on = trained_on
        self.version = version
        # How much less typical of the other classes each feature is: the evidence shown.
        self._evidence = weights.mean(axis=1, keepdims=True) - weights

    @classmethod
    def train(
        cls, examples: Iterable[Example], *, alpha: float = 0.5, version: str = ""
    ) -> IntentModel:
        docs: list[tuple[Counter[str], str]] = []
        for ex in examples:
            feats = features(ex.text)
            if feats:
                docs.append((feats, ex.intent))
        if not docs:
            raise ValueError("no usable training examples")
        classes = sorted({intent for _, intent in docs})
        class_index = {c: i for i, c in enumerate(classes)}
        vocabulary: dict[str, int] = {}
        for feats, _ in docs:
            for f in feats:
                vocabulary.setdefault(f, len(vocabulary))
        counts = np.zeros((len(vocabulary), len(classes)), dtype=np.float64)
        doc_freq = np.zeros(len(vocabulary), dtype=np.float64)
        for feats, intent in docs:
            rows = np.fromiter((vocabulary[f] for f in feats), dtype=np.int64, count=len(feats))
            tf = 1 + np.log(np.fromiter(feats.values(), dtype=np.float64, count=len(feats)))
            counts[rows, class_index[intent]] += tf / np.sqrt((tf * tf).sum())
            doc_freq[rows] += 1
        idf = np.log((1 + len(docs)) / (1 + doc_freq)) + 1
        counts *= idf[:, None]
        complement = counts.sum(axis=1, keepdims=True) - counts
        denom = complement.sum(axis=0, keepdims=True) + alpha * len(vocabulary)
        raw = np.log((complement + alpha) / denom)
        # Weight normalisation (WCNB) keeps classes with many examples from dominating.
        # Scaled to a mean |weight| of 1 so one softmax temperature fits any vocabulary size.
        weights = raw / np.abs(raw).mean(axis=0, keepdims=True)
        return cls(vocabulary, weights.astype(np.float32), classes, trained_on=len(docs),
                   version=version)

    def predict(self, text: str) -> IntentPrediction:
        feats = features(text)
        known = [(self.vocabulary[f], c) for f, c in feats.items() if f in self.vocabulary]
        if not known:
            return IntentPrediction("other", 0.2, ("no known words",), (("other", 0.2),))
        rows = np.array([r for r, _ in known], dtype=np.int64)
        tf = 1 + np.log(np.array([c for _, c in known], dtype=np.float64))
        scores = tf @ self.weights[rows]
        # CNB picks the class whose complement fits worst: the lowest score. A softmax over the
        # negated scores turns gaps into probabilities; TEMPERATURE was fitted by 5-fold
        # cross-validation on the bootstrap set (log loss), see docs/triage.md.
        order = np.argsort(scores)
        temperature = TEMPERATURE
        top = scores[order[:6]]
        exps = np.exp(-(top - top[0]) / temperature)
        probs = exps / exps.sum()
        best = int(order[0])
        evidence = self._evidence[rows, best] * tf
        strongest = np.argsort(-evidence)[:4]
        inverse = self._inverse_vocabulary()
        reasons = tuple(
            dict.fromkeys(_pretty(inverse[int(rows[i])]) for i in strongest if evidence[i] > 0)
        )
        return IntentPrediction(
            intent=self.classes[best],
            confidence=round(float(probs[0]), 3),
            reasons=reasons,
            ranked=tuple(
                (self.classes[int(order[i])], round(float(probs[i]), 3))
                for i in range(min(3, len(probs)))
            ),
        )

    def _inverse_vocabulary(self) -> list[str]:
        inverse = getattr(self, "_inverse", None)
        if inverse is None:
            inverse = [""] * len(self.vocabulary)
            for f, i in self.vocabulary.items():
                inverse[i] = f
            self._inverse: list[str] = inverse
        return inverse

    def to_json(self) -> str:
        """A self-contained JSON document (the DB row and the data-dir file hold this)."""
        return json.dumps(
            {
                "kind": "cnb-2",
                "classes": list(self.classes),
                "trained_on": self.trained_on,
                "version": self.version,
                "features": self._inverse_vocabulary(),
                "weights": base64.b64encode(
                    self.weights.astype("<f4", copy=False).tobytes()
                ).decode("ascii"),
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, data: str) -> IntentModel:
        payload = json.loads(data)
        if payload.get("kind") != "cnb-2":
            raise ValueError("not an intent model")
        classes = list(payload["classes"])
        names = list(payload["features"])
        weights = np.frombuffer(base64.b64decode(payload["weights"]), dtype="<f4").reshape(
            len(names), len(classes)
        ).astype(np.float32)
        return cls(
            {f: i for i, f in enumerate(names)},
            weights,
            classes,
            trained_on=int(payload.get("trained_on", 0)),
            version=str(payload.get("version", "")),
        )


def _pretty(feature: str) -> str:
    kind, _, value = feature.partition(":")
    if kind == "b":
        return "“" + value.replace("_", " ") + "”"
    if kind == "c":
        return "“…" + value.strip("<>") + "…”"
    return "“" + value + "”"


def bootstrap_examples() -> list[Example]:
    """The examples written for Helpline (``nlp/data/intents_bootstrap.jsonl``)."""
    text = resources.files("helpline.nlp").joinpath("data/intents_bootstrap.jsonl").read_text(
        encoding="utf-8"
    )
    examples = []
    for line in text.splitlines():
        if line.strip():
            row = json.loads(line)
            if row["intent"] not in INTENTS:
                raise ValueError(f"unknown intent {row['intent']!r} in bootstrap data")
            examples.append(Example(row["text"], row["intent"], row.get("lang", "")))
    return examples


@lru_cache(maxsize=1)
def bootstrap_model() -> IntentModel:
    """The model trained on the bootstrap set only: what a fresh install and the CLI use."""
    return IntentModel.train(bootstrap_examples(), version="bootstrap")
