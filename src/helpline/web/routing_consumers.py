"""The supervisor's live queue over a WebSocket.

On connect the viewer gets the whole queue (rendered with the same partial as the page); after
that, every ``queue.changed`` published on commit by routing (see helpline.realtime) makes the
consumer send a fresh render. Bursts are coalesced: while a refresh is pending, more
notifications only mark it dirty. A timer refreshes too, so waits keep ticking and a viewer
still catches up when the worker runs in another process on the in-memory channel layer.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.template.loader import render_to_string

from helpline.accounts.models import User
from helpline.realtime import ROUTING_QUEUE_GROUP
from helpline.routing.selectors import queue_status

COALESCE_SECONDS = 0.2
REFRESH_EVERY_SECONDS = 15.0
FORBIDDEN = 4403


def render_queue() -> dict[str, Any]:
    status = queue_status()
    return {
        "type": "queue",
        "html": render_to_string("web/routing/_queue.html", {"status": status}),
        "waiting_total": status.waiting_total,
        "online": status.online,
        "generated_at": status.generated_at.isoformat(),
    }


class QueueConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        user = self.scope.get("user")
        if not isinstance(user, User) or not user.is_active or not user.is_supervisor_or_admin:
            await self.close(code=FORBIDDEN)
            return
        self._dirty = False
        self._refresh: asyncio.Task[None] | None = None
        await self.channel_layer.group_add(ROUTING_QUEUE_GROUP, self.channel_name)
        await self.accept()
        await self._send_queue()
        self._timer = asyncio.create_task(self._tick())

    async def disconnect(self, code: int) -> None:
        for name in ("_timer", "_refresh"):
            task = getattr(self, name, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.channel_layer.group_discard(ROUTING_QUEUE_GROUP, self.channel_name)

    async def queue_changed(self, message: dict[str, Any]) -> None:
        self._mark_dirty()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "refresh":
            self._mark_dirty()

    def _mark_dirty(self) -> None:
        self._dirty = True
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        while self._dirty:
            await asyncio.sleep(COALESCE_SECONDS)
            self._dirty = False
            await self._send_queue()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY_SECONDS)
            self._mark_dirty()

    async def _send_queue(self) -> None:
        await self.send_json(await database_sync_to_async(render_queue)())
