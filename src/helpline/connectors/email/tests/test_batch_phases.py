# mypy: disable-error-code="union-attr,arg-type,operator,index,misc"
"""The batch path (phases: parse all, claim all, look up together, write in bulk) gives what
one message at a time gives, on a batch that mixes every kind of mail; and it writes each
table once, whatever the number of new tickets."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpline.connectors.email import services
from helpline.connectors.email.choices import InboundStatus, Transport
from helpline.connectors.email.models import (
    AddressState,
    InboundEmail,
    OutboundEmail,
    Participant,
    ThreadRef,
)
from helpline.connectors.email.tests.factories import raw_email
from helpline.connectors.email.tests.test_ingest import DSN, SPAMMY
from helpline.customers.models import Identity
from helpline.tickets.choices import Direction
from helpline.tickets.models import Ticket


def _mixed(s: str) -> list[bytes]:
    """Every kind of mail, for run ``s`` (its own addresses and Message-IDs)."""
    d = f"{s}.test"
    return [
        # 0: a new ticket, with someone in Cc
        raw_email(
            sender=f"Ann <ann@{d}>",
            to=f"support@example.org, Carol <carol@{d}>",
            subject="Parcel lost",
            message_id=f"<m0@{d}>",
            body="Hello,\n\nmy parcel is lost.\n\nAnn\n-- \nAnn, Acme Ltd",
        ),
        # 1: another new ticket
        raw_email(sender=f"Bob <bob@{d}>", subject="Refund", message_id=f"<m1@{d}>"),
        # 2: a reply to a ticket that exists already
        raw_email(
            sender=f"Dora <dora@{d}>",
            subject="Re: Broken lid",
            message_id=f"<m2@{d}>",
            headers={"In-Reply-To": f"<root@{d}>", "References": f"<root@{d}>"},
            body="Any news?\n\nOn Mon, Dora wrote:\n> The lid is broken.",
        ),
        # 3: the first sender again: the same customer, a second ticket
        raw_email(sender=f"Ann <ann@{d}>", subject="Invoice", message_id=f"<m3@{d}>"),
        # 4: an out-of-office opening a ticket: kept, never acknowledged
        raw_email(
            sender=f"Gina <gina@{d}>",
            subject="Out of office",
            message_id=f"<m4@{d}>",
            headers={"Auto-Submitted": "auto-replied"},
        ),
        # 5: a bounce
        DSN.replace(b"ada@customer.test", f"hank@{d}".encode())
        .replace(b"<dsn1@mx.customer.test>", f"<dsn@{d}>".encode())
        .replace(b"\n", b"\r\n"),
        # 6: no usable sender at all: quarantined
        b"To: support@example.org\r\nSubject: who am I\r\nMessage-ID: <m6@"
        + d.encode()
        + b">\r\n\r\nno From header\r\n",
        # 7: a blocked domain
        raw_email(sender="pest@blocked.test", subject="Buy", message_id=f"<m7@{d}>"),
        # 8: a loop: our own address
        raw_email(sender="support@example.org", subject="loop", message_id=f"<m8@{d}>"),
        # 9: an answer to message 1, arriving in the same batch
        raw_email(
            sender=f"Bob <bob@{d}>",
            subject="Re: Refund",
            message_id=f"<m9@{d}>",
            headers={"In-Reply-To": f"<m1@{d}>"},
            body="Also: the order number is 42.",
        ),
        # 10: a stranger answering the existing ticket: a new ticket (the mailbox's policy)
        raw_email(
            sender=f"Frank <frank@{d}>",
            subject="Re: Broken lid",
            message_id=f"<m10@{d}>",
            headers={"In-Reply-To": f"<root@{d}>"},
        ),
        # 11: spam from a stranger
        raw_email(
            sender=f"deals@{d}",
            subject="FREE MONEY!!! ACT NOW",
            message_id=f"<m11@{d}>",
            body=SPAMMY,
        ),
    ]


def _run(mailbox, s: str, *, batch: bool) -> list[InboundEmail]:
    d = f"{s}.test"
    existing = services.inbound_ingest(
        raw=raw_email(
            sender=f"Dora <dora@{d}>",
            subject="Broken lid",
            message_id=f"<root@{d}>",
            body="The lid is broken.",
        ),
        transport=Transport.SMTP,
    )
    assert existing.status == InboundStatus.PROCESSED
    rows = []
    for raw in _mixed(s):
        row, created = services.inbound_store(raw=raw, transport=Transport.SMTP, mailbox=mailbox)
        assert created
        rows.append(row)
    # the same message again, by another transport: the same row
    again, created = services.inbound_store(raw=_mixed(s)[1], transport=Transport.IMAP)
    assert not created and again.pk == rows[1].pk
    if batch:
        assert services.inbound_process_batch(limit=50) == len(rows)
    else:
        for row in rows:
            services.inbound_process(inbound=row)
    assert not InboundEmail.objects.filter(status=InboundStatus.RECEIVED).exists()
    return [InboundEmail.objects.get(pk=row.pk) for row in rows]


def _snapshot(rows: list[InboundEmail], s: str) -> str:
    labels: dict[int, str] = {}
    out = []
    for row in rows:
        entry: list[object] = [row.status, row.noise, row.error.split(":")[0], row.spam_score]
        if row.ticket_id is not None:
            ticket = Ticket.objects.get(pk=row.ticket_id)
            label = labels.setdefault(ticket.pk, f"T{len(labels)}")
            meta = dict(row.message.metadata["email"])
            meta.pop("inbound_id")
            meta.pop("date")  # the factory's clock
            entry += [
                label,
                ticket.subject,
                ticket.status,
                ticket.message_count,
                Identity.objects.get(customer_id=ticket.customer_id).value,
                row.message.body_text,
                row.message.body_html,
                row.message.is_automatic,
                meta,
                sorted(Participant.objects.filter(ticket=ticket).values_list("email", flat=True)),
                [
                    (m.body_text, m.metadata, m.delivery_status)
                    for m in ticket.messages.filter(direction=Direction.OUTBOUND).order_by("id")
                ],
                sorted(ThreadRef.objects.filter(ticket=ticket).values_list("outbound", flat=True)),
                OutboundEmail.objects.filter(message__ticket=ticket).count(),
            ]
        out.append(entry)
    text = json.dumps(out, sort_keys=True, default=str).replace(s, "S")
    text = re.sub(r"#\d+", "#N", text)
    # the promise's wording depends on the minute it is made
    return re.sub(r"You will hear from us [^.\"]*", "You will hear from us ...", text)


def test_a_mixed_batch_gives_what_one_message_at_a_time_gives(mailbox, capture):
    services.block_rule_add(pattern="@blocked.test")
    alone = _run(mailbox, "one", batch=False)
    together = _run(mailbox, "bulk", batch=True)

    expected = json.loads(_snapshot(alone, "one"))
    got = json.loads(_snapshot(together, "bulk"))
    assert len(got) == len(expected)
    for n, (mine, want) in enumerate(zip(got, expected, strict=True)):
        assert mine == want, n
    # and what that is, spelled out
    statuses = [r.status for r in together]
    assert statuses == [
        "processed",
        "processed",
        "processed",
        "processed",
        "processed",
        "ignored",
        "quarantined",
        "ignored",
        "ignored",
        "processed",
        "processed",
        "spam",
    ]
    ann_tickets = {together[0].ticket_id, together[3].ticket_id}
    assert len(ann_tickets) == 2
    assert together[9].ticket_id == together[1].ticket_id  # threaded within the batch
    existing = Ticket.objects.get(
        subject="Broken lid", customer__identities__value="dora@bulk.test"
    )
    assert together[2].ticket_id == existing.pk
    assert together[10].ticket_id not in (existing.pk, None)
    assert Participant.objects.filter(ticket_id=together[0].ticket_id, email="carol@bulk.test")
    assert AddressState.objects.get(email="hank@bulk.test").bouncing
    # one customer per address, the sender twice included
    for run in ("one", "bulk"):
        assert Identity.objects.filter(value__endswith=f"@{run}.test").count() == 6
    # acknowledged: the existing ticket when it opened, and the four new tickets of people (not
    # the out-of-office); each reached the relay
    acks = OutboundEmail.objects.filter(
        message__ticket__customer__identities__value__endswith="@bulk.test"
    )
    assert acks.count() == 5
    assert len(capture.wait_for(10)) == 10  # five per run


def test_a_batch_of_new_tickets_writes_each_table_once(mailbox):
    rows = []
    for n in range(12):
        row, _ = services.inbound_store(
            raw=raw_email(sender=f"P{n} <p{n}@many.test>", message_id=f"<n{n}@many.test>"),
            transport=Transport.SMTP,
            mailbox=mailbox,
        )
        rows.append(row)
    with CaptureQueriesContext(connection) as ctx:
        assert services.inbound_process_batch(limit=50) == 12
    writes = [
        " ".join(q["sql"].replace('"', "").replace(" OR IGNORE", "").split()[:3])
        for q in ctx.captured_queries
        if q["sql"].lstrip().startswith(("INSERT", "UPDATE"))
    ]
    for table_write, times in (
        ("INSERT INTO tickets_ticket", 1),
        ("INSERT INTO tickets_message", 2),  # the customers' messages, the acknowledgements
        ("INSERT INTO tickets_ticketevent", 2),
        ("INSERT INTO customers_customer", 1),
        ("INSERT INTO customers_identity", 1),
        ("INSERT INTO email_connector_threadref", 1),
        ("INSERT INTO email_connector_outboundemail", 1),
        ("INSERT INTO email_connector_addressstate", 1),
    ):
        assert writes.count(table_write) == times, (table_write, writes)
    # the rows: claimed in one statement, their outcomes in another (after the try counted)
    assert writes.count("UPDATE email_connector_inboundemail SET") == 3, writes
    assert Ticket.objects.count() == 12
    assert OutboundEmail.objects.count() == 12


def test_a_failing_bulk_write_falls_back_to_one_at_a_time(mailbox, monkeypatch):
    """A message whose ticket cannot be written (here: its attachment's storage fails) takes
    the others' bulk write down with it; they are then written one at a time, and only it is
    quarantined."""
    from helpline.tickets import services as ticket_services

    real = ticket_services._store_attachments

    def storage_full(message, attachments):
        if any(a.filename == "huge.bin" for a in attachments):
            raise OSError("No space left on device")
        return real(message, attachments)

    monkeypatch.setattr(ticket_services, "_store_attachments", storage_full)
    rows = [
        services.inbound_store(
            raw=raw_email(
                sender=f"Q{n} <q{n}@fall.test>",
                message_id=f"<f{n}@fall.test>",
                attachments=[("huge.bin" if n == 1 else "note.txt", b"x" * 10, "text/plain")],
            ),
            transport=Transport.SMTP,
            mailbox=mailbox,
        )[0]
        for n in range(3)
    ]
    assert services.inbound_process_batch() == 3
    by_pk = {r.pk: r for r in InboundEmail.objects.all()}
    assert [by_pk[r.pk].status for r in rows] == ["processed", "quarantined", "processed"]
    assert by_pk[rows[1].pk].error.startswith("OSError: No space left")
    assert Ticket.objects.count() == 2
    assert all(by_pk[r.pk].attempts == 1 for r in rows)  # the rolled-back claim is not counted


@pytest.mark.parametrize("limit", [2, 3])
def test_acknowledgement_limits_count_repeats_within_a_batch(db, limit):
    addresses = ["a@lim.test", "b@lim.test", "a@lim.test", "a@lim.test", "b@lim.test"]
    got = services.ack_allowed_many(addresses=addresses, per_hour=limit)
    one_by_one = {"a@lim.test": 0, "b@lim.test": 0}
    expected = []
    for address in addresses:
        one_by_one[address] += 1
        expected.append(one_by_one[address] <= limit)
    assert got == expected
    assert AddressState.objects.get(email="a@lim.test").ack_count == min(3, limit)


class _Undo(Exception):
    pass


@pytest.mark.parametrize("policy", [False, True], ids=["no-due-time", "policy-due-time"])
def test_a_batch_promises_what_one_at_a_time_promises(mailbox, agent, monkeypatch, policy):
    """The acknowledgements' estimates, made for a batch at once (what the batch shares read
    once, the work ahead derived), promise what one estimate after another promises: with a
    measured reply rate, so the work ahead counts, with and without an SLA due time."""
    from datetime import UTC, datetime

    from django.db import transaction

    from helpline.core import clock
    from helpline.core.tests.clock import FakeClock
    from helpline.sla.expected import reuse_cache_clear
    from helpline.sla.models import SlaPolicy, TicketSla
    from helpline.sla.tests.factories import make_policy
    from helpline.tickets.services import reply_add
    from helpline.tickets.tests.factories import make_ticket

    fake = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", fake)
    SlaPolicy.objects.all().delete()  # the migration's defaults, when no test flushed them yet
    if policy:
        make_policy(first=240, channels=["email"])
    # An hour of agents answering email: a measured reply rate, and tickets still waiting.
    for _ in range(20):
        ticket = make_ticket(channel="email")
        fake.advance(minutes=3)
        reply_add(ticket=ticket, author=agent, body_text="answer")
    waiting = [make_ticket(channel="email") for _ in range(3)]
    assert TicketSla.objects.filter(ticket__in=waiting, reply_owed_since__isnull=False).count()

    def promised(batch: bool) -> list[tuple[datetime | None, str]]:
        reuse_cache_clear()
        with pytest.raises(_Undo), transaction.atomic():
            rows = [
                services.inbound_store(
                    raw=raw_email(sender=f"W{n} <w{n}@wait.test>", message_id=f"<w{n}@wait.test>"),
                    transport=Transport.SMTP,
                    mailbox=mailbox,
                )[0]
                for n in range(4)
            ]
            if batch:
                services.inbound_process_batch(limit=50)
            else:
                for row in rows:
                    services.inbound_process(inbound=row)
            got = []
            for row in rows:
                row.refresh_from_db()
                ack = row.ticket.messages.get(is_automatic=True)
                got.append(
                    (
                        TicketSla.objects.get(ticket_id=row.ticket_id).promised_at,
                        re.sub(r"#\d+", "#N", ack.body_text),
                    )
                )
            raise _Undo
        return got

    alone = promised(batch=False)
    together = promised(batch=True)
    assert together == alone
    if not policy:  # each ticket has one more ahead of it than the one before
        assert len({at for at, _ in alone}) > 1
