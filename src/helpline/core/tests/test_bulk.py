from __future__ import annotations

import pytest

from helpline.core import clock
from helpline.core.bulk import insert_rows
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
