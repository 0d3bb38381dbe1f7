"""Running the ``helpline`` command as an operator would: a real process, only the HELPLINE_*
variables a test chooses, a data dir of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HELPLINE = [sys.executable, "-m", "helpline.cli"]


def clean_env(data_dir: Path, **helpline_vars: str) -> dict[str, str]:
    """This process's environment without any HELPLINE_* variable, plus the data dir and
    ``helpline_vars``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env["HELPLINE_DATA_DIR"] = str(data_dir)
    env.update(helpline_vars)
    return env


def run(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HELPLINE, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
