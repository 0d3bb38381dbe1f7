from __future__ import annotations

import argparse
import os
from collections.abc import Sequence


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs=argparse.REMAINDER)


def run_manage(argv: Sequence[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["helpline manage", *argv])
    return 0


def run(args: argparse.Namespace) -> int:
    return run_manage(args.args)
