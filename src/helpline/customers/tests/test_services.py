from __future__ import annotations

import threading

import pytest
from django.db import connection

from helpline.core.errors import Conflict, ValidationError
from helpline.customers.models import Customer, Identity
from helpline.customers.services import (
    CustomerRef,
    customer_get_or_create,
    identity_add,
    identity_normalize,
)
from helpline.customers.tests.factories import CustomerFactory


def test_identity_normalisation():
    assert identity_normalize(kind="email", value=" Ann@Example.COM ") == "ann@example.com"
    assert identity_normalize(kind="phone", value="0044 (20) 7946-0000") == "+442079460000"
    with pytest.raises(ValidationError):
        identity_normalize(kind="email", value="nope")
    with pytest.raises(ValidationError):
        identity_normalize(kind="phone", value="12")


@pytest.mark.django_db
def test_get_or_create_finds_by_any_identity_and_attaches_new_ones():
    first, created = customer_get_or_create(ref=CustomerRef(email="ann@example.com", name="Ann"))
    assert created
    again, created_again = customer_get_or_create(
        ref=CustomerRef(email="ANN@example.com", phone="+44 20 7946 0000")
    )
    assert not created_again
    assert again.pk == first.pk
    assert set(again.identities.values_list("kind", flat=True)) == {"email", "phone"}
    by_phone, _ = customer_get_or_create(ref=CustomerRef(phone="+442079460000"))
    assert by_phone.pk == first.pk


@pytest.mark.django_db
def test_identity_belongs_to_one_customer_only():
    ann = CustomerFactory(email="ann@example.com")
    bob = CustomerFactory(email="bob@example.com")
    with pytest.raises(Conflict):
        identity_add(customer=bob, kind="email", value="ANN@example.com")
    assert Identity.objects.get(value="ann@example.com").customer_id == ann.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_contacts_create_one_customer():
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database for real concurrency")
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def contact() -> None:
        try:
            barrier.wait()
            customer, _ = customer_get_or_create(ref=CustomerRef(email="race@example.com"))
            results.append(customer.pk)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=contact) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1
    assert Identity.objects.filter(value="race@example.com").count() == 1
    assert Customer.objects.count() == 1
