from __future__ import annotations

import argparse
import getpass
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", help="prompted for when omitted")
    parser.add_argument("--name", default="")


def run(args: argparse.Namespace) -> int:
    from helpline.cli import setup_django

    setup_django()
    from helpline.accounts.choices import Role
    from helpline.accounts.services import user_create
    from helpline.cli import bootstrap
    from helpline.core.errors import HelplineError

    bootstrap.migrate()
    password = args.password or getpass.getpass("Password: ")
    try:
        user = user_create(email=args.email, name=args.name, password=password, role=Role.ADMIN)
    except HelplineError as exc:
        print(f"helpline: {exc.message}", file=sys.stderr)
        return 1
    print(f"Admin {user.email} created.", file=sys.stderr)
    return 0
