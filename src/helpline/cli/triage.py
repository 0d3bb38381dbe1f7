"""``helpline triage --jsonl IN``: triage messages from a file, offline, without a database.

Each input line is ``{"id", "channel", "subject", "body"}``; each output line is
``{"id", "language", "intent", "urgency", "sentiment", "wants_human"}``, in input order. Only the
pure ``helpline.nlp`` layer and the models shipped in packages are used: no Django set-up, no
server, no database. A line that cannot be read yields ``{"id": ..., "error": "..."}`` and the
command exits 1 after finishing the rest.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jsonl",
        metavar="IN",
        required=True,
        help='JSON-lines file of {"id", "channel", "subject", "body"}; "-" reads standard input.',
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="Add a 'reasons' object (confidences, words and signals) to each output line.",
    )
    parser.add_argument(
        "--model",
        metavar="FILE",
        help="An intent model as JSON (default: the bootstrap model shipped with Helpline).",
    )


def _open(path: str) -> IO[str]:
    if path == "-":
        return sys.stdin
    return Path(path).open(encoding="utf-8")  # closed in run()


def run(args: argparse.Namespace) -> int:
    from helpline.nlp.intent import IntentModel, bootstrap_model
    from helpline.nlp.pipeline import MessageIn, analyse

    try:
        model = (
            IntentModel.from_json(Path(args.model).read_text(encoding="utf-8"))
            if args.model
            else bootstrap_model()
        )
        source = _open(args.jsonl)
    except (OSError, ValueError) as exc:
        print(f"helpline triage: {exc}", file=sys.stderr)
        return 2
    failures = 0
    out = sys.stdout
    try:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            row: Any = None
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("a line must be a JSON object")
                subject = row.get("subject") or ""
                body = row.get("body") or ""
                if not isinstance(subject, str) or not isinstance(body, str):
                    raise ValueError("subject and body must be strings")
                channel = row.get("channel") or ""
                result = analyse(
                    MessageIn(subject=subject, body=body, channel=str(channel)), model=model
                )
            except ValueError as exc:
                failures += 1
                ident = row.get("id") if isinstance(row, dict) else None
                out.write(json.dumps({"id": ident, "error": f"line {number}: {exc}"}) + "\n")
                continue
            record: dict[str, Any] = {"id": row.get("id")}
            record.update(result.interface_dict())
            if args.explain:
                record["reasons"] = result.reasons()
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if source is not sys.stdin:
            source.close()
    out.flush()
    return 1 if failures else 0
