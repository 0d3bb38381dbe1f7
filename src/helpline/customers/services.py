"""Writes for customers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from helpline.accounts.models import User
from helpline.core.bulk import insert_rows
from helpline.core.errors import Conflict, ValidationError
from helpline.customers.choices import Channel, IdentityKind, OrderStatus
from helpline.customers.models import (
    Customer,
    CustomerLogin,
    CustomerNote,
    Identity,
    Order,
    Organisation,
)

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def identity_normalize(*, kind: str, value: str) -> str:
    """Canonical form of an identity, so one address never becomes two customers."""
    value = value.strip()
    if kind == IdentityKind.EMAIL:
        value = value.lower()
        if not _EMAIL_RE.match(value) or len(value) > 320:
            raise ValidationError(f"{value!r} is not a valid email address.", field="email")
        return value
    if kind == IdentityKind.PHONE:
        digits = re.sub(r"[^\d+]", "", value)
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        if len(re.sub(r"\D", "", digits)) < 5:
            raise ValidationError(f"{value!r} is not a valid phone number.", field="phone")
        return digits
    if kind == IdentityKind.SOCIAL:
        return value.lower()
    if not value:
        raise ValidationError("An identity needs a value.", field="value")
    return value


@dataclass(frozen=True)
class CustomerRef:
    """How a caller names a customer: any of these, the first known one wins."""

    email: str | None = None
    phone: str | None = None
    name: str | None = None
    chat_visitor: str | None = None
    social_handle: str | None = None

    def identities(self) -> list[tuple[str, str]]:
        pairs = [
            (IdentityKind.EMAIL, self.email),
            (IdentityKind.PHONE, self.phone),
            (IdentityKind.CHAT, self.chat_visitor),
            (IdentityKind.SOCIAL, self.social_handle),
        ]
        return [(str(k), identity_normalize(kind=k, value=v)) for k, v in pairs if v]


def customer_create(
    *,
    name: str = "",
    organisation: Organisation | None = None,
    attributes: dict[str, Any] | None = None,
    language: str = "",
    preferred_channel: str = "",
    identities: list[tuple[str, str]] | None = None,
) -> Customer:
    if preferred_channel and preferred_channel not in Channel.values:
        raise ValidationError(f"Unknown channel {preferred_channel!r}.", field="preferred_channel")
    pairs = [(k, identity_normalize(kind=k, value=v)) for k, v in identities or []]
    with transaction.atomic():
        customer = Customer.objects.create(
            name=name.strip(),
            organisation=organisation,
            attributes=attributes or {},
            language=language,
            preferred_channel=preferred_channel,
        )
        for index, (kind, value) in enumerate(pairs):
            identity_add(customer=customer, kind=kind, value=value, is_primary=index == 0)
    return customer


def identity_add(
    *, customer: Customer, kind: str, value: str, is_primary: bool = False
) -> Identity:
    if kind not in IdentityKind.values:
        raise ValidationError(f"Unknown identity kind {kind!r}.", field="kind")
    value = identity_normalize(kind=kind, value=value)
    existing = Identity.objects.filter(kind=kind, value=value).first()
    if existing is not None:
        if existing.customer_id != customer.pk:
            raise Conflict(f"{kind} {value} already belongs to another customer.", field=kind)
        return existing
    try:
        with transaction.atomic():
            return Identity.objects.create(
                customer=customer, kind=kind, value=value, is_primary=is_primary
            )
    except IntegrityError as exc:
        raise Conflict(f"{kind} {value} already belongs to another customer.", field=kind) from exc


def customer_get_or_create(*, ref: CustomerRef) -> tuple[Customer, bool]:
    """Find the customer behind any identity in ``ref``, or create one with all of them.

    Safe under concurrency: two deliveries racing to create the same address end with one
    customer, because the identity's unique constraint decides the winner. A new customer costs
    one lookup, one savepoint and two inserts.
    """
    pairs = ref.identities()
    if not pairs:
        raise ValidationError("A customer needs an email, phone, chat or social identity.")
    found = _customer_for(pairs, ref)
    if found is not None:
        return found, False
    try:
        with transaction.atomic():  # a lost race rolls back to here, not the caller's transaction
            customer = Customer.objects.create(name=(ref.name or "").strip())
            Identity.objects.bulk_create(
                [
                    Identity(customer=customer, kind=kind, value=value, is_primary=index == 0)
                    for index, (kind, value) in enumerate(pairs)
                ]
            )
            return customer, True
    except IntegrityError:
        # Lost a race with another delivery for one of these identities: use the winner's record.
        found = _customer_for(pairs, ref)
        if found is None:
            raise
        return found, False


def customer_get_or_create_many(*, refs: Sequence[CustomerRef]) -> list[tuple[Customer, bool]]:
    """``customer_get_or_create`` for many refs at once; results are in the order of ``refs``.

    One query finds every known identity, and the new customers and their identities are two
    multi-row inserts, whatever the number of refs. Refs that share an identity get the same
    customer (``created`` is true for the first of them only). A ref without any identity
    raises ValidationError before anything is written (validate each alone with
    ``ref.identities()`` to answer its sender). Safe under concurrency: if another writer
    creates one of these identities meanwhile, the new customers are rolled back and each
    unknown ref is resolved alone, exactly as ``customer_get_or_create`` does.
    """
    wanted = [ref.identities() for ref in refs]
    for pairs in wanted:
        if not pairs:
            raise ValidationError("A customer needs an email, phone, chat or social identity.")
    known = _identities_known({pair for pairs in wanted for pair in pairs})
    results: list[tuple[Customer, bool] | None] = [None] * len(refs)
    unknown: list[int] = []
    for index, (ref, pairs) in enumerate(zip(refs, wanted, strict=True)):
        if any(pair in known for pair in pairs):
            # Rare paths (a merged customer, a second identity to attach, a name to fill) go
            # through the one-at-a-time service; the usual case costs nothing more here.
            first = next(known[pair] for pair in pairs if pair in known)
            simple = (
                len(pairs) == 1
                and first.customer.merged_into_id is None
                and (first.customer.name or not ref.name)
            )
            results[index] = (
                (first.customer, False) if simple else customer_get_or_create(ref=ref)
            )
        else:
            unknown.append(index)
    if unknown:
        created = _customers_create_many(refs, wanted, unknown)
        for index, result in zip(unknown, created, strict=True):
            results[index] = result
    return [result for result in results if result is not None]


def _identities_known(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Identity]:
    by_kind: dict[str, list[str]] = {}
    for kind, value in pairs:
        by_kind.setdefault(kind, []).append(value)
    query = Q()
    for kind, values in by_kind.items():
        query |= Q(kind=kind, value__in=values)
    return {
        (identity.kind, identity.value): identity
        for identity in Identity.objects.select_related("customer").filter(query)
    }


def _customers_create_many(
    refs: Sequence[CustomerRef], wanted: list[list[tuple[str, str]]], indexes: list[int]
) -> list[tuple[Customer, bool]]:
    """New customers for refs none of whose identities is known, refs sharing an identity
    grouped into one customer."""
    owner: dict[tuple[str, str], int] = {}  # identity -> group
    groups: list[list[int]] = []  # group -> its refs, in order
    for index in indexes:
        group = next((owner[pair] for pair in wanted[index] if pair in owner), None)
        if group is None:
            group = len(groups)
            groups.append([])
        groups[group].append(index)
        for pair in wanted[index]:
            owner.setdefault(pair, group)
    customers = [
        Customer(name=next(((refs[i].name or "").strip() for i in members if refs[i].name), ""))
        for members in groups
    ]
    try:
        with transaction.atomic():
            insert_rows(customers)
            insert_rows(
                [
                    Identity(
                        customer=customers[group],
                        kind=pair[0],
                        value=pair[1],
                        is_primary=pair == wanted[groups[group][0]][0],
                    )
                    for pair, group in owner.items()
                ]
            )
    except IntegrityError:
        # Another writer created one of these identities meanwhile: resolve each ref alone.
        return [customer_get_or_create(ref=refs[index]) for index in indexes]
    by_index = {
        index: (customers[group], position == 0)  # created: the group's first ref only
        for group, members in enumerate(groups)
        for position, index in enumerate(members)
    }
    return [by_index[index] for index in indexes]


def _customer_for(pairs: list[tuple[str, str]], ref: CustomerRef) -> Customer | None:
    """The customer owning the first known identity of ``pairs`` (merges followed), with the
    other identities attached when free; None when no identity is known. One query for the
    usual single identity."""
    if len(pairs) == 1:
        kind, value = pairs[0]
        known = list(
            Identity.objects.select_related("customer").filter(kind=kind, value=value)[:1]
        )
    else:
        query = Q()
        for kind, value in pairs:
            query |= Q(kind=kind, value=value)
        by_pair = {
            (i.kind, i.value): i for i in Identity.objects.select_related("customer").filter(query)
        }
        known = [by_pair[pair] for pair in pairs if pair in by_pair][:1]
    if not known:
        return None
    customer = customer_surviving(known[0].customer)
    for other_kind, other_value in pairs:
        if (other_kind, other_value) != (known[0].kind, known[0].value):
            _attach_if_free(customer, other_kind, other_value)
    if ref.name and not customer.name:
        Customer.objects.filter(pk=customer.pk).update(name=ref.name.strip())
        customer.name = ref.name.strip()
    return customer


def _attach_if_free(customer: Customer, kind: str, value: str) -> None:
    if not Identity.objects.filter(kind=kind, value=value).exists():
        try:
            with transaction.atomic():
                Identity.objects.create(customer=customer, kind=kind, value=value)
        except IntegrityError:
            pass  # attached by a concurrent request; either owner is a valid outcome


def customer_surviving(customer: Customer) -> Customer:
    """The record ``customer`` was merged into (through any chain of merges), or itself."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


