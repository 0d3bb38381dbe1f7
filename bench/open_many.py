"""CPU of opening tickets for new customers in groups, in-process: customer_get_or_create_many
plus ticket_open_many in one transaction per group, as the API's group commit and the email
batches call them. Prints Python CPU per ticket for each group size. Not a test.

    HELPLINE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_lead \\
        HELPLINE_DATA_DIR=/tmp/hl-lead \\
        .venv/bin/python bench/open_many.py --tickets 400 --groups 1 4 8

Writes tickets and customers (open-<run>-*@x.test) into the database it is given; the outbox
events they raise stay there for a worker. Use a database of your own.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

from _foundation import setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--groups", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    setup_django()
    from django.db import connection, transaction

    from helpline.customers.services import CustomerRef, customer_get_or_create_many
    from helpline.tickets.services import TicketOpenIn, ticket_open_many

    run = uuid.uuid4().hex[:6]

    def group(size: int, key: str) -> None:
        with transaction.atomic():
            refs = [
                CustomerRef(email=f"open-{run}-{key}-{i}@x.test", name="P") for i in range(size)
            ]
            found = customer_get_or_create_many(refs=refs)
            ticket_open_many(
                items=[
                    TicketOpenIn(
                        customer=customer,
                        channel="web",
                        subject="Order late",
                        body_text="Where is my parcel NW-0001?",
                    )
                    for customer, _ in found
                ]
            )

    print(f"database: {connection.vendor}; load average {os.getloadavg()[0]:.2f}")
    for size in args.groups:
        for k in range(5):
            group(size, f"w{size}-{k}")
        count = max(1, args.tickets // size)
        started = time.process_time()
        for k in range(count):
            group(size, f"{size}-{k}")
        cpu = time.process_time() - started
        print(f"groups of {size}: {cpu * 1000 / (count * size):.2f} ms Python CPU per ticket "
              f"({count * size} tickets)")


if __name__ == "__main__":
    main()
