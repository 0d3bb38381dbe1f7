from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create a token and print it alone on stdout")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="cli")


def run(args: argparse.Namespace) -> int:
    from helpline.cli import setup_django

    setup_django()
    from helpline.accounts.models import User
    from helpline.accounts.services import api_token_create
    from helpline.cli import bootstrap

    bootstrap.migrate()
    user = User.objects.filter(email=args.email.strip().lower(), is_active=True).first()
    if user is None:
        print(f"helpline: no active user with email {args.email}", file=sys.stderr)
        return 1
    _, secret = api_token_create(user=user, name=args.name)
    print(secret)
    return 0
