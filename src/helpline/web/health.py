"""GET /healthz: is the database answering, and is a worker alive?"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from helpline.core import heartbeat, outbox


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception as exc:  # any database failure is what this endpoint exists to report
        database = f"error: {type(exc).__name__}"
    workers = heartbeat.live_workers() if database == "ok" else 0
    worker = "ok" if workers else "down"
    healthy = database == "ok" and worker == "ok"
    body: dict[str, object] = {
        "status": "ok" if healthy else "degraded",
        "database": database,
        "database_vendor": connection.vendor,
        "worker": worker,
        "workers": workers,
    }
    if database == "ok":
        # How far the worker is behind on the follow-up of new tickets (SLA, routing, triage):
        # a monitor can alert on the age of the oldest waiting event.
        waiting, oldest = outbox.outbox_backlog()
        body["outbox"] = {"waiting": waiting, "oldest_seconds": oldest}
    return JsonResponse(body, status=200 if healthy else 503)
