"""Tokenising and normalising helpers shared by the analysers."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

WORD_RE = re.compile("[^\\W\\d_]+(?:['\u2019][^\\W\\d_]+)?|\\d+", re.UNICODE)
SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+|\n{2,}|\n(?=[-*•]\s)")
QUOTED_RE = re.compile(r"^\s*(>|On .{5,200} wrote:|Am .{5,200} schrieb|Le .{5,200} a écrit)", re.M)


def fold(word: str) -> str:
    """Lower-case and strip accents, so "Rückerstattung" and "ruckerstattung" meet."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ß", "ss")


def words(text: str) -> list[str]:
    """Word tokens in their original case (letters only or digits only)."""
    return WORD_RE.findall(text)


@lru_cache(maxsize=50_000)
def _fold_word(word: str) -> str:
    return fold(word)


def folded_words(text: str) -> list[str]:
    return [_fold_word(w) for w in WORD_RE.findall(text)]


def sentences(text: str) -> list[str]:
    """Sentences of ``text``: split after . ! ? … and at blank lines; empty pieces dropped."""
    return [s.strip() for s in SENTENCE_RE.split(text) if s and s.strip()]


def strip_quoted(text: str) -> str:
    """Drop the quoted previous conversation at the bottom of an email reply."""
    match = QUOTED_RE.search(text)
    if match and match.start() > 0:
        return text[: match.start()].rstrip()
    return text


def combine(subject: str, body: str) -> str:
    """The text the analysers read: subject and body (quoted history removed)."""
    body = strip_quoted(body or "")
    subject = (subject or "").strip()
    if subject and subject.lower() not in body.lower()[: len(subject) + 20]:
        return f"{subject}.\n{body}" if body else subject
    return body or subject
