"""Any signed-in staff request is activity: it keeps the agent online, or brings her back from
idle. At most one database write per agent per minute per process."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from helpline.accounts.models import User
from helpline.routing.choices import TOUCH_EVERY
from helpline.routing.services import agent_activity_touch

_TOUCH_SECONDS = TOUCH_EVERY.total_seconds()
_SKIP_PREFIXES = ("/static/", "/healthz", "/favicon")


class ActivityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # agent id -> monotonic time of the last write from this process
        self._last: dict[int, float] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Only a person's signed-in session counts: an API token is often a script or an
        # integration, and must not make its owner look available for new work.
        user = getattr(request, "user", None)
        if (
            isinstance(user, User)
            and user.is_active
            and response.status_code < 500
            and not request.path.startswith(_SKIP_PREFIXES)
        ):
            now = time.monotonic()
            if now - self._last.get(user.pk, -_TOUCH_SECONDS) >= _TOUCH_SECONDS:
                self._last[user.pk] = now
                agent_activity_touch(agent_id=user.pk)
        return response
