"""The HTTP server's own cost per request, layer by layer: what a request costs before Helpline's
view does any work. Not a test: nothing is asserted; load goes to 127.0.0.1 only, bounded in
count.

Each layer runs in its own `uvicorn` process (the options `helpline serve` uses: uvloop,
httptools, no access log at warning level) and is driven by `--clients` keep-alive
`http.client` connections from this process; the server process's CPU time (utime + stime from
/proc) is divided by the number of requests, so the figure holds on a busy machine.

    asgi       a bare ASGI app answering "ok"                      (uvicorn alone)
    threads    a bare WSGI app behind helpline.config.http.WsgiOnThreads   (+ the thread hop)
    django404  Helpline's ASGI application, GET of a path no route matches (+ Django, middleware,
               URL resolution, the 404 page; no database)
    me         Helpline's ASGI application, GET /api/v1/me with a token (+ token check: one
               cached read, the view, JSON)

    HELPLINE_DATA_DIR=/tmp/hl-floor .venv/bin/python bench/http_floor.py --requests 4000 --clients 8
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from _foundation import git_revision, machine

VENV_BIN = Path(sys.executable).parent
BENCH = Path(__file__).resolve().parent
APPS = {
    "asgi": "_http_apps:asgi_ok",
    "threads": "_http_apps:wsgi_on_threads",
    "django404": "helpline.config.asgi:application",
    "me": "helpline.config.asgi:application",
}
PATHS = {"asgi": "/", "threads": "/", "django404": "/no-such-page/", "me": "/api/v1/me"}


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_for(port: int, path: str, headers: dict[str, str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path, headers=headers)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not answer in {seconds:.0f} s")


def drive(
    port: int, path: str, headers: dict[str, str], count: int, clients: int
) -> dict[int, int]:
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    remaining = [count]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def token() -> str:
    email = "bench-floor@bench.helpline.test"
    helpline = str(VENV_BIN / "helpline")
    subprocess.run(
        [helpline, "createadmin", "--email", email, "--password", "bench-floor-password-1"],
        check=False,
        capture_output=True,
    )
    created = subprocess.run(
        [helpline, "token", "create", "--email", email], check=True, capture_output=True, text=True
    )
    return created.stdout.strip()


def run_layer(layer: str, port: int, count: int, clients: int, auth: str | None) -> None:
    headers = {"Authorization": f"Bearer {auth}"} if layer == "me" and auth else {}
    env = dict(os.environ, PYTHONPATH=str(BENCH))
    server = subprocess.Popen(
        [
            str(VENV_BIN / "uvicorn"),
            APPS[layer],
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        wait_for(port, PATHS[layer], headers)
        drive(port, PATHS[layer], headers, min(count, 500), clients)  # warm-up
        before, started = cpu_ticks(server.pid), time.perf_counter()
        statuses = drive(port, PATHS[layer], headers, count, clients)
        elapsed = time.perf_counter() - started
        cpu_ms = (cpu_ticks(server.pid) - before) * 1000 / os.sysconf("SC_CLK_TCK") / count
        print(
            f"  {layer:<10} {count / elapsed:8.0f} requests/s   server CPU {cpu_ms:6.3f} ms/request"
            f"   statuses {statuses}",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--layers", nargs="+", default=list(APPS), choices=list(APPS))
    args = parser.parse_args()
    print(f"http_floor at {git_revision()}: {machine()}")
    print(f"  {args.requests} GET requests per layer from {args.clients} keep-alive clients")
    auth = token() if "me" in args.layers else None
    for layer in args.layers:
        run_layer(layer, args.port, args.requests, args.clients, auth)


if __name__ == "__main__":
    main()
