"""Cross-cutting tables: worker heartbeats for /healthz."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time a worker process proved it is alive (written every few seconds)."""

    name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()
    last_tick_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
