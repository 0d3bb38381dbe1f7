"""``helpline manage sla_recompute``: derive the SLA clocks of every active ticket again.

For tickets written without the services (bulk imports, ``helpline manage seed``) and as a
repair after an outage of the event handlers. Idempotent; warnings and breaches already due are
raised by the next tick, exactly once.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from helpline.sla.services import sla_recompute_active


class Command(BaseCommand):
    help = "Recompute the SLA clocks of every active ticket."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk", type=int, default=2000, help="tickets per batch")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        count = sla_recompute_active(chunk_size=options["chunk"])
        self.stdout.write(
            f"recomputed {count} active tickets in {time.perf_counter() - started:.1f} s"
        )
