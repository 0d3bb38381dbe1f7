from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)


def run(args: argparse.Namespace) -> int:
    from helpline.cli import setup_django

    setup_django()
    from helpline.cli import bootstrap
    from helpline.demo.loader import demo_load

    bootstrap.migrate()
    summary = demo_load(customers=args.customers, tickets=args.tickets, seed=args.seed)
    print(f"Demo data loaded: {summary}", file=sys.stderr)
    return 0
