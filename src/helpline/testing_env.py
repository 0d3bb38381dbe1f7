"""A pytest plugin (loaded with ``-p helpline.testing_env``) that sets the test environment
before pytest-django imports the settings: a throw-away data dir and HELPLINE_ENV=test."""

from __future__ import annotations

import os
import tempfile

os.environ["HELPLINE_ENV"] = "test"
if not os.environ.get("HELPLINE_DATA_DIR"):
    os.environ["HELPLINE_DATA_DIR"] = tempfile.mkdtemp(prefix="helpline-test-")
