"""``helpline manage routing_backfill``: routing rows for tickets routing has not seen yet."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from helpline.routing.services import routing_backfill


class Command(BaseCommand):
    help = (
        "Create routing rows for new/open tickets that have none (bulk imports, installs that "
        "predate routing) and recount every agent's load. Run it with the workers stopped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created, agents = routing_backfill()
        self.stdout.write(f"routing rows created: {created}; agents recounted: {agents}")
