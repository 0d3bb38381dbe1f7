"""Reads for customers."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from helpline.customers.choices import IdentityKind
from helpline.customers.models import Customer, Identity, Order
from helpline.customers.services import identity_normalize


def customer_list(*, query: str = "") -> QuerySet[Customer]:
    qs = Customer.objects.filter(merged_into__isnull=True).select_related("organisation")
    query = query.strip()
    if query:
        # A sub-select, not a join: no DISTINCT, and each side can use its own trigram index.
        matching_identities = Identity.objects.filter(value__icontains=query).values("customer_id")
        qs = qs.filter(Q(name__icontains=query) | Q(pk__in=matching_identities))
    return qs.order_by("-id")


def customer_get_by_identity(*, kind: str, value: str) -> Customer | None:
    value = identity_normalize(kind=kind, value=value)
    identity = Identity.objects.select_related("customer").filter(kind=kind, value=value).first()
    return identity.customer if identity else None


def customer_get_by_email(*, email: str) -> Customer | None:
    return customer_get_by_identity(kind=IdentityKind.EMAIL, value=email)


def customer_detail_queryset() -> QuerySet[Customer]:
    return Customer.objects.select_related("organisation").prefetch_related(
        "identities",
        Prefetch("orders", queryset=Order.objects.order_by("-ordered_at")),
    )
