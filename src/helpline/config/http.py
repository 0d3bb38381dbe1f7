"""HTTP requests from the ASGI server to Django's WSGI handler, on a fixed pool of threads.

Every Helpline view is synchronous. Django's own ASGI handler runs each middleware's hooks and
the view through ``sync_to_async``: measured at 16 thread hops and ~5 ms of CPU per request
before a view does any work (docs/adr/0004-http-on-threads.md). Here a request costs one hop:
its body is read on the event loop, then the whole Django request (middleware, view, response)
runs on one of ``threads`` long-lived threads, whose database connections are reused (pooled).
WebSockets stay on Channels' ASGI router; streaming responses (attachments) are sent chunk by
chunk, each chunk read on the pool.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.wsgi import WsgiToAsgiInstance

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_BUFFERED = 1 << 20  # responses up to 1 MiB are produced in one go on the pool
_SPOOL = 1 << 16  # request bodies above 64 KiB spill to a temporary file


class _Response:
    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        self.status = int(status.split(" ", 1)[0])
        self.headers = [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers]
        return self._write_unsupported

    @staticmethod
    def _write_unsupported(data: bytes) -> None:
        raise NotImplementedError("the WSGI write() callable is not supported")


class WsgiOnThreads:
    def __init__(self, application: WsgiApp, *, threads: int, max_body: int = 64 << 20) -> None:
        self.application = application
        self.max_body = max_body
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"{type(self).__name__} serves HTTP only, not {scope['type']!r}")
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as body:
            await self._handle(scope, receive, send, body)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, body: Any) -> None:
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:  # refused before it fills the disk, not after
                await _send_text(send, 413, b"Request body too large.\n")
                return
            body.write(chunk)
            if not message.get("more_body"):
                break
        body.seek(0)
        loop = asyncio.get_running_loop()
        response, chunks, rest = await loop.run_in_executor(self.executor, self._run, scope, body)
        await send(
            {"type": "http.response.start", "status": response.status, "headers": response.headers}
        )
        if rest is None:  # the usual case: the whole body in one message (one write)
            whole = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            await send({"type": "http.response.body", "body": whole, "more_body": False})
            return
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if rest is not None:
            try:
                while True:
                    more = await loop.run_in_executor(self.executor, _next_chunk, rest)
                    if more is None:
                        break
                    await send({"type": "http.response.body", "body": more, "more_body": True})
            finally:
                await loop.run_in_executor(self.executor, _close, rest)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _run(
        self, scope: Scope, body: Any
    ) -> tuple[_Response, list[bytes], Iterator[bytes] | None]:
        """On a pool thread: the whole Django request; up to 1 MiB of the body produced."""
        adapter = WsgiToAsgiInstance(self.application)  # type: ignore[no-untyped-call]
        adapter.scope = scope
        environ: dict[str, Any] = adapter.build_environ(scope, body)  # type: ignore[no-untyped-call]
        response = _Response()
        result = self.application(environ, response.start_response)
        iterator = iter(result)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in iterator:
                if chunk:
                    chunks.append(chunk)
                    size += len(chunk)
                if size >= _BUFFERED:
                    return response, chunks, _Closing(iterator, result)
        except BaseException:
            _close(result)
            raise
        _close(result)  # Django's request_finished: connections go back to the pool
        return response, chunks, None


class _Closing(Iterator[bytes]):
    """The rest of a large response, closing the WSGI result when done."""

    def __init__(self, iterator: Iterator[bytes], result: Iterable[bytes]) -> None:
        self._iterator = iterator
        self._result = result

    def __next__(self) -> bytes:
        return next(self._iterator)

    def close(self) -> None:
        _close(self._result)


async def _send_text(send: Send, status: int, text: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text, "more_body": False})


def _next_chunk(iterator: Iterator[bytes]) -> bytes | None:
    return next(iterator, None)


def _close(result: object) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()
