"""``helpline manage seed --tickets N``: bulk rows for benchmarks (see helpline.demo.bulk)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from helpline.demo.bulk import seed


class Command(BaseCommand):
    help = (
        "Add N tickets (with messages, timeline rows and customers) fast, for benchmarks. "
        "Uses COPY on PostgreSQL. Deterministic for a given --seed and starting database."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tickets", type=int, required=True)
        parser.add_argument(
            "--messages-per-ticket", type=int, default=4, help="average (1 .. 2n-1 per ticket)"
        )
        parser.add_argument("--customers", type=int, default=None, help="default: tickets / 5")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch", type=int, default=20_000, help="tickets per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            seed(
                tickets=options["tickets"],
                customers=options["customers"],
                messages_per_ticket=options["messages_per_ticket"],
                seed=options["seed"],
                batch=options["batch"],
                out=self.stdout,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
