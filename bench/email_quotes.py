"""Quote and signature separation accuracy on talon's real-client fixtures.

    scripts/fetch-test-corpora
    .venv/bin/python bench/email_quotes.py

Two sets from the talon source distribution (PyPI sdist, fetched by scripts/fetch-test-corpora):
- tests/fixtures/standard_replies/*.eml: replies written by real mail clients (Gmail, Outlook,
  Apple Mail, iPhone, Android, Thunderbird, Yahoo, ...); the expected new text is the matching
  *_reply_text file, or "Hello". A case is correct when the new text plus signature equals it
  (trailing spaces ignored) and the quoted history was found.
- tests/fixtures/signature/emails/stripped/*_body: bodies with their sender and the expected
  signature (*_signature, empty when there is none). Correct when the signature found equals it.
Note: these fixtures were used while writing the heuristics, so they measure fit, not held-out
generalisation; talon's own test-suite strings (text_quotations_test.py) are not used.
"""

from __future__ import annotations

import email.utils
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from helpline.connectors.email.parsing import parse_email  # noqa: E402
from helpline.connectors.email.quotes import split_reply  # noqa: E402

FIXTURES = (
    Path(os.environ.get("HELPLINE_CORPORA_DIR", ROOT / ".cache" / "corpora"))
    / "talon"
    / "tests"
    / "fixtures"
)


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def main() -> int:
    if not FIXTURES.exists():
        print("talon fixtures missing: run scripts/fetch-test-corpora", file=sys.stderr)
        return 1
    ok = total = 0
    failures: list[str] = []
    for path in sorted((FIXTURES / "standard_replies").glob("*.eml")):
        parsed = parse_email(path.read_bytes())
        expected_file = path.with_name(path.stem + "_reply_text")
        expected = expected_file.read_text() if expected_file.exists() else "Hello"
        assert parsed.sender is not None
        split = split_reply(
            parsed.text, sender_name=parsed.sender.name, sender_email=parsed.sender.email
        )
        total += 1
        if _norm(split.reply_with_signature) == _norm(expected) and split.quoted:
            ok += 1
        else:
            failures.append(path.name)
    quote_ok, quote_total = ok, total
    folder = FIXTURES / "signature" / "emails" / "stripped"
    sig_ok = sig_total = 0
    for body in sorted(folder.glob("*_body")):
        stem = body.name[: -len("_body")]
        name, addr = email.utils.parseaddr((folder / f"{stem}_sender").read_text().strip())
        expected = (folder / f"{stem}_signature").read_text()
        split = split_reply(body.read_text(), sender_name=name, sender_email=addr)
        sig_total += 1
        if _norm(split.signature) == _norm(expected):
            sig_ok += 1
        else:
            failures.append(f"signature/{stem}")
    print(
        f"quote separation (standard_replies): {quote_ok}/{quote_total} "
        f"({quote_ok / max(1, quote_total):.0%})"
    )
    print(
        f"signature extraction (signature/emails/stripped): {sig_ok}/{sig_total} "
        f"({sig_ok / max(1, sig_total):.0%})"
    )
    if failures:
        print("wrong:", ", ".join(failures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
