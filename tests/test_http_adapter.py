"""The ASGI-to-WSGI bridge that serves Helpline's HTTP (config/http.py), driven as uvicorn does:
scope, receive, send."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from helpline.config.http import WsgiOnThreads


def _drive(app: WsgiOnThreads, body: bytes = b"", method: str = "POST", chunk: int = 10_000):
    messages: list[dict[str, Any]] = []
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]

    async def receive() -> dict[str, Any]:
        part = parts.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(parts)}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": "/echo", "raw_path": b"/echo", "query_string": b"a=1",
        "root_path": "", "headers": [(b"host", b"127.0.0.1"), (b"x-trace", b"t-1")],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    return messages


def test_a_request_body_arrives_whole_and_the_answer_goes_back_in_order():
    seen: dict[str, Any] = {}

    def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        data = environ["wsgi.input"].read()
        seen.update(
            thread=threading.current_thread().name, method=environ["REQUEST_METHOD"],
            query=environ["QUERY_STRING"], trace=environ.get("HTTP_X_TRACE"),
        )
        start_response("201 Created", [("Content-Type", "text/plain"), ("X-Len", str(len(data)))])
        return [data[:5], data[5:]]

    payload = bytes(range(256)) * 800  # 200 KiB: spills to a temporary file on the way
    messages = _drive(WsgiOnThreads(echo, threads=2), payload)
    start, *bodies = messages
    assert start["status"] == 201
    assert (b"x-len", str(len(payload)).encode()) in start["headers"]
    assert b"".join(m["body"] for m in bodies) == payload
    assert bodies[-1]["more_body"] is False
    assert seen["thread"].startswith("http")  # ran on the pool, not on the event loop
    assert (seen["method"], seen["query"], seen["trace"]) == ("POST", "a=1", "t-1")


def test_a_large_response_streams_in_chunks_and_is_closed():
    closed = threading.Event()
    chunk = b"x" * 65_536

    class Body:
        def __iter__(self):
            for _ in range(48):  # 3 MiB: more than is produced in one go
                yield chunk

        def close(self) -> None:
            closed.set()

    def download(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Body()

    messages = _drive(WsgiOnThreads(download, threads=2), method="GET")
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    assert sum(len(m["body"]) for m in bodies) == 48 * 65_536
    assert len(bodies) > 2
    assert closed.is_set()


def test_a_client_that_disconnects_before_its_body_gets_nothing_sent():
    def never(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise AssertionError("the application must not run")

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    sent: list[object] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    asyncio.run(WsgiOnThreads(never, threads=1)(scope, receive, send))
    assert sent == []


def test_a_body_over_the_limit_is_refused_with_413_and_never_reaches_the_app():
    called: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        called.append(1)
        start_response("200 OK", [])
        return [b""]

    messages = _drive(WsgiOnThreads(app, threads=1, max_body=50_000), b"x" * 60_000)
    assert messages[0]["status"] == 413
    assert called == []
    ok = _drive(WsgiOnThreads(app, threads=1, max_body=50_000), b"x" * 50_000)
    assert ok[0]["status"] == 200 and called == [1]


def test_a_small_response_goes_out_as_one_body_message():
    def parts(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"a":', b"", b" 1}"]

    start, *bodies = _drive(WsgiOnThreads(parts, threads=1), method="GET")
    assert start["status"] == 200
    assert bodies == [{"type": "http.response.body", "body": b'{"a": 1}', "more_body": False}]


_COUNT_CONNECTIONS = """
import asyncio, django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.config.settings")
django.setup()
from django.core.wsgi import get_wsgi_application
from django.db.backends.signals import connection_created
from helpline.config.http import WsgiOnThreads

opened, statuses = [], []
connection_created.connect(lambda sender, connection, **kw: opened.append(1), weak=False)
app = WsgiOnThreads(get_wsgi_application(), threads=1)

async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}

async def send(message):
    if message["type"] == "http.response.start":
        statuses.append(message["status"])

scope = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
    "scheme": "http", "path": "/healthz", "raw_path": b"/healthz", "query_string": b"",
    "root_path": "", "headers": [(b"host", b"127.0.0.1")],
    "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
}
for _ in range(3):
    asyncio.run(app(scope, receive, send))
print(len(statuses), len(opened))
"""


def test_requests_on_the_http_threads_reuse_their_sqlite_connection(tmp_path):
    """On the embedded default (a SQLite file), a request thread keeps its connection between
    requests (CONN_MAX_AGE) instead of opening one, with its PRAGMAs, per request: measured at
    more than half of a small API request's CPU (docs/benchmarks.md, "The HTTP floor")."""
    import subprocess
    import sys

    from tests.cli_helpers import clean_env

    def connections_opened(**helpline_vars: str) -> tuple[int, int]:
        done = subprocess.run(
            [sys.executable, "-c", _COUNT_CONNECTIONS],
            env=clean_env(tmp_path, **helpline_vars), capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr
        requests, opened = done.stdout.split()
        return int(requests), int(opened)

    assert connections_opened() == (3, 1)
    # The operator's override is honoured: 0 closes the connection after every request.
    assert connections_opened(HELPLINE_DB_CONN_MAX_AGE="0") == (3, 3)
