"""Merging customers moves rows of higher apps too (tickets), so this test lives above them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from helpline.core.errors import ValidationError
from helpline.customers.services import (
    CustomerRef,
    customer_get_or_create,
    customer_merge,
    order_add,
)
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.tests.factories import make_ticket


@pytest.mark.django_db(transaction=True)
def test_merge_moves_identities_tickets_and_orders():
    source = CustomerFactory(email="old@example.com")
    target = CustomerFactory(email="new@example.com")
    ticket = make_ticket(customer=source)
    order_add(
        customer=source,
        reference="A-1",
        product="Kettle",
        amount=Decimal("10"),
        ordered_at=timezone.now(),
    )

    customer_merge(source=source, target=target)

    ticket.refresh_from_db()
    assert ticket.customer_id == target.pk
    assert target.orders.count() == 1
    assert set(target.identities.values_list("value", flat=True)) == {
        "old@example.com",
        "new@example.com",
    }
    source.refresh_from_db()
    assert source.merged_into_id == target.pk
    # Writing again from the old address lands on the surviving customer.
    found, created = customer_get_or_create(ref=CustomerRef(email="old@example.com"))
    assert (found.pk, created) == (target.pk, False)
    with pytest.raises(ValidationError):
        customer_merge(source=target, target=target)
