# mypy: disable-error-code="union-attr,arg-type,operator"
"""Real-world mail: every SpamAssassin message ingests without an unhandled error; talon's
real-client replies separate the new text from quotes and signatures."""

from __future__ import annotations

import email.utils
import os

from helpline.connectors.email import services
from helpline.connectors.email.choices import InboundStatus, Transport
from helpline.connectors.email.models import InboundEmail
from helpline.connectors.email.noise import classify_noise
from helpline.connectors.email.parsing import EmailParseError, parse_email
from helpline.connectors.email.quotes import split_reply
from helpline.connectors.email.spam import spam_score

FULL = os.environ.get("HELPLINE_EMAIL_FULL_CORPUS") == "1"


def test_every_spamassassin_message_parses_classifies_and_scores(spam_assassin_dir):
    paths = sorted(spam_assassin_dir.glob("*/*.txt"))
    assert len(paths) > 6000
    refused = []
    for path in paths:
        try:
            parsed = parse_email(path.read_bytes())
        except EmailParseError:
            refused.append(path.name)
            continue
        classify_noise(parsed)
        split_reply(parsed.text, sender_name=parsed.sender.name, sender_email=parsed.sender.email)
        assert 0.0 <= (spam_score(parsed) or 0.0) <= 1.0
    assert len(refused) <= 5, refused  # forged spam with no sender at all: quarantined


def test_spamassassin_messages_ingest_through_the_database(db, spam_assassin_dir):
    """Every message when HELPLINE_EMAIL_FULL_CORPUS=1 (minutes on 2 busy cores), else 1 in 8."""
    paths = sorted(spam_assassin_dir.glob("*/*.txt"))
    if not FULL:
        paths = paths[::8]
    statuses: dict[str, int] = {}
    for path in paths:
        row = services.inbound_ingest(raw=path.read_bytes(), transport=Transport.WEBHOOK)
        assert row.status != InboundStatus.RECEIVED, path
        statuses[row.status] = statuses.get(row.status, 0) + 1
    quarantined = InboundEmail.objects.filter(status=InboundStatus.QUARANTINED)
    assert all("sender" in row.error for row in quarantined), [r.error for r in quarantined]
    assert statuses.get(InboundStatus.PROCESSED, 0) + statuses.get(
        InboundStatus.SPAM, 0
    ) > 0.9 * len(paths)


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def test_talon_standard_replies_separate_quotes(talon_fixtures_dir):
    folder = talon_fixtures_dir / "standard_replies"
    cases = sorted(p for p in folder.glob("*.eml"))
    assert len(cases) >= 10
    for path in cases:
        parsed = parse_email(path.read_bytes())
        expected_file = path.with_name(path.stem + "_reply_text")
        expected = expected_file.read_text() if expected_file.exists() else "Hello"
        split = split_reply(
            parsed.text, sender_name=parsed.sender.name, sender_email=parsed.sender.email
        )
        assert _norm(split.reply_with_signature) == _norm(expected), path.name
        assert split.quoted, path.name


def test_talon_signatures_are_found(talon_fixtures_dir):
    folder = talon_fixtures_dir / "signature" / "emails" / "stripped"
    bodies = sorted(folder.glob("*_body"))
    assert len(bodies) >= 5
    for body in bodies:
        stem = body.name[: -len("_body")]
        name, addr = email.utils.parseaddr((folder / f"{stem}_sender").read_text().strip())
        expected = (folder / f"{stem}_signature").read_text().strip()
        split = split_reply(body.read_text(), sender_name=name, sender_email=addr)
        assert _norm(split.signature) == _norm(expected), stem
