"""Bare applications for bench/http_floor.py: the server's floor without Helpline."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from helpline.config.http import WsgiOnThreads

_OK = b"ok"
_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"2")]


async def asgi_ok(
    scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _OK})


def wsgi_ok(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [_OK]


wsgi_on_threads = WsgiOnThreads(wsgi_ok, threads=8)
