from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--demo", action="store_true", help="load demo data if the inbox is empty")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="web server processes (default 1); background work runs in this main process",
    )
    parser.add_argument(
        "--no-worker", action="store_true", help="do not run a worker in this process"
    )
    parser.add_argument(
        "--smtp-port",
        type=int,
        default=2525,
        metavar="N",
        help="port of the inbound SMTP listener on --host (default 2525; 0 turns it off)",
    )


def run(args: argparse.Namespace) -> int:
    from helpline.cli import setup_django

    setup_django()
    import uvicorn

    from helpline.cli import bootstrap

    bootstrap.migrate()
    credentials = bootstrap.ensure_first_admin()
    if args.demo:
        from helpline.demo.loader import demo_load_if_empty

        loaded = demo_load_if_empty()
        if loaded:
            print(f"  Demo data loaded: {loaded}", file=sys.stderr, flush=True)
    consumer = None
    if not args.no_worker:
        from helpline.cli.workers import start_in_process

        consumer, stop = start_in_process()
    listener = None
    if args.smtp_port:
        from helpline.connectors.email.smtp_server import start_listener

        listener = start_listener(host=args.host, port=args.smtp_port)
        print(f"  SMTP listener on {args.host}:{args.smtp_port}", file=sys.stderr, flush=True)
    # IMAP mailboxes: one IDLE connection each (leased per mailbox), so mail lands in seconds.
    from helpline.connectors.email.imap import start_watchers

    imap_watchers = start_watchers()
    bootstrap.print_admin(credentials)
    print(f"  Helpline is at http://{args.host}:{args.port}/\n", file=sys.stderr, flush=True)
    try:
        uvicorn.run(
            "helpline.config.asgi:application",
            host=args.host,
            port=args.port,
            lifespan="off",
            log_level="warning",
            workers=max(1, args.workers),
        )
    finally:
        imap_watchers.stop()
        if listener is not None:
            listener.stop()
        if consumer is not None:
            stop.set()
            consumer.stop(graceful=True)
    return 0
