"""``/api/v1/customers``: look up, list, create and change customers."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from helpline.accounts.models import User
from helpline.api.auth import actor
from helpline.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from helpline.api.params import reject_unknown_params
from helpline.api.schemas import (
    CustomerCreateIn,
    CustomerDetailOut,
    CustomerPage,
    CustomerPatchIn,
)
from helpline.core.errors import Conflict, NotFound, ValidationError
from helpline.customers.choices import IdentityKind
from helpline.customers.models import Customer
from helpline.customers.selectors import (
    customer_detail_queryset,
    customer_get_by_identity,
    customer_list,
)
from helpline.customers.services import customer_create, customer_update
from helpline.tickets.permissions import customer_visible_to

router = Router(tags=["customers"])


class CustomerListParams(Schema):
    email: str | None = Field(None, max_length=320, description="Exact lookup by email address.")
    phone: str | None = Field(None, max_length=64, description="Exact lookup by phone number.")
    q: str | None = Field(None, max_length=200, description="Search in names and identities.")
    cursor: str | None = Field(None, max_length=512)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def _list_queryset(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    return queryset.select_related("organisation").prefetch_related("identities")


def _customer(customer_id: int, *, user: User | None = None) -> Customer:
    """The customer, if ``user`` may see them (None: the caller just created it)."""
    queryset = customer_detail_queryset()
    if user is not None:
        queryset = customer_visible_to(actor=user, queryset=queryset)
    customer = queryset.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound("Customer not found.")
    return customer


@router.get("", response=CustomerPage, summary="Look up or list customers, newest first")
def customer_list_view(
    request: HttpRequest, params: Query[CustomerListParams]
) -> dict[str, object]:
    user = actor(request)
    reject_unknown_params(request, CustomerListParams)
    lookups = [
        (IdentityKind.EMAIL, params.email),
        (IdentityKind.PHONE, params.phone),
    ]
    given = [(str(kind), value) for kind, value in lookups if value is not None]
    if given:
        # Exact lookups answer with at most one customer: the one every given identity names.
        ids = {
            found.pk if found else None
            for found in (customer_get_by_identity(kind=k, value=v) for k, v in given)
        }
        customer_id = ids.pop() if len(ids) == 1 else None
        queryset = (
            Customer.objects.filter(pk=customer_id) if customer_id else Customer.objects.none()
        )
    else:
        queryset = customer_list(query=params.q or "")
    rows, next_cursor = paginate(
        _list_queryset(customer_visible_to(actor=user, queryset=queryset)),
        cursor=params.cursor,
        limit=params.limit,
        keys=("id",),
        descending=True,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.post("", response={201: CustomerDetailOut}, summary="Create a customer")
def customer_create_view(request: HttpRequest, payload: CustomerCreateIn) -> Customer:
    actor(request)
    identities: list[tuple[str, str]] = []
    if payload.email is not None:
        identities.append((IdentityKind.EMAIL, payload.email))
    if payload.phone is not None:
        identities.append((IdentityKind.PHONE, payload.phone))
    identities.extend((str(i.kind), i.value) for i in payload.identities)
    with transaction.atomic():
        customer = customer_create(
            name=payload.name,
            attributes=payload.attributes,
            language=payload.language.strip(),
            preferred_channel=payload.preferred_channel or "",
            identities=identities,
        )
    return _customer(customer.pk)


@router.get(
    "/{int:customer_id}",
    response=CustomerDetailOut,
    summary="Read a customer with identities and orders",
)
def customer_get(request: HttpRequest, customer_id: int) -> Customer:
    return _customer(customer_id, user=actor(request))


@router.patch("/{int:customer_id}", response=CustomerDetailOut, summary="Change a customer")
def customer_patch(request: HttpRequest, customer_id: int, payload: CustomerPatchIn) -> Customer:
    customer = _customer(customer_id, user=actor(request))
    if customer.merged_into_id is not None:
        raise Conflict(
            f"This customer was merged into customer {customer.merged_into_id}; change that one."
        )
    changes = payload.model_dump(exclude_unset=True)
    for name in ("name", "language", "attributes"):
        if name in changes and changes[name] is None:
            raise ValidationError(f"{name} cannot be null.", field=name)
    if "preferred_channel" in changes:
        changes["preferred_channel"] = changes["preferred_channel"] or ""
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    with transaction.atomic():
        customer_update(customer=customer, **changes)
    return _customer(customer_id)
