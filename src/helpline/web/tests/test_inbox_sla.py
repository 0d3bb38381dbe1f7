"""The SLA views of the inbox: most urgent first, breaching soon, breached; badges on rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpline.accounts.tests.factories import PASSWORD
from helpline.core import clock
from helpline.sla.models import TicketSla
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _ids(html: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'data-ticket="(\d+)"', html)]


def test_queue_breaching_and_breached_views(client, agent):
    later = make_ticket(subject="Due later")
    soon = make_ticket(subject="Due soon")
    overdue = make_ticket(subject="Past its time")
    now = clock.now()
    TicketSla.objects.filter(ticket=later).update(next_due_at=now + timedelta(hours=5))
    TicketSla.objects.filter(ticket=soon).update(next_due_at=now + timedelta(minutes=20))
    TicketSla.objects.filter(ticket=overdue).update(next_due_at=now - timedelta(minutes=30))
    assert client.login(username=agent.email, password=PASSWORD)

    queue = client.get("/?view=queue")
    assert queue.status_code == 200
    assert _ids(queue.content.decode()) == [overdue.pk, soon.pk, later.pk]
    assert "Overdue 30" in queue.content.decode()
    assert "left" in queue.content.decode()

    assert _ids(client.get("/?view=breaching").content.decode()) == [soon.pk]
    assert _ids(client.get("/?view=breached").content.decode()) == [overdue.pk]


def test_sla_views_respect_the_agent_scope(client):
    from helpline.accounts.tests.factories import TeamFactory, UserFactory

    billing, shipping = TeamFactory(name="Billing"), TeamFactory(name="Shipping")
    restricted = UserFactory(restricted_to_teams=True)
    restricted.teams.set([billing])
    hidden = make_ticket(team=shipping)
    TicketSla.objects.filter(ticket=hidden).update(next_due_at=clock.now() - timedelta(hours=1))
    assert client.login(username=restricted.email, password=PASSWORD)
    assert hidden.pk not in _ids(client.get("/?view=breached").content.decode())
    assert hidden.pk not in _ids(client.get("/?view=queue").content.decode())
