"""Customers sign in on their own (customers/auth.py), apart from staff accounts."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from helpline.accounts.tests.factories import PASSWORD as STAFF_PASSWORD
from helpline.core.errors import ValidationError
from helpline.customers.auth import (
    SESSION_KEY,
    customer_authenticate,
    customer_from_session,
    customer_login_set,
    customer_session_login,
    customer_session_logout,
)
from helpline.customers.models import CustomerLogin, Identity
from helpline.customers.services import customer_merge
from helpline.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
SECRET = "lantern-orbit-71"


def test_a_customer_signs_in_with_their_own_address_and_password():
    ada = CustomerFactory(email="ada@example.com")
    login = customer_login_set(customer=ada, email=" Ada@Example.com ", password=SECRET)

    assert login.email == "ada@example.com" and SECRET not in login.password
    assert customer_authenticate(email="ADA@example.com", password=SECRET) == ada
    assert customer_authenticate(email="ada@example.com", password="wrong-password") is None
    assert customer_authenticate(email="nobody@example.com", password=SECRET) is None
    assert customer_authenticate(email="not an address", password=SECRET) is None
    login.refresh_from_db()
    assert login.last_login_at is not None


def test_only_an_address_of_their_own_and_a_good_password():
    ada = CustomerFactory(email="ada@example.com")
    CustomerFactory(email="bob@example.com")
    with pytest.raises(ValidationError) as other:
        customer_login_set(customer=ada, email="bob@example.com", password=SECRET)
    assert other.value.field == "email"
    with pytest.raises(ValidationError) as weak:
        customer_login_set(customer=ada, email="ada@example.com", password="password")
    assert weak.value.field == "password" and "too common" in weak.value.message
    assert not CustomerLogin.objects.exists()


def test_a_switched_off_sign_in_is_refused():
    ada = CustomerFactory(email="ada@example.com")
    customer_login_set(customer=ada, email="ada@example.com", password=SECRET)
    CustomerLogin.objects.update(is_active=False)
    assert customer_authenticate(email="ada@example.com", password=SECRET) is None


def test_customers_and_staff_never_sign_in_as_each_other(agent):
    ada = CustomerFactory(email="ada@example.com")
    customer_login_set(customer=ada, email="ada@example.com", password=SECRET)
    # Staff authentication does not know customer logins, and the reverse.
    assert authenticate(email="ada@example.com", password=SECRET) is None
    assert customer_authenticate(email=agent.email, password=STAFF_PASSWORD) is None
    # A customer's session is not signed in to the agent UI.
    browser = Client()
    session = browser.session
    session[SESSION_KEY] = ada.pk
    session.save()
    assert browser.get("/").status_code == 302  # to the staff sign-in page
    assert browser.get("/api/v1/me").status_code == 401


def test_the_session_holds_the_customer_and_a_new_key():
    ada = CustomerFactory(email="ada@example.com")
    customer_login_set(customer=ada, email="ada@example.com", password=SECRET)
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session.save()
    before = request.session.session_key

    customer_session_login(request, ada)

    assert request.session.session_key != before  # no fixation
    assert customer_from_session(request) == ada
    customer_session_logout(request)
    assert customer_from_session(request) is None


def test_merging_customers_carries_the_sign_in():
    old = CustomerFactory(email="ada@old.example")
    new = CustomerFactory(email="ada@new.example")
    customer_login_set(customer=old, email="ada@old.example", password=SECRET)

    customer_merge(source=old, target=new)

    assert customer_authenticate(email="ada@old.example", password=SECRET) == new
    assert Identity.objects.get(value="ada@old.example").customer == new


def test_when_both_had_one_the_targets_stays():
    old = CustomerFactory(email="ada@old.example")
    new = CustomerFactory(email="ada@new.example")
    customer_login_set(customer=old, email="ada@old.example", password=SECRET)
    customer_login_set(customer=new, email="ada@new.example", password="other-" + SECRET)

    customer_merge(source=old, target=new)

    assert customer_authenticate(email="ada@old.example", password=SECRET) is None
    assert customer_authenticate(email="ada@new.example", password="other-" + SECRET) == new
