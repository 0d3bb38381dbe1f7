"""Train the email spam classifier on part of the SpamAssassin corpus and measure it on the rest.

    scripts/fetch-test-corpora
    .venv/bin/python bench/email_spam.py [--write-model] [--threshold 0.95]

The split is deterministic (by a hash of each file name: 70 % train, 30 % held out). With
--write-model the model trained on the training split is written to the package
(src/helpline/connectors/email/data/spam_model.json). Figures are for the held-out part only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from helpline.connectors.email import spam  # noqa: E402
from helpline.connectors.email.parsing import EmailParseError, parse_email  # noqa: E402

CORPUS = (
    Path(os.environ.get("HELPLINE_CORPORA_DIR", ROOT / ".cache" / "corpora"))
    / "spam-assassin"
    / "data"
)


def held_out(name: str) -> bool:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 10 >= 7


def load() -> list[tuple[str, bool, set[str]]]:
    rows = []
    for path in sorted(CORPUS.glob("*/*.txt")):
        try:
            parsed = parse_email(path.read_bytes())
        except EmailParseError:
            continue
        rows.append(
            (
                f"{path.parent.name}/{path.name}",
                path.parent.name.startswith("spam"),
                spam.features(parsed),
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-model", action="store_true")
    parser.add_argument("--threshold", type=float, default=0.95)
    args = parser.parse_args()
    if not CORPUS.exists():
        print("corpus missing: run scripts/fetch-test-corpora", file=sys.stderr)
        return 1
    started = time.perf_counter()
    rows = load()
    train_rows = [r for r in rows if not held_out(r[0])]
    test_rows = [r for r in rows if held_out(r[0])]
    model = spam.train([t for _, s, t in train_rows if s], [t for _, s, t in train_rows if not s])
    if args.write_model:
        spam.MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
        spam.MODEL_PATH.write_text(model.to_json(), encoding="utf-8")
        print(f"model written: {spam.MODEL_PATH} ({spam.MODEL_PATH.stat().st_size // 1024} KiB)")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; corpus: {len(rows)} messages "
        f"({len(train_rows)} train, {len(test_rows)} held out)"
    )
    for threshold in sorted({0.5, 0.9, args.threshold, 0.99}):
        tp = fp = fn = tn = 0
        hard_fp = hard_n = 0
        for name, is_spam, tokens in test_rows:
            flagged = model.score(tokens) >= threshold
            if is_spam:
                tp += flagged
                fn += not flagged
            else:
                fp += flagged
                tn += not flagged
                if name.startswith("hard-ham"):
                    hard_n += 1
                    hard_fp += flagged
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        print(
            f"threshold {threshold:.2f}: precision {precision:.3f}, recall {recall:.3f}, "
            f"ham wrongly in spam {fp}/{fp + tn} ({fp / max(1, fp + tn):.2%}; hard ham "
            f"{hard_fp}/{hard_n}), spam reaching inbox {fn}/{tp + fn}"
        )
    print(f"elapsed {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
