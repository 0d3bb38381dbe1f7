"""``helpline manage outbox``: what waits for the worker, and what kept failing.

    helpline manage outbox                 # counts, the oldest waiting event, failed events
    helpline manage outbox --drain         # deliver what is due now, in this process
    helpline manage outbox --retry-failed  # give failed events a fresh set of attempts
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from helpline.core import clock, outbox
from helpline.core.models import OutboxEvent


class Command(BaseCommand):
    help = "Show the outbox of deferred events; drain it or retry failed events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--drain", action="store_true", help="deliver due events now")
        parser.add_argument("--retry-failed", action="store_true", help="retry failed events")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["retry_failed"]:
            retried = OutboxEvent.objects.filter(failed_at__isnull=False).update(
                failed_at=None, attempts=0, available_at=clock.now()
            )
            self.stdout.write(f"{retried} failed event(s) will be retried")
        if options["drain"]:
            self.stdout.write(f"{outbox.outbox_drain(budget=600)} event(s) delivered")
        waiting = OutboxEvent.objects.filter(failed_at__isnull=True)
        oldest = waiting.order_by("created_at").values_list("created_at", flat=True).first()
        age = f", oldest {(clock.now() - oldest).total_seconds():.0f} s old" if oldest else ""
        self.stdout.write(f"waiting: {waiting.count()}{age}")
        failed = OutboxEvent.objects.filter(failed_at__isnull=False).order_by("id")
        self.stdout.write(f"failed: {failed.count()}")
        for row in failed[:50]:
            first_line = (row.last_error.splitlines() or [""])[0]
            self.stdout.write(f"  #{row.pk} {row.topic} attempts={row.attempts} {first_line}")
