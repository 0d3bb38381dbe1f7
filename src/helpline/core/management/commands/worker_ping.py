"""``helpline manage worker_ping``: enqueue a ping and wait for a worker to answer it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpline.core.tasks import ping


class Command(BaseCommand):
    help = "Enqueue a ping task and wait for a worker to answer (exit 1 on timeout)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args: Any, **options: Any) -> None:
        result = ping()
        try:
            answer = result.get(blocking=True, timeout=options["timeout"])
        except Exception as exc:  # huey raises its own timeout type; report any failure plainly
            raise CommandError(f"no worker answered within {options['timeout']} s ({exc})") from exc
        self.stdout.write(f"worker {answer} answered")
