"""Sentiment and frustration of one customer message.

English goes through VADER (its lexicon ships in the ``vaderSentiment`` wheel). Other languages
get a small hand-written lexicon (approximate by design: a few hundred words, negation in a
three-word window). On top, customer-service signals move the score: a polite "still waiting
for my refund, third time I write" is frustrated even though no word in it is rude.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from helpline.nlp.signals import Signal, exclamations, find_signals, shouting
from helpline.nlp.text import fold, folded_words, sentences

LABELS = ("very_negative", "negative", "neutral", "positive")
# Polite requests ("please", "thanks") score mildly positive in VADER; praise scores higher.
POSITIVE_FROM = 0.45

_lock = threading.Lock()
_vader: Any = None


def _analyzer() -> Any:
    global _vader
    if _vader is None:
        with _lock:
            if _vader is None:
                from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
                    SentimentIntensityAnalyzer,
                )

                analyzer = SentimentIntensityAnalyzer()
                analyzer.lexicon.update(_ENGLISH_OVERRIDES)
                _vader = analyzer
    return _vader


# Customer-service English that VADER's general lexicon misses or misreads (it reads
# "unacceptable" as "acceptable", positive).
_ENGLISH_OVERRIDES: dict[str, float] = {
    "unacceptable": -2.8,
    "disgrace": -3.0,
    "disgraceful": -3.0,
    "ridiculous": -2.2,
    "unbelievable": -1.5,
    "useless": -2.5,
    "incompetent": -2.8,
    "shambles": -2.8,
    "appalling": -3.0,
    "outrageous": -2.8,
    "joke": -1.0,
    "rude": -2.2,
    "ignored": -2.0,
    "broken": -1.5,
    "faulty": -1.5,
    "refund": 0.0,
    "please": 0.3,
    "kindly": 0.0,
}


# Valence from -4 (worst) to +4 (best), VADER's scale; keys are accent-folded.
_LEXICON: dict[str, dict[str, float]] = {
    "de": {
        "danke": 0.8,
        "dank": 0.8,
        "super": 2.5,
        "toll": 2.5,
        "prima": 2.0,
        "gut": 1.5,
        "zufrieden": 2.0,
        "perfekt": 3.0,
        "hervorragend": 3.0,
        "klasse": 2.5,
        "freundlich": 2.0,
        "schnell": 1.0,
        "hilfreich": 2.0,
        "begeistert": 3.0,
        "lob": 2.0,
        "liebe": 2.0,
        "schlecht": -2.5,
        "kaputt": -2.0,
        "defekt": -2.0,
        "beschadigt": -2.0,
        "argerlich": -2.5,
        "verargert": -2.5,
        "enttauscht": -2.5,
        "enttauschend": -2.5,
        "frechheit": -3.5,
        "katastrophe": -3.5,
        "unverschamt": -3.5,
        "wutend": -3.0,
        "sauer": -2.5,
        "inakzeptabel": -3.0,
        "schrecklich": -3.0,
        "mist": -2.5,
        "betrug": -3.0,
        "problem": -1.0,
        "fehler": -1.5,
        "leider": -1.0,
        "nie": -1.0,
        "unzufrieden": -2.5,
        "lacherlich": -2.5,
        "zumutung": -3.0,
        "falsch": -1.5,
        "verspatet": -1.5,
        "verspatung": -1.5,
    },
    "fr": {
        "merci": 0.8,
        "super": 2.5,
        "genial": 3.0,
        "parfait": 3.0,
        "excellent": 3.0,
        "bravo": 2.5,
        "content": 2.0,
        "contente": 2.0,
        "satisfait": 2.0,
        "rapide": 1.0,
        "aimable": 2.0,
        "top": 2.5,
        "formidable": 3.0,
        "adore": 3.0,
        "mauvais": -2.5,
        "casse": -2.0,
        "endommage": -2.0,
        "decu": -2.5,
        "decue": -2.5,
        "inadmissible": -3.5,
        "inacceptable": -3.0,
        "scandaleux": -3.5,
        "honteux": -3.0,
        "furieux": -3.5,
        "furieuse": -3.5,
        "enerve": -2.5,
        "agace": -2.0,
        "nul": -3.0,
        "catastrophe": -3.5,
        "arnaque": -3.5,
        "probleme": -1.0,
        "erreur": -1.5,
        "malheureusement": -1.0,
        "jamais": -1.0,
        "insatisfait": -2.5,
        "ridicule": -2.5,
        "retard": -1.5,
        "honte": -3.0,
    },
    "es": {
        "gracias": 0.8,
        "genial": 3.0,
        "perfecto": 3.0,
        "excelente": 3.0,
        "contento": 2.0,
        "contenta": 2.0,
        "encantado": 2.5,
        "encantada": 2.5,
        "rapido": 1.0,
        "amable": 2.0,
        "maravilloso": 3.0,
        "bien": 1.0,
        "buenisimo": 3.0,
        "fantastico": 3.0,
        "malo": -2.5,
        "mala": -2.5,
        "roto": -2.0,
        "rota": -2.0,
        "danado": -2.0,
        "decepcionado": -2.5,
        "decepcionada": -2.5,
        "inaceptable": -3.0,
        "vergonzoso": -3.0,
        "verguenza": -3.0,
        "furioso": -3.5,
        "furiosa": -3.5,
        "harto": -3.0,
        "harta": -3.0,
        "enfadado": -2.5,
        "terrible": -3.0,
        "pesimo": -3.5,
        "estafa": -3.5,
        "problema": -1.0,
        "error": -1.5,
        "lamentablemente": -1.0,
        "nunca": -1.0,
        "indignado": -3.0,
        "ridiculo": -2.5,
        "retraso": -1.5,
    },
    "nl": {
        "bedankt": 0.8,
        "dank": 0.8,
        "super": 2.5,
        "geweldig": 3.0,
        "geweldige": 3.0,
        "perfect": 3.0,
        "uitstekend": 3.0,
        "tevreden": 2.0,
        "blij": 2.0,
        "snel": 1.0,
        "vriendelijk": 2.0,
        "top": 2.5,
        "fijn": 2.0,
        "goed": 1.5,
        "slecht": -2.5,
        "kapot": -2.0,
        "beschadigd": -2.0,
        "teleurgesteld": -2.5,
        "onacceptabel": -3.0,
        "schandalig": -3.5,
        "boos": -3.0,
        "woedend": -3.5,
        "belachelijk": -2.5,
        "waardeloos": -3.5,
        "oplichting": -3.5,
        "probleem": -1.0,
        "fout": -1.5,
        "helaas": -1.0,
        "nooit": -1.0,
        "ontevreden": -2.5,
        "vertraging": -1.5,
    },
    "it": {
        "grazie": 0.8,
        "ottimo": 3.0,
        "perfetto": 3.0,
        "eccellente": 3.0,
        "contento": 2.0,
        "contenta": 2.0,
        "soddisfatto": 2.0,
        "veloce": 1.0,
        "gentile": 2.0,
        "fantastico": 3.0,
        "bravi": 2.5,
        "bene": 1.0,
        "pessimo": -3.5,
        "rotto": -2.0,
        "danneggiato": -2.0,
        "deluso": -2.5,
        "delusa": -2.5,
        "inaccettabile": -3.0,
        "vergognoso": -3.0,
        "vergogna": -3.0,
        "arrabbiato": -3.0,
        "arrabbiata": -3.0,
        "furioso": -3.5,
        "terribile": -3.0,
        "truffa": -3.5,
        "problema": -1.0,
        "errore": -1.5,
        "purtroppo": -1.0,
        "mai": -1.0,
        "ridicolo": -2.5,
        "ritardo": -1.5,
        "stufo": -3.0,
        "stufa": -3.0,
    },
    "pt": {
        "obrigado": 0.8,
        "obrigada": 0.8,
        "otimo": 3.0,
        "perfeito": 3.0,
        "excelente": 3.0,
        "contente": 2.0,
        "satisfeito": 2.0,
        "rapido": 1.0,
        "gentil": 2.0,
        "maravilhoso": 3.0,
        "adorei": 3.0,
        "bom": 1.5,
        "pessimo": -3.5,
        "quebrado": -2.0,
        "danificado": -2.0,
        "decepcionado": -2.5,
        "inaceitavel": -3.0,
        "vergonha": -3.0,
        "absurdo": -3.0,
        "irritado": -2.5,
        "furioso": -3.5,
        "terrivel": -3.0,
        "golpe": -3.0,
        "problema": -1.0,
        "erro": -1.5,
        "infelizmente": -1.0,
        "nunca": -1.0,
        "ridiculo": -2.5,
        "atraso": -1.5,
        "cansado": -2.0,
    },
}
_NEGATORS = frozenset(
    [
        "nicht",
        "kein",
        "keine",
        "keinen",
        "nie",
        "ne",
        "pas",
        "jamais",
        "no",
        "nunca",
        "ni",
        "niet",
        "geen",
        "non",
        "nao",
        "nem",
    ]
)

# Problem vocabulary (every language, folded): a report of a fault is negative even when polite.
_PROBLEM = frozenset(
    [
        "impossible",
        "unavailable",
        "gesperrt",
        "geblokkeerd",
        "bloccato",
        "bloqueada",
        "outage",
        "crashes",
        "broken",
        "damaged",
        "missing",
        "wrong",
        "late",
        "delayed",
        "lost",
        "error",
        "failed",
        "failing",
        "fails",
        "crash",
        "crashes",
        "crashed",
        "stuck",
        "overcharged",
        "declined",
        "refused",
        "cracked",
        "faulty",
        "defective",
        "leaking",
        "useless",
        "kaputt",
        "defekt",
        "beschadigt",
        "fehlt",
        "falsch",
        "verspatet",
        "verloren",
        "fehlgeschlagen",
        "abgelehnt",
        "casse",
        "endommage",
        "manquant",
        "mauvais",
        "retard",
        "perdu",
        "echoue",
        "refuse",
        "bloque",
        "roto",
        "danado",
        "falta",
        "equivocado",
        "retrasado",
        "perdido",
        "fallido",
        "rechazado",
        "bloqueado",
        "kapot",
        "beschadigd",
        "ontbreekt",
        "verkeerd",
        "vertraagd",
        "kwijt",
        "mislukt",
        "geweigerd",
        "rotto",
        "danneggiato",
        "mancante",
        "sbagliato",
        "ritardo",
        "perso",
        "fallito",
        "rifiutato",
        "bloccato",
        "quebrado",
        "danificado",
        "faltando",
        "errado",
        "atrasado",
        "perdido",
        "falhou",
        "recusado",
        "bloqueado",
    ]
)
_PROBLEM_PHRASES = re.compile(
    r"\b(not|never|hasn'?t|haven'?t|didn'?t|doesn'?t|don'?t|isn'?t|won'?t|can'?t|cannot|still not)"
    r" (yet )?(arrived|received|come|work|working|load|loading|open|opening|turn on|charge|"
    r"get in|log ?in|been (delivered|refunded|shipped))\b"
    r"|\b(nicht|nie) (angekommen|geliefert|funktioniert)|\bfunktioniert nicht\b"
    r"|\b(pas|jamais) (recu|arrive|livre)|\bne (marche|fonctionne) (pas|plus)\b"
    r"|\bno (ha llegado|funciona|he recibido)|\b(niet|nooit) (aangekomen|ontvangen)|\bwerkt niet\b"
    r"|\bnon (e arrivato|funziona|ho ricevuto)|\b(nao|ainda nao) (chegou|funciona|recebi)"
    r"|\bne fait rien\b|\bnicht (mehr )?erreichbar\b|\bfecha sozinho\b|\bdoes nothing\b"
    r"|\b(don'?t|doesn'?t|didn'?t) show up\b|\bnothing (at|arrived|came)\b"
    r"|\bstill (have|got) no\b"
    r"|\b(haven'?t|have not|hasn'?t|has not) (yet )?(received|got|gotten|seen|heard)\b"
)


@dataclass(frozen=True)
class SentimentResult:
    score: float  # -1 (very negative) .. +1 (positive), after signals
    label: str  # one of LABELS
    frustration: float  # 0 .. 1
    confidence: float
    reasons: tuple[str, ...] = field(default_factory=tuple)
    signals: tuple[Signal, ...] = field(default_factory=tuple)


def _vader_score(text: str) -> float:
    """VADER per sentence, averaged over the sentences that carry any sentiment.

    Whole-text VADER lets a negator reach across sentences ("Still nothing. Unacceptable."
    comes out positive because "nothing" negates "unacceptable")."""
    analyzer = _analyzer()
    scores = [
        float(analyzer.polarity_scores(s)["compound"]) for s in sentences(text[:5000])[:40]
    ]
    scores = [x for x in scores if x]
    return sum(scores) / len(scores) if scores else 0.0


def _lexicon_score(words: list[str], lexicon: dict[str, float]) -> tuple[float, list[str]]:
    total = 0.0
    hits: list[str] = []
    for i, word in enumerate(words):
        value = lexicon.get(word)
        if value is None:
            continue
        if any(w in _NEGATORS for w in words[max(0, i - 3) : i]):
            value = -0.6 * value
        total += value
        hits.append(word)
    # VADER's normalisation: x / sqrt(x^2 + alpha), alpha=15.
    return total / ((total * total + 15) ** 0.5), hits


def analyse_sentiment(
    text: str, *, language: str = "en", prior_contacts: int = 0
) -> SentimentResult:
    """Score ``text``; ``prior_contacts`` is how many earlier inbound messages the ticket has."""
    reasons: list[str] = []
    words = folded_words(text)
    if language == "en" or language not in _LEXICON:
        compound = _vader_score(text)
        if abs(compound) >= 0.3:
            reasons.append(f"wording {'+' if compound > 0 else ''}{compound:.2f}")
    else:
        compound, hits = _lexicon_score(words, _LEXICON[language])
        # English words slip into every language ("super", "top", "sorry"): VADER sees them too.
        english = _vader_score(text) * 0.5
        compound = max(-1.0, min(1.0, compound + english))
        if hits:
            reasons.append("words: " + ", ".join(hits[:4]))

    score = compound
    frustration = 0.0
    problems = [w for w in words if w in _PROBLEM]
    phrase = _PROBLEM_PHRASES.search(fold(text))
    if phrase:
        problems.append(phrase.group(0))
    if problems:
        # A reported fault is negative even when politely worded; when the wording is already
        # negative it adds little (the lexicon counted the same words).
        score = min(score, 0.0) - 0.25 if score > -0.3 else score - 0.05
        frustration += 0.1
        reasons.append("problem: " + ", ".join(dict.fromkeys(problems[:3])))

    signals = tuple(find_signals(text))
    names = {s.name for s in signals}
    weights = {
        "repeat_contact": (-0.3, 0.35),
        "cancel_threat": (-0.4, 0.4),
        "legal_threat": (-0.4, 0.45),
        "security": (-0.45, 0.3),
        "urgent_words": (-0.2, 0.15),
        "formal_complaint": (-0.35, 0.35),
        "sarcasm": (0.0, 0.3),
        "human_request": (-0.05, 0.15),
    }
    for sig in signals:
        delta, frus = weights.get(sig.name, (0.0, 0.0))
        score += delta
        frustration += frus
        if sig.name in weights:
            reasons.append(f"{sig.name.replace('_', ' ')}: “{sig.evidence}”")
    if "sarcasm" in names and score > -0.3:
        # The positive words were ironic: flip them rather than trust them.
        score = -0.45 - max(0.0, score) * 0.3
    caps = shouting(text)
    if caps >= 0.3:
        score -= 0.2
        frustration += 0.25
        reasons.append(f"all caps ({caps:.0%} of words)")
    bangs = exclamations(text)
    if bangs >= 3 and score < 0.3:
        score -= 0.15
        frustration += 0.15
        reasons.append(f"{'!' * min(bangs, 5)}")
    if prior_contacts >= 2:
        score -= 0.1 * min(prior_contacts - 1, 3)
        frustration += 0.1 * min(prior_contacts, 4)
        reasons.append(f"{prior_contacts} earlier messages on this ticket")
    if fold(text).count("?") >= 3:
        frustration += 0.05

    score = max(-1.0, min(1.0, score))
    frustration = max(0.0, min(1.0, frustration + max(0.0, -score) * 0.4))
    if score <= -0.6 or (frustration >= 0.7 and score < -0.2):
        label = "very_negative"
    elif score <= -0.12:
        label = "negative"
    elif score >= POSITIVE_FROM:
        label = "positive"
    else:
        label = "neutral"
    # Distance from the nearest label boundary, squashed into 0.5..0.95.
    edges = (-0.6, -0.12, POSITIVE_FROM)
    margin = min(abs(score - e) for e in edges)
    confidence = round(min(0.95, 0.5 + margin), 2)
    return SentimentResult(
        score=round(score, 3),
        label=label,
        frustration=round(frustration, 3),
        confidence=confidence,
        reasons=tuple(reasons),
        signals=signals,
    )
