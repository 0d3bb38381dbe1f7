"""core.bulk.insert_rows on models with auto_now_add fields and unique constraints (here,
customers: the core app has none of its own to show it)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from helpline.core.bulk import insert_rows
from helpline.customers.models import Customer, Identity

pytestmark = pytest.mark.django_db


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
