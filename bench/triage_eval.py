"""Quality of the triage pipeline on bench/data/triage_eval.jsonl (written for Helpline and kept
apart from the bootstrap training set in src/helpline/nlp/data/intents_bootstrap.jsonl).

    .venv/bin/python bench/triage_eval.py [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from helpline.nlp.intent import INTENTS, bootstrap_model
from helpline.nlp.pipeline import MessageIn, analyse

DATA = Path(__file__).parent / "data" / "triage_eval.jsonl"


def macro_f1(pairs: list[tuple[str, str]], labels: list[str]) -> tuple[float, dict[str, float]]:
    per: dict[str, float] = {}
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        if tp + fp + fn == 0:
            continue
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        per[label] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return sum(per.values()) / len(per), per


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--markdown", action="store_true", help="print the confusion matrix")
    parser.add_argument("--errors", action="store_true", help="list misclassified rows")
    parser.add_argument(
        "--split",
        choices=("all", "dev", "test"),
        default="all",
        help="dev = odd ids (rules were tuned looking at these), test = even ids (never looked at)",
    )
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line]
    if args.split != "all":
        parity = 1 if args.split == "dev" else 0
        rows = [r for r in rows if int(r["id"][1:]) % 2 == parity]
    model = bootstrap_model()
    got: dict[str, list[tuple[str, str]]] = defaultdict(list)
    by_lang: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        result = analyse(MessageIn(subject=row["subject"], body=row["body"]), model=model)
        out = result.interface_dict()
        gold = row["gold"]
        for key in ("language", "intent", "urgency", "sentiment"):
            got[key].append((gold[key], out[key]))
        got["wants_human"].append((str(gold["wants_human"]), str(out["wants_human"])))
        by_lang[gold["language"]]["n"] += 1
        by_lang[gold["language"]]["intent_ok"] += gold["intent"] == out["intent"]
        if args.errors:
            for key in ("intent", "urgency", "sentiment", "wants_human"):
                if gold[key] != out[key]:
                    print(f"{row['id']} {key:>11} {gold[key]!s:>14} -> {out[key]!s:<14} "
                          f"{row['body'][:75]}")

    def acc(key: str) -> float:
        return sum(g == p for g, p in got[key]) / len(got[key])

    n = len(rows)
    langs = ", ".join(f"{k} {v['n']}" for k, v in sorted(by_lang.items()))
    print(f"messages: {n} ({langs})")
    print(f"bootstrap training examples: {model.trained_on}")
    f1, per_intent = macro_f1(got["intent"], list(INTENTS))
    print(f"intent accuracy {acc('intent'):.3f}  macro-F1 {f1:.3f}")
    print("intent accuracy by language: " + ", ".join(
        f"{k} {v['intent_ok'] / v['n']:.2f}" for k, v in sorted(by_lang.items())))
    print(f"urgency accuracy {acc('urgency'):.3f}  (off by more than one level: "
          f"{sum(1 for g, p in got['urgency'] if abs(_lvl(g) - _lvl(p)) > 1) / n:.3f})")
    sf1, per_sent = macro_f1(got["sentiment"], ["very_negative", "negative", "neutral", "positive"])
    print(f"sentiment accuracy {acc('sentiment'):.3f}  macro-F1 {sf1:.3f}  "
          + " ".join(f"{k}={v:.2f}" for k, v in per_sent.items()))
    tp = sum(1 for g, p in got["wants_human"] if g == "True" and p == "True")
    fp = sum(1 for g, p in got["wants_human"] if g == "False" and p == "True")
    fn = sum(1 for g, p in got["wants_human"] if g == "True" and p == "False")
    print(f"wants_human precision {tp / max(tp + fp, 1):.3f}  recall {tp / max(tp + fn, 1):.3f}  "
          f"(positives {tp + fn})")
    print(f"language accuracy {acc('language'):.3f}")
    print("per-intent F1: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_intent.items())))
    if args.markdown:
        print()
        print(confusion_markdown(got["intent"]))
        print()
        print(confusion_markdown(got["urgency"], ["low", "normal", "high", "urgent"]))
        print()
        print(confusion_markdown(
            got["sentiment"], ["very_negative", "negative", "neutral", "positive"]))
    return 0


def _lvl(level: str) -> int:
    return ["low", "normal", "high", "urgent"].index(level)


ABBREV = {
    "billing_question": "bill", "refund_request": "refd", "payment_failed": "payf",
    "shipping_delay": "ship", "damaged_or_wrong_item": "dmg", "return_or_exchange": "retx",
    "cancel_subscription": "canc", "account_access": "acct", "password_reset": "pwd",
    "bug_report": "bug", "how_to_question": "howto", "product_question": "prod",
    "pricing_question": "price", "complaint": "cmpl", "praise": "prais",
    "feature_request": "feat", "data_privacy_request": "priv", "outage_report": "outg",
    "order_change": "ordch", "other": "other", "very_negative": "v.neg", "negative": "neg",
    "neutral": "neu", "positive": "pos",
}


def confusion_markdown(pairs: list[tuple[str, str]], labels: list[str] | None = None) -> str:
    labels = labels or list(INTENTS)
    counts = Counter(pairs)
    head = "| gold \\ predicted | " + " | ".join(ABBREV.get(lb, lb) for lb in labels) + " |"
    sep = "|---|" + "---:|" * len(labels)
    lines = [head, sep]
    for g in labels:
        cells = []
        for p in labels:
            c = counts.get((g, p), 0)
            cells.append(f"**{c}**" if g == p and c else (str(c) if c else "·"))
        lines.append(f"| {ABBREV.get(g, g)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
