"""The ``helpline`` command as an operator runs it: real processes, a fresh data dir."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.cli_helpers import HELPLINE, clean_env, run


def _env(data_dir: Path) -> dict[str, str]:
    if os.environ.get("HELPLINE_DATABASE_URL"):
        pytest.skip("the CLI test runs on the embedded default (SQLite)")
    return clean_env(data_dir)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_from_an_empty_data_dir_prints_admin_and_reports_healthy(tmp_path):
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [*HELPLINE, "serve", "--port", str(port), "--smtp-port", "0", "--workers", "2"],
        env=_env(tmp_path / "data"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        status, body = 0, {}
        deadline = time.monotonic() + 240  # generous: CI machines may be loaded
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.5)
        log.seek(0)
        output = log.read()
        assert status == 200, output
        assert body["status"] == "ok"
        assert body["database"] == "ok"
        assert body["worker"] == "ok"
        match = re.search(r"password: (\S+)", output)
        assert match, output
        saved = (tmp_path / "data" / "admin-credentials.txt").read_text()
        assert match.group(1) in saved
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_createadmin_and_token_create(tmp_path):
    env = _env(tmp_path / "data")
    created = run(
        "createadmin", "--email", "Boss@Example.com", "--password", "s3cret-enough", env=env
    )
    assert created.returncode == 0, created.stderr
    again = run("createadmin", "--email", "boss@example.com", "--password", "x" * 12, env=env)
    assert again.returncode == 1
    assert "already exists" in again.stderr

    token = run("token", "create", "--email", "boss@example.com", env=env)
    assert token.returncode == 0, token.stderr
    lines = token.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("hl_")
    assert len(lines[0]) > 30

    unknown = run("token", "create", "--email", "nobody@example.com", env=env)
    assert unknown.returncode == 1
    assert unknown.stdout == ""
