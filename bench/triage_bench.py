"""Triage latency and throughput, and embedding throughput.

    .venv/bin/python bench/triage_bench.py [--rounds 5] [--workers 2]

Data: the 339 messages of bench/data/triage_eval.jsonl, replayed ``--rounds`` times. Triage is
the pure pipeline (helpline.nlp.pipeline.analyse: PII masking, language, intent, sentiment,
urgency, wants-a-human), without the database writes of the triage service. Embeddings use the
default backend (hashing); ``--backends`` adds optional ones when their packages are installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

DATA = Path(__file__).parent / "data" / "triage_eval.jsonl"


def _messages() -> list[tuple[str, str]]:
    rows = [json.loads(x) for x in DATA.read_text(encoding="utf-8").splitlines() if x]
    return [(r["subject"], r["body"]) for r in rows]


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _triage_chunk(args: tuple[list[tuple[str, str]], int]) -> tuple[int, float]:
    from helpline.nlp.intent import bootstrap_model
    from helpline.nlp.pipeline import MessageIn, analyse

    messages, rounds = args
    model = bootstrap_model()
    analyse(MessageIn(subject="warm", body="warm up the detectors"), model=model)
    start = time.perf_counter()
    n = 0
    for _ in range(rounds):
        for subject, body in messages:
            analyse(MessageIn(subject=subject, body=body), model=model)
            n += 1
    return n, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="hashing", help="comma-separated embedding backends")
    args = parser.parse_args()

    from helpline.nlp.intent import bootstrap_model
    from helpline.nlp.pipeline import MessageIn, analyse

    messages = _messages()
    print(f"machine: {os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}")
    print(f"data: {len(messages)} messages x {args.rounds} rounds")

    t0 = time.perf_counter()
    model = bootstrap_model()
    analyse(MessageIn(subject="", body="warm up the language detector"), model=model)
    print(f"start-up (train bootstrap model, load detectors): {time.perf_counter() - t0:.2f} s")

    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    # Wall time suffers when other processes share the cores; CPU time of this process does not.
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(args.rounds):
        for subject, body in messages:
            t = time.perf_counter()
            c = time.process_time()
            analyse(MessageIn(subject=subject, body=body), model=model)
            cpu.append((time.process_time() - c) * 1000)
            wall.append((time.perf_counter() - t) * 1000)
    for name, values in (("wall", wall), ("CPU", cpu)):
        values.sort()
        p50 = statistics.median(values)
        p99 = values[int(len(values) * 0.99) - 1]
        mean = statistics.fmean(values)
        print(
            f"triage, 1 process, {name} time: p50 {p50:.2f} ms  p99 {p99:.2f} ms  "
            f"mean {mean:.2f} ms  max {values[-1]:.2f} ms  -> {1000 / mean:.0f} messages/s per core"
        )

    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            start = time.perf_counter()
            results = list(pool.map(_triage_chunk, [(messages, args.rounds)] * args.workers))
            wall = time.perf_counter() - start
        total = sum(n for n, _ in results)
        print(
            f"triage, {args.workers} processes: {total / wall:.0f} messages/s in total "
            f"(wall time includes each process's start-up)"
        )

    from helpline.nlp.embeddings import get_embedder

    texts = [f"{s}\n{b}" for s, b in messages]
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        try:
            t = time.perf_counter()
            embedder = get_embedder(backend)
            embedder.embed(texts[:8])
            load = time.perf_counter() - t
        except ImportError as exc:
            print(f"embeddings {backend}: not installed ({exc})")
            continue
        single = []
        for text in texts[:100]:
            t = time.perf_counter()
            embedder.embed([text])
            single.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        batch_rounds = max(1, args.rounds // 2)
        for _ in range(batch_rounds):
            for i in range(0, len(texts), 64):
                embedder.embed(texts[i : i + 64])
        rate = len(texts) * batch_rounds / (time.perf_counter() - t)
        print(
            f"embeddings {embedder.name} (dim {embedder.dim}): load {load:.2f} s, "
            f"one text p50 {statistics.median(single):.2f} ms, batches of 64: {rate:.0f} texts/s "
            "(1 process)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
