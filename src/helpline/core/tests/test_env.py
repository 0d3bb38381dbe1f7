from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpline.config.env import ConfigError, env_bool, env_int, parse_database_url


def test_env_bool_and_int_reject_garbage(monkeypatch):
    monkeypatch.setenv("HELPLINE_X", "maybe")
    with pytest.raises(ConfigError, match="HELPLINE_X"):
        env_bool("HELPLINE_X")
    monkeypatch.setenv("HELPLINE_N", "12a")
    with pytest.raises(ConfigError, match="HELPLINE_N"):
        env_int("HELPLINE_N", 1)
    monkeypatch.setenv("HELPLINE_N", "99")
    with pytest.raises(ConfigError, match="between"):
        env_int("HELPLINE_N", 1, maximum=10)


def test_database_url_parsing():
    db = parse_database_url("X", "postgres://u:p%40ss@db.local:6543/helpline")
    assert (db.user, db.password, db.host, db.port, db.name) == (
        "u",
        "p@ss",
        "db.local",
        "6543",
        "helpline",
    )
    with pytest.raises(ConfigError, match="postgres://"):
        parse_database_url("X", "mysql://u@h/db")
    with pytest.raises(ConfigError, match="name a database"):
        parse_database_url("X", "postgres://u@h/")


def _boot(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    clean.update({"HELPLINE_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", "import django, os; "
         "os.environ['DJANGO_SETTINGS_MODULE']='helpline.config.settings'; django.setup()"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_insecure_defaults(tmp_path):
    missing_key = _boot({"HELPLINE_ENV": "production"}, tmp_path)
    assert missing_key.returncode != 0
    assert "HELPLINE_SECRET_KEY is required" in missing_key.stderr

    debug = _boot(
        {"HELPLINE_ENV": "production", "HELPLINE_DEBUG": "true", "HELPLINE_SECRET_KEY": "x" * 40},
        tmp_path,
    )
    assert "HELPLINE_DEBUG must be off" in debug.stderr

    hosts = _boot({"HELPLINE_ENV": "production", "HELPLINE_SECRET_KEY": "x" * 40}, tmp_path)
    assert "HELPLINE_ALLOWED_HOSTS is required" in hosts.stderr

    ok = _boot(
        {
            "HELPLINE_ENV": "production",
            "HELPLINE_SECRET_KEY": "x" * 40,
            "HELPLINE_ALLOWED_HOSTS": "help.example.com",
        },
        tmp_path,
    )
    assert ok.returncode == 0, ok.stderr


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    assert _boot({}, tmp_path).returncode == 0
    key = (tmp_path / "secret.key").read_text()
    assert len(key) >= 50
    assert oct((tmp_path / "secret.key").stat().st_mode & 0o777) == "0o600"
    assert _boot({}, tmp_path).returncode == 0
    assert (tmp_path / "secret.key").read_text() == key
