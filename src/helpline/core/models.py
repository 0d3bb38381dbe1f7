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


class OutboxEvent(models.Model):
    """An event waiting for its deferred subscribers (see ``helpline.core.outbox``).

    Written in the same transaction as the change that raised it, so an event exists exactly when
    its change committed: a crash after the commit loses nothing, the worker delivers it later.
    A row is deleted once every deferred subscriber handled it; ``failed_at`` keeps the ones that
    kept failing for an operator to read (``helpline manage outbox``).
    """

    topic = models.CharField(max_length=200)
    payload = models.JSONField()
    created_at = models.DateTimeField()
    available_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                name="core_outbox_due",
                condition=models.Q(failed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"
