from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from helpline.customers.models import CustomerNote
from helpline.customers.services import customer_merge, order_add
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.tests.factories import make_ticket
from helpline.web.tests.conftest import HX
from helpline.web.views import customers as customer_views

pytestmark = pytest.mark.django_db


def test_customer_list_searches_name_and_identity(agent_client):
    maria = CustomerFactory(name="Maria Lopez", email="maria@shop.test")
    CustomerFactory(name="John Smith", email="john@shop.test")

    html = agent_client.get(reverse("web:customer_list"), {"q": "lopez"}).content.decode()
    assert "Maria Lopez" in html and "John Smith" not in html
    html = agent_client.get(reverse("web:customer_list"), {"q": "MARIA@shop"}).content.decode()
    assert reverse("web:customer_detail", args=[maria.pk]) in html
    assert "John Smith" not in html

    fragment = agent_client.get(reverse("web:customer_list"), {"q": "john"}, headers=HX)
    assert b"<html" not in fragment.content and b"John Smith" in fragment.content


def test_customer_list_pages_by_id_with_constant_queries(agent_client, monkeypatch):
    monkeypatch.setattr(customer_views, "PAGE_SIZE", 4)
    customers = [CustomerFactory(name=f"Person {i:02d}") for i in range(10)]
    response = agent_client.get(reverse("web:customer_list"))
    html = response.content.decode()
    assert "Person 09" in html and "Person 05" not in html
    cursor = response.context["page"].next_cursor
    with CaptureQueriesContext(connection) as ctx:
        html = agent_client.get(reverse("web:customer_list"), {"cursor": cursor}).content.decode()
    assert "Person 05" in html and "Person 09" not in html and "Person 01" not in html
    # session, user, customers, identities; the presence switch (rendered with every page
    # instead of fetched by a request of its own after it)
    assert len(ctx.captured_queries) <= 5
    assert len(customers) == 10


def test_customer_page_shows_identities_orders_and_only_visible_tickets(
    restricted_client, team_a, team_b
):
    customer = CustomerFactory(name="Maria Lopez", email="maria@shop.test")
    order_add(
        customer=customer,
        reference="A-1042",
        product="Kettle",
        amount=Decimal("49.90"),
        ordered_at=timezone.now(),
    )
    make_ticket(customer=customer, team=team_a, subject="Visible question")
    make_ticket(customer=customer, team=team_b, subject="Hidden matter")

    url = reverse("web:customer_detail", args=[customer.pk])
    html = restricted_client.get(url).content.decode()

    assert "maria@shop.test" in html
    assert "A-1042" in html
    assert "Visible question" in html
    assert "Hidden matter" not in html


def test_merged_or_missing_customer_is_404(agent_client):
    source, target = CustomerFactory(), CustomerFactory()
    customer_merge(source=source, target=target)
    assert agent_client.get(reverse("web:customer_detail", args=[source.pk])).status_code == 404
    assert agent_client.get(reverse("web:customer_detail", args=[999999])).status_code == 404


def test_customer_note_is_added_through_the_service(agent_client, agent):
    customer = CustomerFactory()
    url = reverse("web:customer_detail", args=[customer.pk])
    assert agent_client.post(url, {"body": "  "}).status_code == 422
    response = agent_client.post(url, {"body": "Call after 5pm"})
    assert response.status_code == 302
    note = CustomerNote.objects.get(customer=customer)
    assert (note.author, note.body) == (agent, "Call after 5pm")
    assert "Call after 5pm" in agent_client.get(url).content.decode()


def test_customer_page_query_count_does_not_grow_with_tickets_and_orders(
    agent_client, team_a, django_assert_max_num_queries
):
    customer = CustomerFactory()
    url = reverse("web:customer_detail", args=[customer.pk])

    def grow(n: int) -> int:
        for i in range(n):
            make_ticket(customer=customer, team=team_a, tags=["x"])
            order_add(customer=customer, reference=f"R-{customer.pk}-{i}-{n}", product="Mug",
                      amount=Decimal("5.00"), ordered_at=timezone.now())
        with CaptureQueriesContext(connection) as ctx:
            assert agent_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    # The first request of an agent records her activity (routing presence); warm it up so
    # the counts compare pages, not that once-a-minute write.
    agent_client.get(url)
    assert grow(3) == grow(20)
    with django_assert_max_num_queries(10):
        agent_client.get(url)
