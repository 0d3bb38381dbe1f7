from __future__ import annotations

from decimal import Decimal

import pytest

from helpline.api.tests.helpers import get, patch, post, snapshot
from helpline.customers.models import Customer
from helpline.customers.services import customer_merge, identity_add
from helpline.customers.tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_create_customer_with_identities(api):
    response = post(
        api,
        "/customers",
        {
            "name": "Grace Hopper",
            "email": "Grace@Navy.example",
            "phone": "0044 20 7946 0000",
            "identities": [{"kind": "social", "value": "@AmazingGrace"}],
            "language": "en",
            "preferred_channel": "email",
            "attributes": {"plan": "pro"},
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "Grace Hopper"
    assert data["preferred_channel"] == "email"
    assert data["attributes"] == {"plan": "pro"}
    assert data["orders"] == []
    identities = [(i["kind"], i["value"], i["is_primary"]) for i in data["identities"]]
    assert identities == [
        ("email", "grace@navy.example", True),
        ("phone", "+442079460000", False),
        ("social", "@amazinggrace", False),
    ]


def test_an_email_owned_by_another_customer_is_a_409_and_writes_nothing(api):
    CustomerFactory(email="taken@example.com")
    before = snapshot()
    response = post(api, "/customers", {"name": "Copycat", "email": "TAKEN@example.com"})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["field"] == "email"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"preferred_channel": "fax"}, "preferred_channel"),
        ({"language": "x" * 11}, "language"),
        ({"name": "x" * 201}, "name"),
        ({"identities": [{"kind": "pager", "value": "1"}]}, "identities[0].kind"),
        ({"attributes": ["not", "an", "object"]}, "attributes"),
        ({"nickname": "G"}, "nickname"),
        # the second identity is bad, so the first one must not be kept either
        ({"email": "ok@example.com", "phone": "12"}, "phone"),
    ],
)
def test_bad_customer_input_is_a_422_naming_the_field_and_writes_nothing(api, body, field):
    before = snapshot()
    response = post(api, "/customers", body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert snapshot() == before


def test_lookup_by_email_is_exact_and_normalised(api):
    ada = CustomerFactory(email="ada@example.com")
    CustomerFactory(email="ada.other@example.com")

    items = get(api, "/customers", email="  ADA@example.com ").json()["items"]
    assert [c["id"] for c in items] == [ada.pk]
    assert items[0]["identities"][0]["value"] == "ada@example.com"
    assert get(api, "/customers", email="nobody@example.com").json() == {
        "items": [],
        "next_cursor": None,
    }


def test_lookup_by_email_and_phone_must_name_the_same_customer(api):
    ada = CustomerFactory(email="ada@example.com")
    identity_add(customer=ada, kind="phone", value="+44 1234 5678")
    CustomerFactory(email="bob@example.com")
    both = get(api, "/customers", email="ada@example.com", phone="+4412345678").json()["items"]
    assert [c["id"] for c in both] == [ada.pk]
    mixed = get(api, "/customers", email="bob@example.com", phone="+4412345678").json()
    assert mixed["items"] == []


def test_lookup_with_a_malformed_email_names_the_field(api):
    response = get(api, "/customers", email="not an email")
    assert response.status_code == 422
    assert response.json()["field"] == "email"


def test_list_search_and_pagination(api):
    customers = [CustomerFactory(name=f"Person {i}") for i in range(5)]
    CustomerFactory(name="Zelda Fitzgerald")

    page = get(api, "/customers", limit=4).json()
    rest = get(api, "/customers", limit=4, cursor=page["next_cursor"]).json()
    ids = [c["id"] for c in page["items"] + rest["items"]]
    assert len(ids) == 6 == len(set(ids))
    assert ids == sorted(ids, reverse=True)
    assert rest["next_cursor"] is None

    found = get(api, "/customers", q="zelda").json()["items"]
    assert [c["name"] for c in found] == ["Zelda Fitzgerald"]
    assert customers[0].pk in ids


def test_merged_customers_are_not_listed(api):
    source, target = CustomerFactory(), CustomerFactory()
    customer_merge(source=source, target=target)
    ids = [c["id"] for c in get(api, "/customers").json()["items"]]
    assert source.pk not in ids
    assert target.pk in ids


def test_detail_has_identities_and_orders_newest_first(api):
    customer = CustomerFactory(email="buyer@example.com")
    older = OrderFactory(customer=customer, reference="A-1", amount=Decimal("10.00"))
    newer = OrderFactory(customer=customer, reference="A-2", product="Toaster")
    type(older).objects.filter(pk=older.pk).update(ordered_at=newer.ordered_at.replace(year=2020))

    data = get(api, f"/customers/{customer.pk}").json()

    assert [o["reference"] for o in data["orders"]] == ["A-2", "A-1"]
    assert data["orders"][1]["amount"] in ("10.00", 10.0, "10")
    assert data["orders"][0]["product"] == "Toaster"
    assert [i["value"] for i in data["identities"]] == ["buyer@example.com"]


def test_missing_customer_is_a_404(api):
    response = get(api, "/customers/987654321")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Customer not found."}


def test_patch_customer(api):
    customer = CustomerFactory(name="Old Name")
    response = patch(
        api,
        f"/customers/{customer.pk}",
        {"name": " New Name ", "language": "fr", "attributes": {"vip": True}},
    )
    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert customer.name == "New Name"
    assert customer.language == "fr"
    assert customer.attributes == {"vip": True}
    assert response.json()["name"] == "New Name"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preferred_channel": "fax"}, "preferred_channel"),
        ({"name": None}, "name"),
        ({"language": "x" * 20}, "language"),
        ({"merged_into_id": 1}, "merged_into_id"),
    ],
)
def test_bad_customer_patch_is_a_422_and_changes_nothing(api, body, field):
    customer = CustomerFactory(name="Keep Me")
    before = snapshot()
    response = patch(api, f"/customers/{customer.pk}", {"language": "de", **body})
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert snapshot() == before


def test_patching_a_merged_customer_is_a_409(api):
    source, target = CustomerFactory(), CustomerFactory()
    customer_merge(source=source, target=target)
    response = patch(api, f"/customers/{source.pk}", {"name": "x"})
    assert response.status_code == 409
    assert str(target.pk) in response.json()["message"]
    assert Customer.objects.get(pk=source.pk).name != "x"


def test_patch_preferred_channel_null_clears_it(api):
    customer = CustomerFactory(preferred_channel="chat")
    data = patch(api, f"/customers/{customer.pk}", {"preferred_channel": None}).json()
    assert data["preferred_channel"] is None
    customer.refresh_from_db()
    assert customer.preferred_channel == ""
