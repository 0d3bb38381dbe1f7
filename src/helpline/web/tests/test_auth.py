from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from helpline.accounts.tests.factories import PASSWORD, UserFactory
from helpline.web import ratelimit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        reverse("web:inbox"),
        reverse("web:ticket_detail", args=[1]),
        reverse("web:customer_list"),
        reverse("web:customer_detail", args=[1]),
    ],
)
def test_pages_require_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_sign_in_with_email_and_password_lands_in_the_inbox(client, agent):
    response = client.post(
        reverse("web:sign_in"), {"email": agent.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:inbox")
    assert client.get(reverse("web:inbox")).status_code == 200


def test_wrong_password_is_refused_with_a_message(client, agent):
    response = client.post(reverse("web:sign_in"), {"email": agent.email, "password": "nope"})
    assert response.status_code == 401
    assert b"do not match" in response.content
    assert client.get(reverse("web:inbox")).status_code == 302


def test_inactive_user_cannot_sign_in(client):
    user = UserFactory(is_active=False)
    response = client.post(reverse("web:sign_in"), {"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_failed_sign_ins_are_rate_limited_per_ip_and_email(client, agent):
    for _ in range(ratelimit.MAX_FAILURES):
        client.post(reverse("web:sign_in"), {"email": agent.email, "password": "wrong"})
    # Even the right password is refused while the pause lasts.
    response = client.post(reverse("web:sign_in"), {"email": agent.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    # Another address from the same IP is not blocked.
    other = UserFactory()
    response = client.post(reverse("web:sign_in"), {"email": other.email, "password": PASSWORD})
    assert response.status_code == 302


def test_next_is_followed_only_within_the_site(client, agent):
    data = {"email": agent.email, "password": PASSWORD}
    response = client.post(reverse("web:sign_in"), {**data, "next": "/customers/"})
    assert response["Location"] == "/customers/"
    client.logout()
    response = client.post(reverse("web:sign_in"), {**data, "next": "https://evil.test/"})
    assert response["Location"] == reverse("web:inbox")


def test_sign_in_enforces_csrf(agent):
    client = Client(enforce_csrf_checks=True)
    data = {"email": agent.email, "password": PASSWORD}
    assert client.post(reverse("web:sign_in"), data).status_code == 403
    client.get(reverse("web:sign_in"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("web:sign_in"), {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_sign_out_is_a_post(agent_client):
    assert agent_client.get(reverse("web:sign_out")).status_code == 405
    response = agent_client.post(reverse("web:sign_out"))
    assert response.status_code == 302
    assert agent_client.get(reverse("web:inbox")).status_code == 302


def test_admin_stays_at_admin_for_admins_only(client, admin_user, agent):
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
    client.force_login(agent)
    assert client.get("/admin/").status_code == 302


def test_sidebar_shows_admin_link_to_admins_only(client, admin_user, agent):
    client.force_login(agent)
    assert b"Django admin" not in client.get(reverse("web:inbox")).content
    client.force_login(admin_user)
    assert b"Django admin" in client.get(reverse("web:inbox")).content
