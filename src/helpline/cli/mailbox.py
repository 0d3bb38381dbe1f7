"""``helpline mailbox``: add, list and remove mailboxes; watch IMAP; ingest a raw message file.

helpline mailbox add --address support@example.org
helpline mailbox add --address help@example.org --imap-url imaps://user:pw@imap.example.org/INBOX
helpline mailbox list
helpline mailbox remove --address help@example.org
helpline mailbox watch            # poll IMAP mailboxes, waiting with IDLE where offered
helpline mailbox ingest FILE.eml  # store and process one raw message (as the webhook would)
helpline mailbox reencrypt        # rewrite stored credentials under the current secret key
helpline mailbox oauth --address support@example.com --provider google --client-id ID \
    --client-secret SECRET         # consent in a browser; the mailbox then uses XOAUTH2
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="create a mailbox")
    add.add_argument("--address", required=True)
    add.add_argument("--name", default="")
    add.add_argument("--imap-url", default="", help="imaps://user:password@host:port/INBOX")
    add.add_argument("--smtp-url", default="", help="this mailbox's own outbound relay")
    add.add_argument("--reply-target-hours", type=int, default=24)
    sub.add_parser("list", help="list mailboxes")
    remove = sub.add_parser("remove", help="delete a mailbox")
    remove.add_argument("--address", required=True)
    watch = sub.add_parser("watch", help="poll IMAP mailboxes until interrupted (IDLE if offered)")
    watch.add_argument("--once", action="store_true", help="one pass, then exit")
    ingest = sub.add_parser("ingest", help="ingest raw RFC 822 files")
    ingest.add_argument("files", nargs="+", type=Path)
    ingest.add_argument("--mailbox", default="", help="address of the receiving mailbox")
    oauth = sub.add_parser(
        "oauth",
        help="give an IMAP mailbox OAuth access (Gmail, Microsoft 365): consent in a browser",
    )
    oauth.add_argument("--address", required=True, help="the mailbox (created if new)")
    oauth.add_argument("--imap-user", default="", help="the account to sign in as (--address)")
    oauth.add_argument("--provider", choices=["google", "microsoft", "other"], required=True)
    oauth.add_argument("--tenant", default="common", help="Microsoft: the directory (tenant) id")
    oauth.add_argument("--client-id", required=True, help="your OAuth client (a desktop app)")
    oauth.add_argument("--client-secret", default="", help="the client's secret, if it has one")
    oauth.add_argument("--auth-url", default="", help="other: the authorization endpoint")
    oauth.add_argument("--token-url", default="", help="other: the token endpoint")
    oauth.add_argument("--scope", default="", help="other: the IMAP scope(s)")
    oauth.add_argument("--imap-host", default="", help="other (or to override): the IMAP host")
    oauth.add_argument("--imap-port", type=int, default=993)
    oauth.add_argument("--port", type=int, default=0, help="loopback port for the redirect")
    oauth.add_argument("--timeout", type=float, default=300.0, help="seconds to wait (300)")
    sub.add_parser(
        "reencrypt",
        help="re-encrypt stored credentials with the current secret key (after a rotation)",
    )


def run(args: argparse.Namespace) -> int:
    from helpline.cli import setup_django

    setup_django()
    from helpline.connectors.email import selectors, services
    from helpline.connectors.email.choices import Transport
    from helpline.connectors.email.models import Mailbox
    from helpline.core.errors import HelplineError

    try:
        if args.action == "add":
            mailbox = services.mailbox_create(
                address=args.address,
                name=args.name,
                imap_url=args.imap_url,
                smtp_url=args.smtp_url,
                reply_target_hours=args.reply_target_hours,
            )
            print(f"mailbox {mailbox.address} ({mailbox.get_transport_display()}) id={mailbox.pk}")
            return 0
        if args.action == "list":
            for mailbox in selectors.mailbox_list():
                state = "active" if mailbox.is_active else "inactive"
                print(
                    f"{mailbox.pk}\t{mailbox.address}\t{mailbox.transport}\t{state}"
                    f"\t{mailbox.imap_error[:60]}"
                )
            return 0
        if args.action == "remove":
            found = Mailbox.objects.filter(address=args.address.strip().lower()).first()
            if found is None:
                print(f"no mailbox {args.address}", file=sys.stderr)
                return 1
            services.mailbox_delete(mailbox=found)
            return 0
        if args.action == "ingest":
            target = (
                Mailbox.objects.filter(address=args.mailbox.lower()).first()
                if args.mailbox
                else None
            )
            for path in args.files:
                row = services.inbound_ingest(
                    raw=path.read_bytes(), transport=Transport.WEBHOOK, mailbox=target
                )
                print(f"{path}\t{row.pk}\t{row.status}\tticket={row.ticket_id}")
            return 0
        if args.action == "watch":
            return _watch(once=args.once)
        if args.action == "reencrypt":
            return _reencrypt()
        if args.action == "oauth":
            return _oauth(args)
    except HelplineError as exc:
        print(f"helpline mailbox: {exc.message}", file=sys.stderr)
        return 1
    return 2


def _watch(*, once: bool) -> int:
    from helpline.connectors.email.imap import imap_poll_due, start_watchers

    if once:
        print(f"{imap_poll_due()} new message(s)")
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    watchers = start_watchers()
    print("watching IMAP mailboxes with IDLE; Ctrl-C to stop", file=sys.stderr)
    try:
        stop.wait()
    finally:
        watchers.stop()
    return 0


def _reencrypt() -> int:
    from helpline.connectors.email.models import Mailbox
    from helpline.core.crypto import reencrypt

    rewritten, unreadable = reencrypt(Mailbox.objects.all(), ["imap_url", "smtp_url"])
    print(f"{rewritten} mailbox(es) re-encrypted with the current key")
    for pk, address in unreadable:
        print(
            f"mailbox {address} (id={pk}): credentials unreadable with the current key and its "
            "fallbacks; enter them again",
            file=sys.stderr,
        )
    return 1 if unreadable else 0


def _oauth(args: argparse.Namespace) -> int:
    from helpline.connectors.email import oauth, services

    if args.provider == "other":
        missing = [
            f"--{name.replace('_', '-')}"
            for name in ("auth_url", "token_url", "scope", "imap_host")
            if not getattr(args, name)
        ]
        if missing:
            print(f"helpline mailbox: --provider other needs {', '.join(missing)}", file=sys.stderr)
            return 2
        provider = oauth.Provider(
            auth_url=args.auth_url, token_url=args.token_url, scope=args.scope,
            imap_host=args.imap_host,
        )
    else:
        provider = oauth.provider_preset(args.provider, tenant=args.tenant)
        if args.imap_host:
            provider = dataclasses.replace(provider, imap_host=args.imap_host)
    # Microsoft's desktop redirect is registered as http://localhost; Google's loopback one
    # as an address (both on any port).
    host_name = "localhost" if args.provider == "microsoft" else "127.0.0.1"
    catcher = oauth.RedirectCatcher(port=args.port, host_name=host_name)

    def show(url: str) -> None:
        print(
            f"Open this address in a browser, sign in as {args.imap_user or args.address} and "
            f"allow access (waiting up to {args.timeout:.0f} s for the answer on "
            f"{catcher.redirect_uri}):\n\n{url}\n",
            flush=True,
        )

    try:
        mailbox = services.mailbox_oauth_connect(
            address=args.address,
            imap_user=args.imap_user or args.address,
            provider=provider,
            client_id=args.client_id,
            client_secret=args.client_secret,
            catcher=catcher,
            show=show,
            imap_port=args.imap_port,
            timeout=args.timeout,
        )
    except oauth.TokenRefreshError as exc:
        print(f"helpline mailbox: {exc}", file=sys.stderr)
        return 1
    print(
        f"mailbox {mailbox.address} (id={mailbox.pk}) now signs in to {provider.imap_host} with "
        "OAuth; the refresh token is stored encrypted and access tokens are renewed as needed"
    )
    return 0
