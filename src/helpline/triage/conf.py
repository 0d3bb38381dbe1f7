"""Triage configuration, read from settings once and validated (see config/settings.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from helpline.config.env import ConfigError
from helpline.nlp.reply_checks import DEFAULT_JARGON
from helpline.triage.choices import PiiMode, PriorityMode

REPLY_CHECK_CODES = frozenset(
    {"readability", "long_sentence", "jargon", "acknowledge", "unanswered", "sensitive"}
)


@dataclass(frozen=True)
class TriageConfig:
    priority_mode: str
    pii_mode: str
    retrain_minutes: int
    embeddings: str
    jargon: dict[str, str]
    blocking_checks: frozenset[str]


def load() -> TriageConfig:
    """Read and validate; ConfigError names the variable that is wrong."""
    priority = str(getattr(settings, "TRIAGE_PRIORITY", PriorityMode.SUGGEST))
    if priority not in PriorityMode.values:
        raise ConfigError(f"HELPLINE_TRIAGE_PRIORITY must be off, suggest or set, got {priority!r}")
    pii = str(getattr(settings, "TRIAGE_PII", PiiMode.ENCRYPT))
    if pii not in PiiMode.values:
        raise ConfigError(f"HELPLINE_TRIAGE_PII must be off, encrypt or drop, got {pii!r}")
    embeddings = str(getattr(settings, "TRIAGE_EMBEDDINGS", "hashing"))
    if embeddings not in ("hashing", "minilm-onnx", "minilm-torch") and not embeddings.startswith(
        "model2vec:"
    ):
        raise ConfigError(f"HELPLINE_TRIAGE_EMBEDDINGS: unknown backend {embeddings!r}")
    jargon = dict(DEFAULT_JARGON)
    jargon_file = str(getattr(settings, "TRIAGE_JARGON_FILE", ""))
    if jargon_file:
        try:
            loaded = json.loads(Path(jargon_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"HELPLINE_TRIAGE_JARGON_FILE: cannot read {jargon_file}: {exc}"
            ) from exc
        if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
        ):
            raise ConfigError('HELPLINE_TRIAGE_JARGON_FILE must hold {"term": "plain words"}')
        jargon = loaded
    blocking = frozenset(
        c.strip()
        for c in str(getattr(settings, "TRIAGE_BLOCKING_CHECKS", "")).split(",")
        if c.strip()
    )
    unknown = blocking - REPLY_CHECK_CODES
    if unknown:
        raise ConfigError(f"HELPLINE_TRIAGE_BLOCKING_CHECKS: unknown checks {sorted(unknown)}")
    return TriageConfig(
        priority_mode=priority,
        pii_mode=pii,
        retrain_minutes=int(getattr(settings, "TRIAGE_RETRAIN_MINUTES", 60)),
        embeddings=embeddings,
        jargon=jargon,
        blocking_checks=blocking,
    )
