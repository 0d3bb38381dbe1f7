"""``helpline triage --jsonl`` as a user runs it: a subprocess, no database, no settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HELPLINE = Path(sys.executable).parent / "helpline"
KEYS = {"id", "language", "intent", "urgency", "sentiment", "wants_human"}


def run(args, stdin: str = "", tmp_path: Path | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPLINE_", "DJANGO_"))}
    # A data dir that cannot be created: loading Django settings here would fail loudly.
    env["HELPLINE_DATA_DIR"] = "/dev/null/helpline"
    env["HELPLINE_DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none"
    return subprocess.run(
        [str(HELPLINE), "triage", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_jsonl_in_jsonl_out(tmp_path):
    lines = [
        {"id": "a1", "channel": "email", "subject": "Refund", "body": "I want my money back."},
        {"id": 7, "channel": "chat", "subject": "", "body": "Mein Konto wurde gehackt!"},
        {
            "id": "c3",
            "channel": "web",
            "subject": "Merci",
            "body": "Merci beaucoup, service parfait !",
        },
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    done = run(["--jsonl", str(src)])
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a1", 7, "c3"]
    assert all(set(o) == KEYS for o in out)
    assert out[0]["intent"] == "refund_request"
    assert out[1]["language"] == "de" and out[1]["wants_human"] is True
    assert out[1]["urgency"] == "urgent"
    assert out[2]["language"] == "fr" and out[2]["sentiment"] == "positive"
    assert out[2]["intent"] == "praise"


def test_stdin_bad_lines_and_explain():
    stdin = '{"id": 1, "body": "The app crashes on start"}\nnot json\n\n{"id": 3, "body": 5}\n'
    done = run(["--jsonl", "-", "--explain"], stdin=stdin)
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["intent"] == "bug_report" and "reasons" in out[0]
    assert out[1]["id"] is None and "error" in out[1]
    assert out[2]["id"] == 3 and "error" in out[2]


def test_missing_file_is_exit_2(tmp_path):
    done = run(["--jsonl", str(tmp_path / "nope.jsonl")])
    assert done.returncode == 2
    assert "nope.jsonl" in done.stderr
