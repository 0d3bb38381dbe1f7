"""Any signed-in staff request is activity: it keeps the agent online, or brings her back from
idle. At most one database write per agent per minute per process.

Both sync- and async-capable, so that under ASGI the request stays on the async path (one
synchronous-only middleware makes every request hop between threads). It never loads the user
itself: it looks at the user only if the request already did (every agent page does; an API
token call does not, and a token must not make its owner look available anyway).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import empty

from helpline.accounts.models import User
from helpline.routing.choices import TOUCH_EVERY
from helpline.routing.services import agent_activity_touch

_TOUCH_SECONDS = TOUCH_EVERY.total_seconds()
_SKIP_PREFIXES = ("/static/", "/healthz", "/favicon")


class ActivityMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        # agent id -> monotonic time of the last write from this process
        self._last: dict[int, float] = {}
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self._async:
            return self._acall(request)
        response: HttpResponseBase = self.get_response(request)
        agent_id = self._touch_due(request, response)
        if agent_id is not None:
            agent_activity_touch(agent_id=agent_id)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = await self.get_response(request)
        agent_id = self._touch_due(request, response)
        if agent_id is not None:
            await sync_to_async(agent_activity_touch)(agent_id=agent_id)
        return response

    def _touch_due(self, request: HttpRequest, response: HttpResponseBase) -> int | None:
        lazy = request.__dict__.get("user")
        user = getattr(lazy, "_wrapped", empty) if lazy is not None else empty
        if (
            not isinstance(user, User)  # not loaded by the request (or anonymous)
            or not user.is_active
            or response.status_code >= 500
            or request.path.startswith(_SKIP_PREFIXES)
        ):
            return None
        now = time.monotonic()
        if now - self._last.get(user.pk, -_TOUCH_SECONDS) < _TOUCH_SECONDS:
            return None
        self._last[user.pk] = now
        return user.pk
