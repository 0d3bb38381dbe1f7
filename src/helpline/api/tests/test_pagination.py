from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from helpline.api.errors import field_name
from helpline.api.pagination import decode_cursor, encode_cursor, paginate
from helpline.core import clock
from helpline.core.errors import ValidationError
from helpline.tickets.models import Ticket
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

KEYS = ("updated_at", "id")


def _raw(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_cursor_round_trip_keeps_microseconds_and_zone():
    ticket = make_ticket()
    values = decode_cursor(encode_cursor(ticket, KEYS), Ticket, KEYS)
    assert values == [ticket.updated_at, ticket.pk]


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _raw(["a", "list"]),
        _raw({"k": ["id"], "v": [1]}),  # keys of another list
        _raw({"k": list(KEYS), "v": ["2026-01-01T00:00:00+00:00"]}),  # too few values
        _raw({"k": list(KEYS), "v": ["yesterday", 1]}),
        _raw({"k": list(KEYS), "v": ["2026-01-01T00:00:00", 1]}),  # naive time
        _raw({"k": list(KEYS), "v": ["2026-01-01T00:00:00+00:00", "1"]}),
        _raw({"k": list(KEYS), "v": ["2026-01-01T00:00:00+00:00", True]}),
        _raw({"k": list(KEYS), "v": ["2026-01-01T00:00:00+00:00", 2**64]}),
        _raw({"k": list(KEYS), "v": [12, 1]}),
    ],
)
def test_malformed_cursors_are_a_validation_error_on_the_cursor_field(cursor):
    with pytest.raises(ValidationError) as caught:
        decode_cursor(cursor, Ticket, KEYS)
    assert caught.value.field == "cursor"


def test_paginate_ascending_with_ties():
    when = clock.now() - timedelta(days=1)
    tickets = [make_ticket(created_at=when) for _ in range(5)]  # identical updated_at
    seen, cursor = [], None
    while True:
        rows, cursor = paginate(
            Ticket.objects.all(), cursor=cursor, limit=2, keys=KEYS, descending=False
        )
        seen += [t.pk for t in rows]
        if cursor is None:
            break
    assert seen == sorted(t.pk for t in tickets)


def test_paginate_refuses_a_limit_outside_the_bounds():
    for limit in (0, 101):
        with pytest.raises(ValidationError) as caught:
            paginate(Ticket.objects.all(), cursor=None, limit=limit, keys=KEYS, descending=True)
        assert caught.value.field == "limit"


def test_last_page_has_no_cursor_even_when_full():
    for _ in range(4):
        make_ticket()
    rows, cursor = paginate(Ticket.objects.all(), cursor=None, limit=4, keys=KEYS, descending=True)
    assert len(rows) == 4
    assert cursor is None


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("body", "payload", "customer", "email"), "customer.email"),
        (("body", "payload"), "body"),
        (("body", "payload", "tags", 3), "tags[3]"),
        (("body", "payload", "identities", 0, "kind"), "identities[0].kind"),
        (("query", "limit"), "limit"),
        (("path", "ticket_id"), "ticket_id"),
        ((), ""),
    ],
)
def test_field_names_in_errors(loc, expected):
    assert field_name(loc) == expected
