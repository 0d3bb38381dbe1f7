"""Customers sign in on their own: a password per customer (``CustomerLogin``) and a session key
of their own, so a customer's session is never an agent's and an agent's never a customer's.

The portal (a later issue) builds its pages on these. Staff sign-in (``django.contrib.auth``
with ``accounts.User``) does not read customer logins, and nothing here touches
``request.user``.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest

from helpline.core import clock
from helpline.core.errors import ValidationError
from helpline.customers.choices import IdentityKind
from helpline.customers.models import Customer, CustomerLogin, Identity
from helpline.customers.services import customer_surviving, identity_normalize

SESSION_KEY = "helpline_customer_id"


def customer_login_set(*, customer: Customer, email: str, password: str) -> CustomerLogin:
    """Give ``customer`` a sign-in (or a new password) with one of their own email addresses."""
    address = identity_normalize(kind=IdentityKind.EMAIL, value=email)
    if not Identity.objects.filter(
        customer=customer, kind=IdentityKind.EMAIL, value=address
    ).exists():
        raise ValidationError(
            "A customer signs in with one of their own email addresses.", field="email"
        )
    try:
        validate_password(password)
    except DjangoValidationError as exc:
        raise ValidationError(" ".join(exc.messages), field="password") from exc
    login, _ = CustomerLogin.objects.update_or_create(  # atomic by itself
        customer=customer,
        defaults={"email": address, "password": make_password(password), "is_active": True},
    )
    return login


def customer_authenticate(*, email: str, password: str) -> Customer | None:
    """The customer whose active sign-in matches, or None. Unknown addresses cost the same
    password check as known ones (no timing hint of who has an account)."""
    try:
        address = identity_normalize(kind=IdentityKind.EMAIL, value=email)
    except ValidationError:
        address = ""  # no such sign-in; still the same work below
    login = (
        CustomerLogin.objects.select_related("customer")
        .filter(email=address, is_active=True)
        .first()
    )
    if login is None:
        make_password(password)  # the same work as a real check
        return None

    def upgrade(raw: str) -> None:  # a hash from an older hasher is replaced on success
        CustomerLogin.objects.filter(pk=login.pk).update(password=make_password(raw))

    if not check_password(password, login.password, setter=upgrade):
        return None
    CustomerLogin.objects.filter(pk=login.pk).update(last_login_at=clock.now())
    return customer_surviving(login.customer)  # signed in to a record merged since


def customer_session_login(request: HttpRequest, customer: Customer) -> None:
    """Sign ``customer`` in on this session (a new session key, against fixation)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = customer.pk


def customer_session_logout(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def customer_from_session(request: HttpRequest) -> Customer | None:
    """The signed-in customer of this session, if their sign-in is still active."""
    pk = request.session.get(SESSION_KEY)
    if not isinstance(pk, int):
        return None
    return Customer.objects.filter(pk=pk, login__is_active=True).first()
