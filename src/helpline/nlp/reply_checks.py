"""Checks on an agent's draft reply before it is sent. Hints only: the composer shows them, and
only an admin setting can make one blocking.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from helpline.nlp.pii import find_pii
from helpline.nlp.text import fold, folded_words, sentences, words

# Plain-language suggestions for words customers should not have to decode. Teams extend or
# replace this list through settings (see docs/triage.md).
DEFAULT_JARGON: dict[str, str] = {
    "escalate": "pass to a specialist",
    "escalated": "passed to a specialist",
    "ticket": "request",
    "sla": "response time we promise",
    "rma": "return",
    "ETA": "expected date",
    "utilise": "use",
    "utilize": "use",
    "leverage": "use",
    "facilitate": "help",
    "per our policy": "our rules say",
    "as per": "as in",
    "kindly": "please",
    "revert": "reply",
    "backend": "our systems",
    "cache": "stored copy",
    "propagate": "update everywhere",
    "tier 2": "our specialist team",
    "ascertain": "find out",
    "remediate": "fix",
    "aforementioned": "this",
    "hereby": "",
    "in lieu of": "instead of",
    "prior to": "before",
    "commence": "start",
}

_ACK_RE = re.compile(
    r"\b(sorry|apolog\w*|understand|frustrat\w*|inconvenien\w*|i can see|i realise|i realize"
    r"|thank(s| you) for (your )?(patience|waiting|bearing)|not (good|acceptable|what you expect)"
    r"|entschuldig\w*|tut (mir|uns) leid|bedauer\w*|verstehe|desole\w*|excus\w*|comprends"
    r"|lo siento|lamento\w*|disculp\w*|entiendo|sorry|excuses|begrijp|spiacent\w*|scus\w*"
    r"|capisco|desculp\w*|lamentamos|entendo)\b"
)
_QUESTION_WORDS = re.compile(
    r"^(how|what|when|where|why|which|who|can|could|will|would|is|are|do|does|did|wie|was|wann"
    r"|wo|warum|kann|konnen|comment|quand|ou|pourquoi|est-ce|como|cuando|donde|por que|puedo"
    r"|hoe|wat|wanneer|waar|waarom|kan|come|quando|dove|perche|posso|onde)\b"
)
_SMALL = frozenset(
    [
        "the", "a", "an", "and", "or", "to", "of", "in", "on", "for", "with", "is", "are", "was",
        "be", "i", "you", "we", "my", "your", "our", "it", "this", "that", "can", "could", "will",
        "would", "do", "does", "did", "how", "what", "when", "where", "why", "which", "who",
        "please", "there", "any", "some", "have", "has", "had", "not", "no", "yes", "me", "us",
        "they", "them", "their", "if", "at", "by", "from", "as", "so", "just", "get", "got"
    ]
)


@dataclass(frozen=True)
class ReplyHint:
    code: str  # readability | long_sentence | jargon | acknowledge | unanswered | sensitive
    message: str
    severity: str  # info | warning
    excerpt: str = ""


def syllables(word: str) -> int:
    """A vowel-group count: good enough for a grade level, wrong for some words."""
    w = fold(word)
    groups = re.findall(r"[aeiouy]+", w)
    count = len(groups)
    if w.endswith("e") and count > 1 and not w.endswith(("le", "ee")):
        count -= 1
    return max(1, count)


def grade_level(text: str) -> float:
    """Flesch-Kincaid grade: about the school year needed to read ``text`` comfortably."""
    sents = sentences(text)
    toks = words(text)
    toks = [t for t in toks if not t.isdigit()]
    if not sents or not toks:
        return 0.0
    syl = sum(syllables(t) for t in toks)
    return round(0.39 * len(toks) / len(sents) + 11.8 * syl / len(toks) - 15.59, 1)


def _customer_questions(text: str) -> list[str]:
    found = []
    for s in sentences(text):
        folded = fold(s).strip(" -*•")
        if s.rstrip().endswith("?") or (_QUESTION_WORDS.match(folded) and len(folded) > 12):
            found.append(s)
    return found


def check_reply(
    reply: str,
    *,
    customer_message: str = "",
    customer_sentiment: str = "neutral",
    jargon: Mapping[str, str] | None = None,
    max_grade: float = 9.0,
    max_sentence_words: int = 25,
    language: str = "en",
) -> list[ReplyHint]:
    hints: list[ReplyHint] = []
    if not reply.strip():
        return hints

    if language == "en":
        grade = grade_level(reply)
        if grade > max_grade and len(words(reply)) >= 20:
            hints.append(
                ReplyHint(
                    "readability",
                    f"Reading level is about grade {grade:g}; aim for {max_grade:g} or below: "
                    "shorter sentences and everyday words.",
                    "info",
                )
            )
    for s in sentences(reply):
        n = len(words(s))
        if n > max_sentence_words:
            hints.append(
                ReplyHint(
                    "long_sentence",
                    f"A sentence of {n} words: consider splitting it.",
                    "info",
                    s[:80] + ("…" if len(s) > 80 else ""),
                )
            )

    folded_reply = fold(reply)
    for term, plain in (jargon if jargon is not None else DEFAULT_JARGON).items():
        pattern = r"(?<!\w)" + re.escape(fold(term)) + r"(?!\w)"
        if re.search(pattern, folded_reply):
            suggestion = f"try “{plain}”" if plain else "you can leave it out"
            hints.append(
                ReplyHint("jargon", f"“{term}” may be unclear: {suggestion}.", "info", term)
            )

    if customer_sentiment in ("negative", "very_negative") and not _ACK_RE.search(folded_reply):
        hints.append(
            ReplyHint(
                "acknowledge",
                "The customer is upset and the reply does not acknowledge it: "
                "a short apology or “I understand” first helps.",
                "warning" if customer_sentiment == "very_negative" else "info",
            )
        )

    if customer_message:
        reply_words = {w for w in folded_words(reply) if w not in _SMALL and len(w) > 2}
        reply_stems = {w[:5] for w in reply_words}
        for question in _customer_questions(customer_message)[:5]:
            keys = {w for w in folded_words(question) if w not in _SMALL and len(w) > 3}
            if keys and not ({k[:5] for k in keys} & reply_stems):
                hints.append(
                    ReplyHint(
                        "unanswered",
                        "The customer asked something the reply does not seem to address.",
                        "warning",
                        question[:100],
                    )
                )

    for finding in find_pii(reply):
        hints.append(
            ReplyHint(
                "sensitive",
                f"The reply contains what looks like a {finding.kind}; never send it by "
                "email or chat.",
                "warning",
                finding.mask,
            )
        )
    return hints