_UPDATABLE = ("name", "attributes", "language", "preferred_channel", "organisation")


def customer_update(*, customer: Customer, **changes: Any) -> Customer:
    unknown = set(changes) - set(_UPDATABLE)
    if unknown:
        raise ValidationError(f"Cannot update {', '.join(sorted(unknown))}.")
    if "preferred_channel" in changes and changes["preferred_channel"] not in ("", *Channel.values):
        raise ValidationError("Unknown channel.", field="preferred_channel")
    for field, value in changes.items():
        setattr(customer, field, value)
    customer.save(update_fields=[*changes, "updated_at"])
    return customer


def customer_merge(*, source: Customer, target: Customer) -> Customer:
    """Move identities, tickets, orders and notes from ``source`` to ``target``.

    ``source`` stays as an empty record pointing at ``target`` so old links still resolve.
    """
    if source.pk == target.pk:
        raise ValidationError("Cannot merge a customer into itself.")
    if target.merged_into_id is not None:
        raise ValidationError("Cannot merge into a customer that was itself merged.")
    with transaction.atomic():
        Identity.objects.filter(customer=source).update(is_primary=False)
        # Every row that points at a customer (identities, orders, notes, and tickets or chat
        # sessions of higher apps) moves, found through the model's reverse relations so this
        # app does not import the apps above it.
        for relation in Customer._meta.related_objects:
            if relation.one_to_many and relation.related_model is not Customer:
                model = relation.related_model
                field = relation.field.name
                model._default_manager.filter(**{field: source}).update(**{field: target})
        # The sign-in (one per customer) goes with them unless the target has its own; then
        # the source's is switched off (its address still moved as an identity above).
        if CustomerLogin.objects.filter(customer=target).exists():
            CustomerLogin.objects.filter(customer=source).update(is_active=False)
        else:
            CustomerLogin.objects.filter(customer=source).update(customer=target)
        merged_attributes = {**source.attributes, **target.attributes}
        Customer.objects.filter(pk=target.pk).update(
            attributes=merged_attributes,
            name=target.name or source.name,
            organisation=target.organisation or source.organisation,
        )
        Customer.objects.filter(pk=source.pk).update(merged_into=target)
    target.refresh_from_db()
    return target


def order_add(
    *,
    customer: Customer,
    reference: str,
    product: str,
    amount: Decimal,
    ordered_at: datetime,
    currency: str = "EUR",
    status: str = OrderStatus.PAID,
) -> Order:
    if status not in OrderStatus.values:
        raise ValidationError(f"Unknown order status {status!r}.", field="status")
    return Order.objects.create(
        customer=customer,
        reference=reference,
        product=product,
        amount=amount,
        currency=currency,
        ordered_at=ordered_at,
        status=status,
    )


def customer_note_add(*, customer: Customer, author: User | None, body: str) -> CustomerNote:
    body = body.strip()
    if not body:
        raise ValidationError("A note cannot be empty.", field="body")
    return CustomerNote.objects.create(customer=customer, author=author, body=body)
