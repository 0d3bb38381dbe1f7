from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=None, help="worker threads (default 2)")


def run(args: argparse.Namespace) -> int:
    import os

    if args.workers:
        os.environ["HELPLINE_WORKERS"] = str(args.workers)
    from helpline.cli import setup_django

    setup_django()
    from helpline.cli.workers import run_foreground

    run_foreground()
    return 0
