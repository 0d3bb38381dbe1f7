"""Embedding backends compared on speed and on a semantic task from Helpline's own data.

    .venv/bin/python bench/embed_bench.py [--backends hashing,minilm-onnx,model2vec:DIR]

Quality proxy: nearest-neighbour intent. The 336 bootstrap examples are the index, the 339
evaluation messages the queries; a query "hits" when its most similar example has its intent
(top-1) or when one of the 5 most similar does (top-5). Reported per language too, since most
backends are English-only. Optional backends need their packages (see docs/adr/0003-embeddings.md);
a backend that is not installed is reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from collections import Counter
from pathlib import Path

from helpline.nlp.embeddings import get_embedder
from helpline.nlp.intent import bootstrap_examples

DATA = Path(__file__).parent / "data" / "triage_eval.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="hashing,minilm-onnx,minilm-torch")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    index = bootstrap_examples()
    rows = [json.loads(x) for x in DATA.read_text(encoding="utf-8").splitlines() if x]
    queries = [f"{r['subject']}\n{r['body']}".strip() for r in rows]
    print(f"machine: {os.cpu_count()} cores; load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"index {len(index)} bootstrap examples, {len(queries)} queries")
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            t = time.perf_counter()
            embedder = get_embedder(backend)
            embedder.embed(["warm up"])
            load = time.perf_counter() - t
        except ImportError as exc:
            print(f"{backend}: not installed ({exc})")
            continue
        rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
        index_vectors = embedder.embed([e.text for e in index])
        t = time.perf_counter()
        c = time.process_time()
        for _ in range(args.rounds):
            query_vectors = embedder.embed(queries)
        wall = time.perf_counter() - t
        cpu = time.process_time() - c
        singles = []
        for q in queries[:100]:
            s = time.perf_counter()
            embedder.embed([q])
            singles.append((time.perf_counter() - s) * 1000)
        sims = query_vectors @ index_vectors.T
        top1 = top5 = 0
        per_lang: Counter[str] = Counter()
        per_lang_n: Counter[str] = Counter()
        for i, row in enumerate(rows):
            order = (-sims[i]).argsort()[:5]
            gold = row["gold"]["intent"]
            hit = index[int(order[0])].intent == gold
            top1 += hit
            top5 += any(index[int(j)].intent == gold for j in order)
            lang = "en" if row["gold"]["language"] == "en" else "other"
            per_lang[lang] += hit
            per_lang_n[lang] += 1
        n = len(rows) * args.rounds
        print(
            f"{embedder.name:>22} dim {embedder.dim:>3}: load {load:5.2f} s, +{rss:4.0f} MB RSS; "
            f"batch {n / wall:6.0f} texts/s wall, {n / cpu:6.0f} texts/s per CPU-second; "
            f"one text p50 {statistics.median(singles):5.2f} ms | "
            f"kNN intent top-1 {top1 / len(rows):.3f} top-5 {top5 / len(rows):.3f} "
            f"(en {per_lang['en'] / per_lang_n['en']:.2f}, "
            f"other languages {per_lang['other'] / per_lang_n['other']:.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
