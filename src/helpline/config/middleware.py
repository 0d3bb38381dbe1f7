"""Static files without leaving the async request path.

Under ASGI, Django runs the middleware chain asynchronously only if every middleware in it can
run that way; one synchronous-only middleware makes every request hop between the event loop
and worker threads several times (measured: about a third of a small API request's CPU).
WhiteNoise's middleware is synchronous only, so this wrapper keeps its file lookup and response
(no database, no blocking beyond a file open) and is both sync- and async-capable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]


class StaticFilesMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self._whitenoise = WhiteNoiseMiddleware(get_response)
        self._prefix: str = self._whitenoise.static_prefix
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def _static(self, request: HttpRequest) -> HttpResponseBase | None:
        path = request.path_info
        if not path.startswith(self._prefix):
            return None
        wn = self._whitenoise
        found = wn.find_file(path) if wn.autorefresh else wn.files.get(path)
        if found is None:
            return None
        response: HttpResponseBase = wn.serve(found, request)
        return response

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self._async:
            return self._acall(request)
        static = self._static(request)
        if static is not None:
            return static
        response: HttpResponseBase = self.get_response(request)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        static = self._static(request)
        if static is not None:
            return static
        response: HttpResponseBase = await self.get_response(request)
        return response
