"""The ``helpline`` command. Each subcommand lives in its own module in this package and is
listed once in ``COMMANDS``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# name -> module; each module defines add_arguments(parser) and run(args) -> int
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("helpline.cli.serve", "Run the web server and a worker (migrates first)."),
    "worker": ("helpline.cli.worker", "Run background workers only (for scaling out)."),
    "createadmin": ("helpline.cli.accounts", "Create an admin user non-interactively."),
    "token": ("helpline.cli.tokens", "Manage API tokens: token create --email E."),
    "demo": ("helpline.cli.demo", "Load demo data into this install."),
    "manage": ("helpline.cli.manage", "Run a Django management command."),
    "triage": ("helpline.cli.triage", "Triage messages offline: triage --jsonl IN (no database)."),
    "mailbox": ("helpline.cli.mailbox", "Email mailboxes: mailbox add --address A [--imap-url U]."),
}


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.config.settings")
    import django

    django.setup()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="helpline", description="Helpline customer service.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if argv and argv[0] == "manage":
        # Pass everything after "manage" through to Django untouched.
        from helpline.cli.manage import run_manage

        return run_manage(argv[1:])
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from helpline.config.env import ConfigError

    try:
        result: int = modules[args.command].run(args)
    except ConfigError as exc:
        print(f"helpline: configuration error: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    raise SystemExit(main())
