"""Customers and everything known about them: identities per channel, orders, notes."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from helpline.customers.choices import Channel, IdentityKind, OrderStatus


class Organisation(models.Model):
    """A company whose people write to us; ``domain`` matches new customers by email."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True, db_index=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """One person, however many addresses, numbers and handles they write from.

    ``merged_into`` is set when this record was merged into another; merged records keep no
    identities, tickets or orders of their own.
    """

    name = models.CharField(max_length=200, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    attributes = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, blank=True)
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return self.name or f"Customer {self.pk}"


class Identity(models.Model):
    """A way to reach a customer. ``value`` is normalised (lower-cased email, E.164-ish phone)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=10, choices=IdentityKind.choices)
    value = models.CharField(max_length=320)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_per_kind"),
        ]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Order(models.Model):
    """A purchase, so an agent (and a macro) can say "your order #A-1042 of the Kettle"."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    reference = models.CharField(max_length=64)
    product = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    ordered_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=OrderStatus.choices, default=OrderStatus.PAID)

    class Meta:
        ordering = ("-ordered_at",)
        indexes = [models.Index(fields=["customer", "-ordered_at"], name="order_customer_recent")]

    def __str__(self) -> str:
        return self.reference


class CustomerNote(models.Model):
    """An agent's private note about a customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.body[:50]


class CustomerLogin(models.Model):
    """A customer's own sign-in, apart from staff accounts (``accounts.User``): one of the
    customer's email addresses and a password hash. Staff authentication never reads this
    table and customer authentication never reads the staff one; the portal (a later issue)
    signs customers in with it."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="login")
    email = models.EmailField(max_length=254, unique=True)  # lower-cased
    password = models.CharField(max_length=128)  # Django's hasher format, never the password
    is_active = models.BooleanField(default=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email
