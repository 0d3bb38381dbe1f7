"""Test-wide set-up: a throw-away data dir and the test environment, before Django loads."""

from __future__ import annotations

import os
import tempfile

os.environ["HELPLINE_ENV"] = "test"
os.environ.setdefault("HELPLINE_DATA_DIR", tempfile.mkdtemp(prefix="helpline-test-"))
