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


@pytest.mark.django_db
def test_get_or_create_many_matches_one_at_a_time_in_two_inserts():
    from django.test.utils import CaptureQueriesContext

    from helpline.customers.services import customer_get_or_create_many

    known, _ = customer_get_or_create(ref=CustomerRef(email="known@example.com", name="Known"))
    refs = [
        CustomerRef(email="new1@example.com", name="New One"),
        CustomerRef(email="KNOWN@example.com"),
        CustomerRef(email="new1@example.com"),  # the same new person twice in one batch
        CustomerRef(email="new2@example.com", phone="+44 20 7946 0001"),
        CustomerRef(phone="+442079460001", name="Phone Name"),  # new2 again, by phone
    ]
    with CaptureQueriesContext(connection) as ctx:
        results = customer_get_or_create_many(refs=refs)
    writes = [q for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert len(writes) == 2  # customers, identities

    customers = [c for c, _ in results]
    assert [created for _, created in results] == [True, False, False, True, False]
    assert customers[1].pk == known.pk
    assert customers[0].pk == customers[2].pk
    assert customers[3].pk == customers[4].pk
    assert len({c.pk for c in customers}) == 3
    new1 = Customer.objects.get(pk=customers[0].pk)
    assert new1.name == "New One"
    new2 = Customer.objects.get(pk=customers[3].pk)
    assert new2.name == "Phone Name"
    assert set(new2.identities.values_list("kind", "value", "is_primary")) == {
        ("email", "new2@example.com", True),
        ("phone", "+442079460001", False),
    }
    # the same refs again find the same customers and create nothing
    again = customer_get_or_create_many(refs=refs)
    assert [c.pk for c, _ in again] == [c.pk for c in customers]
    assert not any(created for _, created in again)
    assert Customer.objects.count() == 3


@pytest.mark.django_db
def test_get_or_create_many_follows_merges_and_fills_names():
    from helpline.customers.services import customer_get_or_create_many, customer_merge

    source, _ = customer_get_or_create(ref=CustomerRef(email="old@example.com"))
    target, _ = customer_get_or_create(ref=CustomerRef(email="main@example.com"))
    customer_merge(source=source, target=target)
    nameless, _ = customer_get_or_create(ref=CustomerRef(email="nameless@example.com"))
    results = customer_get_or_create_many(
        refs=[
            CustomerRef(email="old@example.com"),
            CustomerRef(email="nameless@example.com", name="Nia"),
        ]
    )
    assert results[0][0].pk == target.pk
    assert results[1][0].pk == nameless.pk
    assert Customer.objects.get(pk=nameless.pk).name == "Nia"


@pytest.mark.django_db
def test_get_or_create_many_refuses_a_ref_without_identity_and_writes_nothing():
    from helpline.customers.services import customer_get_or_create_many

    with pytest.raises(ValidationError):
        customer_get_or_create_many(
            refs=[CustomerRef(email="fine@example.com"), CustomerRef(name="Nobody")]
        )
    assert Customer.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_with_the_same_new_address_make_one_customer():
    if connection.vendor != "postgresql":
        pytest.skip("needs a server database for real concurrency")
    from django.db import transaction

    from helpline.customers.services import customer_get_or_create_many

    results: list[list[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def batch(n: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                found = customer_get_or_create_many(
                    refs=[
                        CustomerRef(email=f"only-{n}@example.com"),
                        CustomerRef(email="shared@example.com"),
                    ]
                )
            results.append([c.pk for c, _ in found])
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=batch, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({pks[1] for pks in results}) == 1
    assert len({pks[0] for pks in results}) == 4
    assert Identity.objects.filter(value="shared@example.com").count() == 1
    assert Customer.objects.count() == 5
