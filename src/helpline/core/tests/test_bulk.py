from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from helpline.core import clock
from helpline.core.bulk import insert_rows
from helpline.core.models import OutboxEvent
from helpline.customers.models import Customer, Identity

pytestmark = pytest.mark.django_db


def test_rows_come_back_with_their_ids_in_order_and_read_as_saved():
    now = clock.now()
    rows = [
        OutboxEvent(
            topic=f"t.{n}", payload={"n": n, "text": 'é "q"'}, created_at=now, available_at=now
        )
        for n in range(450)  # more than one statement's worth of parameters
    ]
    insert_rows(rows)
    assert all(row.pk is not None and not row._state.adding for row in rows)
    assert [row.pk for row in rows] == sorted(row.pk for row in rows)
    stored = {e.pk: e for e in OutboxEvent.objects.all()}
    assert len(stored) == 450
    for row in rows:
        again = stored[row.pk]
        assert (again.topic, again.payload, again.created_at) == (row.topic, row.payload, now)
        assert again.attempts == 0 and again.failed_at is None  # model defaults written


def test_auto_now_add_and_defaults_are_filled_like_save():
    customer = insert_rows([Customer(name="Ann")])[0]
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.created_at is not None and stored.attributes == {}
    assert stored.created_at == customer.created_at


def test_a_unique_violation_raises_and_writes_nothing_of_the_statement():
    ann = Customer.objects.create(name="Ann")
    Identity.objects.create(customer=ann, kind="email", value="ann@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(
            [
                Identity(customer=ann, kind="email", value="new@example.com"),
                Identity(customer=ann, kind="email", value="ann@example.com"),
            ]
        )
    assert list(Identity.objects.values_list("value", flat=True)) == ["ann@example.com"]
