from __future__ import annotations

from datetime import timedelta

import pytest

from helpline.core import clock
from helpline.core.bulk import insert_rows, update_rows
from helpline.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_rows_come_back_with_their_ids_in_order_and_read_as_saved():
    now = clock.now()
    rows = [
        OutboxEvent(
            topic=f"t.{n}", payload={"n": n, "text": 'é "q"'}, created_at=now, available_at=now
        )
        for n in range(450)  # more than one statement's worth of parameters
    ]
    insert_rows(rows)
    assert all(row.pk is not None and not row._state.adding for row in rows)
    assert [row.pk for row in rows] == sorted(row.pk for row in rows)
    stored = {e.pk: e for e in OutboxEvent.objects.all()}
    assert len(stored) == 450
    for row in rows:
        again = stored[row.pk]
        assert (again.topic, again.payload, again.created_at) == (row.topic, row.payload, now)
        assert again.attempts == 0 and again.failed_at is None  # model defaults written


def test_update_rows_writes_each_row_its_own_values_and_nothing_else():
    now = clock.now()
    rows = insert_rows(
        [
            OutboxEvent(topic=f"t.{n}", payload={"n": n}, created_at=now, available_at=now)
            for n in range(400)
        ]
    )
    untouched = OutboxEvent.objects.create(
        topic="other", payload={}, created_at=now, available_at=now
    )
    changed = list(rows[:350])  # several statements' worth of parameters
    for n, row in enumerate(changed):
        row.payload = {"n": n, "text": 'é "q"', "list": [n, None]}
        row.attempts = n % 7
        # NULL in the first row: the database must not guess the column's type from it
        row.failed_at = None if n % 2 == 0 else now + timedelta(minutes=n)
        row.last_error = f"it's row {n}"
        row.topic = "must not be written"
    matched = update_rows(changed, ["payload", "attempts", "failed_at", "last_error"])
    assert matched == 350
    stored = {e.pk: e for e in OutboxEvent.objects.all()}
    for n, row in enumerate(changed):
        again = stored[row.pk]
        assert again.payload == {"n": n, "text": 'é "q"', "list": [n, None]}
        assert again.attempts == n % 7
        assert again.failed_at == (None if n % 2 == 0 else now + timedelta(minutes=n))
        assert again.last_error == f"it's row {n}"
        assert again.topic == f"t.{n}"  # not among the fields named
    for row in rows[350:]:
        assert stored[row.pk].payload == {"n": int(row.topic[2:])}
        assert stored[row.pk].last_error == ""
    assert stored[untouched.pk].payload == {} and stored[untouched.pk].attempts == 0


def test_update_rows_refuses_the_primary_key():
    now = clock.now()
    (row,) = insert_rows([OutboxEvent(topic="t", payload={}, created_at=now, available_at=now)])
    with pytest.raises(ValueError, match="plain columns"):
        update_rows([row], ["id"])
    assert update_rows([], ["topic"]) == 0
