"""A small logistic-regression spam classifier, trained on the SpamAssassin public corpus.

Features (``features``) are the presence of tokens: subject and body words, the hosts that links
point to, HTML tags, a few header facts (List-Id/List-Unsubscribe, Precedence, the mailer, a
reply's In-Reply-To/References, Message-ID and Reply-To domains against the sender's), whether
the text speaks as "I/my" or "you/your", and coarse shape buckets (length, capitals, exclamation
marks, link count). Headers that only say where the corpus was collected (Received,
Delivered-To) are never used, nor the sender's top-level domain (a corpus artefact).

The model is a weight per token and a bias, fitted by L2-regularised logistic regression
(``train``, deterministic, numpy) and shipped in the package (``data/spam_model.json``, written
by ``bench/email_spam.py --write-model`` from the training split only). Scoring is a dictionary
lookup per token and one exponential.

The score is on a calibrated scale with two fixed anchors: ``SPAM_SCORE`` (0.95, the default
``HELPLINE_EMAIL_SPAM_THRESHOLD``) is the cut chosen by cross-validation on the training split
for a ham false-positive target, and ``SUSPECT_SCORE`` (0.5) the lower cut of a "suspected"
band: mail that should stay in the inbox with a flag. ``spam_band`` names the band of a score.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from helpline.connectors.email.parsing import ParsedEmail

MODEL_PATH = Path(__file__).resolve().parent / "data" / "spam_model.json"
MODEL_FORMAT = 2
SPAM_SCORE = 0.95
SUSPECT_SCORE = 0.5

_WORD = re.compile(r"[a-z0-9$€£%!][a-z0-9$€£%!'\-]{0,24}", re.IGNORECASE)
_URL_HOST = re.compile(r"(?:https?|ftp)://([a-z0-9.\-]{1,200})", re.IGNORECASE)
_WWW_HOST = re.compile(r"\bwww\.([a-z0-9\-]{1,63}\.[a-z0-9.\-]{2,100})", re.IGNORECASE)
_TAG = re.compile(r"<\s*([a-z][a-z0-9]{0,9})\b", re.IGNORECASE)
_IP_HOST = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_SUBJECT_CODE = re.compile(r"[\s\-_(\[](?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{4,14}[)\]]?\s*$")
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw)\s*:", re.IGNORECASE)
_MAILER_WORD = re.compile(r"[a-z][a-z0-9]*|\d+")
_YEAR = re.compile(r"(?<!\d)(?:19[4-9]\d|20[0-2]\d)(?!\d)")
_FORWARD_PREFIX = re.compile(r"^\s*(fwd?|wg|tr)\s*:", re.IGNORECASE)
_FIRST_PERSON = frozenset(("i", "i'm", "i've", "i'd", "i'll", "my", "me", "myself"))
_SECOND_PERSON = frozenset(("you", "you're", "you'll", "your", "yours", "yourself"))
_LETTER = re.compile(r"[^\W\d_]")
_UPPER = re.compile(r"[A-Z]")
_MAX_BODY = 20_000
_MAX_SHAPE = 4_000
_MAX_HTML = 60_000


def _bucket(value: float) -> int:
    """0, 1, 2, 4, 8, ... : a coarse, log-scale bucket of a non-negative count."""
    return 0 if value < 1 else 1 << int(math.log2(value))


def _site(host: str) -> str:
    host = host.strip(".").lower()
    if _IP_HOST.match(host):
        return "ip"
    parts = host.split(".")
    if len(parts) >= 3 and len(parts[-1]) == 2 and len(parts[-2]) <= 3:
        return ".".join(parts[-3:])  # example.co.uk
    return ".".join(parts[-2:])


def _domain_of(address: str) -> str:
    return _site(address.strip("<> ").rsplit("@", 1)[-1]) if "@" in address else ""


def features(parsed: ParsedEmail) -> set[str]:
    """The set of tokens the classifier sees for one parsed message."""
    tokens: set[str] = set()
    add = tokens.add
    subject = parsed.subject
    for word in _WORD.findall(subject.lower()):
        add("s:" + word)
    letters = [ch for ch in subject if ch.isalpha()]
    if len(letters) > 8 and sum(ch.isupper() for ch in letters) > 0.6 * len(letters):
        add("x:subject_caps")
    if "!!" in subject:
        add("x:subject_bangs")
    if "$" in subject:
        add("x:subject_dollar")
    if not subject.strip():
        add("x:subject_empty")
    if _SUBJECT_CODE.search(subject):
        add("x:subject_code")
    is_reply = bool(parsed.in_reply_to or parsed.references)
    if is_reply:
        add("x:is_reply")
    elif _REPLY_PREFIX.match(subject):
        add("x:re_without_reference")

    raw_text = parsed.text[:_MAX_BODY]
    body = raw_text.lower()
    words = _WORD.findall(body)
    tokens.update(words)
    # Who is speaking: a person writes about "I/my", an advert about "you/your".
    first = sum(w in _FIRST_PERSON for w in words)
    second = sum(w in _SECOND_PERSON for w in words)
    add(f"x:voice_{'i' if first > second else 'you' if second > first else 'even'}")
    if _FORWARD_PREFIX.match(subject):
        add("x:forward")
    add(f"x:len_{_bucket(len(body) / 200)}")
    sample = raw_text[:_MAX_SHAPE]
    body_letters = len(_LETTER.findall(sample))
    if body_letters > 40:
        caps = len(_UPPER.findall(sample)) / body_letters
        add(f"x:caps_{min(4, int(caps * 10))}")
    add(f"x:bangs_{min(8, _bucket(raw_text.count('!')))}")
    add(f"x:dollars_{min(8, _bucket(raw_text.count('$')))}")

    html = parsed.html[:_MAX_HTML]
    hosts = set(_URL_HOST.findall(raw_text)) | set(_WWW_HOST.findall(raw_text))
    if html:
        add("x:html_only" if parsed.text_from_html else "x:html_alternative")
        hosts.update(_URL_HOST.findall(html))
        for tag in {t.lower() for t in _TAG.findall(html)}:
            add("h:" + tag)
        lowered = html.lower()
        add(f"x:img_{min(8, _bucket(lowered.count('<img')))}")
        if "<!--" in lowered:
            add("x:html_comment")
    sites = {_site(h) for h in hosts}
    for site in sites:
        add("u:" + site)
    add(f"x:sites_{min(16, _bucket(len(sites)))}")

    sender = parsed.sender
    sender_domain = ""
    if sender:
        local, _, domain = sender.email.rpartition("@")
        sender_domain = _site(domain)
        # A birth year in an address is a person's habit (bob1962@), a run of digits a
        # generator's (deals4u8731@).
        if sum(ch.isdigit() for ch in _YEAR.sub("", local)) >= 3:
            add("x:digits_in_sender")
        add("x:display_name" if sender.name else "x:no_display_name")
    if (
        parsed.reply_to
        and sender_domain
        and all(_domain_of(a.email) != sender_domain for a in parsed.reply_to)
    ):
        add("x:reply_to_elsewhere")
    if not parsed.to:
        add("x:no_to")
    else:
        add(f"x:to_{min(8, _bucket(len(parsed.to) + len(parsed.cc)))}")
    if not parsed.message_id:
        add("x:no_message_id")
    elif sender_domain:
        same = _domain_of(parsed.message_id) == sender_domain
        add("x:message_id_domain_" + ("same" if same else "other"))
    if parsed.date is None:
        add("x:no_date")

    headers = parsed.headers
    if "list-id" in headers:
        add("x:list_id")
    if "list-unsubscribe" in headers:
        add("x:list_unsubscribe")
    precedence = headers.get("precedence", "").strip().lower()
    if precedence:
        add("x:precedence_" + precedence[:10])
    mailer = headers.get("x-mailer") or headers.get("user-agent") or ""
    # Three words, not one: "Microsoft Outlook Express" (forged by 2002 spam) must not stand
    # for today's "Microsoft Outlook 16.0", which the corpus has never seen.
    mailer_words = _MAILER_WORD.findall(mailer.lower()[:60])[:3]
    add("m:" + ("_".join(mailer_words) or "none"))

    for item in parsed.attachments:
        add("a:" + item.content_type)
    if parsed.defects:
        add("x:mime_defects")
    return tokens


def _sigmoid(x: float) -> float:
    x = max(-50.0, min(50.0, x))
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True)
class SpamModel:
    """``raw`` is the logistic-regression logit; ``score`` maps it onto the calibrated scale."""

    bias: float
    weights: dict[str, float]
    scale: float = 1.0
    offset: float = 0.0
    meta: dict[str, object] | None = None

    def raw(self, tokens: Iterable[str]) -> float:
        get = self.weights.get
        return self.bias + sum(get(t, 0.0) for t in tokens)

    def score(self, tokens: Iterable[str]) -> float:
        """Score in [0, 1]: ``SUSPECT_SCORE`` and ``SPAM_SCORE`` are the calibrated cuts."""
        return _sigmoid(self.scale * self.raw(tokens) + self.offset)

    def calibrated(self, *, suspect_raw: float, spam_raw: float) -> SpamModel:
        """The same model with its scale anchored: ``suspect_raw`` scores ``SUSPECT_SCORE`` and
        ``spam_raw`` scores ``SPAM_SCORE`` (an increasing affine map of the logit)."""
        if spam_raw <= suspect_raw:
            raise ValueError("The spam cut must be above the suspect cut.")
        low, high = _logit(SUSPECT_SCORE), _logit(SPAM_SCORE)
        scale = (high - low) / (spam_raw - suspect_raw)
        meta = dict(self.meta or {}, suspect_raw=round(suspect_raw, 6), spam_raw=round(spam_raw, 6))
        return SpamModel(
            bias=self.bias,
            weights=self.weights,
            scale=scale,
            offset=low - scale * suspect_raw,
            meta=meta,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": MODEL_FORMAT,
                "bias": round(self.bias, 4),
                "scale": round(self.scale, 6),
                "offset": round(self.offset, 6),
                "meta": self.meta or {},
                "weights": {k: round(v, 3) for k, v in self.weights.items()},
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> SpamModel:
        data = json.loads(text)
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"Spam model format {data.get('format')!r}, expected {MODEL_FORMAT}.")
        return cls(
            bias=float(data["bias"]),
            weights={k: float(v) for k, v in data["weights"].items()},
            scale=float(data["scale"]),
            offset=float(data["offset"]),
            meta=dict(data.get("meta") or {}),
        )


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def train(
    examples: Sequence[tuple[set[str], bool, float]],
    *,
    min_count: int = 3,
    l2: float = 1.0,
    iterations: int = 400,
    vocabulary: int = 12_000,
) -> SpamModel:
    """Fit the weights on ``(tokens, is_spam, sample_weight)`` examples; deterministic.

    Tokens seen in fewer than ``min_count`` messages are ignored. Full-batch Adam on the
    weighted log loss plus ``l2 / 2 * |w|^2`` (the bias is not penalised); then the
    ``vocabulary`` largest weights are kept and refitted, so the shipped file stays small.
    """
    import numpy as np

    if not any(s for _, s, _ in examples) or all(s for _, s, _ in examples):
        raise ValueError("Training needs both spam and ham examples.")
    counts: Counter[str] = Counter()
    for tokens, _, _ in examples:
        counts.update(tokens)
    vocab = sorted(t for t, n in counts.items() if n >= min_count)

    def fit(vocab: list[str], iterations: int) -> tuple[float, dict[str, float]]:
        index = {t: i for i, t in enumerate(vocab)}
        rows = [[index[t] for t in tokens if t in index] for tokens, _, _ in examples]
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        flat = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(lengths.sum()))
        owner = np.repeat(np.arange(len(rows)), lengths)
        y = np.array([1.0 if s else 0.0 for _, s, _ in examples])
        sw = np.array([w for _, _, w in examples], dtype=np.float64)
        sw = sw / sw.sum()
        n = len(vocab) + 1  # last slot: the bias
        theta = np.zeros(n)
        m = np.zeros(n)
        v = np.zeros(n)
        rate, beta1, beta2 = 0.05, 0.9, 0.999
        penalty = np.full(n, l2 / len(examples))
        penalty[-1] = 0.0
        for step in range(1, iterations + 1):
            z = np.bincount(owner, weights=theta[flat], minlength=len(rows)) + theta[-1]
            p = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
            err = (p - y) * sw
            grad = np.empty(n)
            grad[:-1] = np.bincount(flat, weights=err[owner], minlength=n - 1)
            grad[-1] = err.sum()
            grad += penalty * theta
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad * grad
            m_hat = m / (1 - beta1**step)
            v_hat = v / (1 - beta2**step)
            theta -= rate * m_hat / (np.sqrt(v_hat) + 1e-9)
        return float(theta[-1]), {t: float(theta[i]) for i, t in enumerate(vocab)}

    bias, weights = fit(vocab, iterations)
    if len(weights) > vocabulary:
        kept = sorted(weights, key=lambda t: (-abs(weights[t]), t))[:vocabulary]
        bias, weights = fit(sorted(kept), iterations)
    return SpamModel(bias=bias, weights={t: w for t, w in weights.items() if abs(w) >= 5e-4})


def held_out_names(folder: str, names: Iterable[str], *, share: float = 0.3) -> set[str]:
    """The corpus files of one folder kept out of training: the first ``share`` of them in the
    order of a SHA-256 of ``folder/name`` (fixed, reproducible, stratified by folder)."""
    ordered = sorted(names, key=lambda n: hashlib.sha256(f"{folder}/{n}".encode()).hexdigest())
    return set(ordered[: round(len(ordered) * share)])


def spam_band(score: float, *, threshold: float = SPAM_SCORE, known_sender: bool = False) -> str:
    """``"spam"`` at or above ``threshold``; ``"suspect"`` from ``SUSPECT_SCORE``; else ``"ham"``.

    Suspected mail belongs in the inbox with a flag, never in the spam view. A known sender (the
    caller decides: e.g. a customer Helpline has already answered) is never put in spam: at
    most suspected. The corpus cannot measure that rule; it is a run-time safety net.
    """
    if score >= threshold and not known_sender:
        return "spam"
    if score >= min(SUSPECT_SCORE, threshold):
        return "suspect"
    return "ham"


def load(path: Path = MODEL_PATH) -> SpamModel | None:
    if not path.exists():
        return None
    return SpamModel.from_json(path.read_text(encoding="utf-8"))


@functools.cache
def shipped_model() -> SpamModel | None:
    return load()


def spam_score(parsed: ParsedEmail) -> float | None:
    model = shipped_model()
    if model is None:
        return None
    return model.score(features(parsed))
