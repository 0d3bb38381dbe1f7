"""WebSocket routes, one list for the whole project (apps add theirs here)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from helpline.web.routing_consumers import QueueConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/routing/queue/", QueueConsumer.as_asgi()),
]
