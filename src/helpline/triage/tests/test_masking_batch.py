"""Masking the secrets of many new messages written in one transaction: one read at the commit
for all of them, and never a readable card number, even when that read fails."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.models import Message
from helpline.tickets.services import TicketOpenIn, ticket_open_many
from helpline.tickets.tests.factories import make_ticket
from helpline.triage import handlers, services
from helpline.triage.models import PiiVault
from helpline.triage.vault import unseal

pytestmark = pytest.mark.django_db(transaction=True)

CARD = "4111 1111 1111 1111"


def items(n: int) -> list[TicketOpenIn]:
    customer = CustomerFactory()
    return [
        TicketOpenIn(
            customer=customer,
            channel="email",
            subject=f"Payment {i}",
            body_text=f"Charge my card {CARD} please." if i % 2 else "No secret here.",
        )
        for i in range(n)
    ]


@pytest.fixture
def one_by_one(monkeypatch):
    calls: list[int] = []
    real = services.message_pii_redact

    def counting(*, message_id: int) -> list[str]:
        calls.append(message_id)
        return real(message_id=message_id)

    monkeypatch.setattr(services, "message_pii_redact", counting)
    return calls


def bodies(opened) -> list[str]:
    return list(
        Message.objects.filter(pk__in=[m.pk for _, m in opened]).values_list("body_text", flat=True)
    )


def test_many_new_messages_are_masked_with_one_read_at_their_commit(settings, one_by_one):
    settings.TRIAGE_PII = "encrypt"
    with CaptureQueriesContext(connection) as queries:
        opened = ticket_open_many(items=items(6))
    assert one_by_one == []  # the per-message handler found each message read already
    texts = bodies(opened)
    assert not any(CARD in text for text in texts)
    assert sum("[card •••• 1111]" in text for text in texts) == 3
    vaults = PiiVault.objects.filter(message__in=[m for _, m in opened]).order_by("message_id")
    assert [unseal(v.ciphertext)["body_text"] for v in vaults] == [
        f"Charge my card {CARD} please."
    ] * 3
    masking_read = (
        'SELECT "tickets_message"."id", "tickets_message"."body_text", '
        '"tickets_message"."body_html" FROM "tickets_message"'
    )
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(masking_read)]
    assert len(reads) == 1, reads


def test_if_the_read_for_all_fails_each_message_is_masked_on_its_own(
    settings, monkeypatch, one_by_one
):
    settings.TRIAGE_PII = "encrypt"

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services, "messages_pii_redact", broken)
    opened = ticket_open_many(items=items(4))
    assert sorted(one_by_one) == sorted(m.pk for _, m in opened)
    assert not any(CARD in text for text in bodies(opened))


def test_a_single_new_message_is_still_masked(settings, one_by_one):
    settings.TRIAGE_PII = "drop"
    ticket = make_ticket(body_text=f"card {CARD}")
    assert CARD not in ticket.messages.get().body_text
    assert handlers._masked_ids() == set()  # nothing left over for a later message
