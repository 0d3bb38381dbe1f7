from __future__ import annotations

import pytest

from helpline.accounts.models import ApiToken
from helpline.accounts.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    user_create,
)
from helpline.core.errors import Conflict, ValidationError

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_and_authenticates(agent):
    token, secret = api_token_create(user=agent)
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.digest, stored.prefix)
    assert len(stored.digest) == 64
    assert api_token_authenticate(secret=secret) == agent
    assert api_token_authenticate(secret=secret + "x") is None
    assert api_token_authenticate(secret="not-a-token") is None


def test_revoked_token_and_inactive_user_are_refused(agent):
    token, secret = api_token_create(user=agent)
    api_token_revoke(token=token)
    assert api_token_authenticate(secret=secret) is None

    _, other = api_token_create(user=agent)
    agent.is_active = False
    agent.save()
    assert api_token_authenticate(secret=other) is None


def test_user_create_normalises_email_and_refuses_duplicates():
    user = user_create(email=" Ana@Example.COM ", name="Ana", password="a-long-password")
    assert user.email == "ana@example.com"
    assert user.check_password("a-long-password")
    with pytest.raises(Conflict):
        user_create(email="ana@example.com", name="Ana 2", password="x" * 12)
    with pytest.raises(ValidationError):
        user_create(email="not-an-email", name="x", password="x" * 12)
