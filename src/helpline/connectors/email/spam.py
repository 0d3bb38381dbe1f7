"""A small naive Bayes spam classifier, trained on the SpamAssassin public corpus.

Features are the presence of word tokens from the subject and body and a few structural tokens
(HTML-only, attachment types, sender domain suffix); weights are log-likelihood ratios with
Laplace smoothing, pruned to the most informative tokens so the shipped model stays small
(``data/spam_model.json``, written by ``bench/email_spam.py`` from the training split only).
Headers that reveal where the corpus was collected (Received, Delivered-To) are never used.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from helpline.connectors.email.parsing import ParsedEmail

MODEL_PATH = Path(__file__).resolve().parent / "data" / "spam_model.json"
_WORD = re.compile(r"[a-z0-9$€£%!][a-z0-9$€£%!'\-]{1,24}", re.IGNORECASE)
_MAX_BODY = 20_000


def features(parsed: ParsedEmail) -> set[str]:
    tokens: set[str] = set()
    for word in _WORD.findall(parsed.subject.lower()):
        tokens.add("s:" + word)
    body = parsed.text[:_MAX_BODY].lower()
    tokens.update(_WORD.findall(body))
    if parsed.text_from_html:
        tokens.add("x:html_only")
    if parsed.html:
        tokens.add("x:has_html")
        lowered = parsed.html.lower()
        if "<img" in lowered:
            tokens.add("x:html_img")
        if "<font" in lowered:
            tokens.add("x:html_font")
    if parsed.sender:
        domain = parsed.sender.email.rsplit("@", 1)[-1]
        tokens.add("d:" + domain.rsplit(".", 1)[-1])
        if any(ch.isdigit() for ch in parsed.sender.email.split("@")[0]):
            tokens.add("x:digits_in_sender")
    for item in parsed.attachments:
        tokens.add("a:" + item.content_type)
    if parsed.subject.isupper() and len(parsed.subject) > 8:
        tokens.add("x:subject_caps")
    if "!!" in parsed.subject:
        tokens.add("x:subject_bangs")
    return tokens


@dataclass(frozen=True)
class SpamModel:
    prior: float
    weights: dict[str, float]

    def score(self, tokens: Iterable[str]) -> float:
        """Probability-like score in [0, 1] that the message is spam."""
        total = self.prior + sum(self.weights.get(t, 0.0) for t in set(tokens))
        total = max(-50.0, min(50.0, total))
        return 1.0 / (1.0 + math.exp(-total))

    def to_json(self) -> str:
        return json.dumps(
            {
                "prior": round(self.prior, 4),
                "weights": {k: round(v, 3) for k, v in self.weights.items()},
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )


def train(
    spam: Iterable[set[str]], ham: Iterable[set[str]], *, vocabulary: int = 6000
) -> SpamModel:
    spam_df: Counter[str] = Counter()
    ham_df: Counter[str] = Counter()
    n_spam = n_ham = 0
    for tokens in spam:
        spam_df.update(tokens)
        n_spam += 1
    for tokens in ham:
        ham_df.update(tokens)
        n_ham += 1
    if not n_spam or not n_ham:
        raise ValueError("Training needs both spam and ham examples.")
    weights: dict[str, float] = {}
    for token in set(spam_df) | set(ham_df):
        s, h = spam_df[token], ham_df[token]
        if s + h < 3:
            continue
        weights[token] = math.log((s + 1) / (n_spam + 2)) - math.log((h + 1) / (n_ham + 2))
    # Keep the tokens that move the score most, weighted by how often they occur.
    ranked = sorted(
        weights, key=lambda t: abs(weights[t]) * math.log1p(spam_df[t] + ham_df[t]), reverse=True
    )
    kept = {t: weights[t] for t in ranked[:vocabulary]}
    # Presence-only naive Bayes over-counts correlated tokens; shrink toward a calibrated scale.
    scale = 0.35
    return SpamModel(
        prior=math.log(n_spam / n_ham),
        weights={t: w * scale for t, w in kept.items()},
    )


def load(path: Path = MODEL_PATH) -> SpamModel | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return SpamModel(
        prior=float(data["prior"]), weights={k: float(v) for k, v in data["weights"].items()}
    )


@functools.cache
def shipped_model() -> SpamModel | None:
    return load()


def spam_score(parsed: ParsedEmail) -> float | None:
    model = shipped_model()
    if model is None:
        return None
    return model.score(features(parsed))
