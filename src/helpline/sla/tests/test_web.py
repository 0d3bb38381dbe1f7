"""The service-level pages: everyone reads, admins edit; the SLA badge partial."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from helpline.sla.models import BusinessCalendar, SlaPolicy, TicketSla
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_agents_read_admins_edit(agent, admin_user):
    page = signed_in(agent).get("/sla/")
    assert page.status_code == 200
    assert b"Email (default)" in page.content
    assert signed_in(agent).get("/sla/policies/new/").status_code == 404

    admin = signed_in(admin_user)
    made = admin.post(
        "/sla/calendars/new/",
        {
            "name": "Office",
            "time_zone": "Europe/Berlin",
            "hours": "Mon 09:00-17:00\nTue 22:00-06:00",
            "holidays": "2026-12-25 yearly Christmas",
        },
    )
    assert made.status_code == 302, made.content
    calendar = BusinessCalendar.objects.get(name="Office")
    assert calendar.intervals.count() == 2
    assert calendar.holidays.get().yearly

    posted = admin.post(
        "/sla/policies/new/",
        {
            "name": "VIP",
            "position": 1,
            "is_active": "on",
            "tier": "gold",
            "calendar": calendar.pk,
            "pausing_statuses": ["pending"],
            "warn_share": 0.8,
            "first_response_normal": 30,
            "next_response_normal": 60,
        },
    )
    assert posted.status_code == 302, posted.content
    policy = SlaPolicy.objects.get(name="VIP")
    assert policy.pausing_statuses == ["pending"]
    assert policy.targets.get().first_response_minutes == 30
    edit = admin.get(f"/sla/policies/{policy.pk}/")
    assert b'value="30"' in edit.content

    bad = admin.post(
        "/sla/calendars/new/",
        {"name": "X", "time_zone": "Nowhere/Land", "hours": "Mon 09:00-17:00"},
    )
    assert bad.status_code == 200 and b"Unknown time zone" in bad.content


def test_badge_shows_time_left_overdue_and_paused(frozen):
    ticket = make_ticket(channel="social")
    TicketSla.objects.filter(ticket=ticket).update(next_due_at=timezone.now() + timedelta(hours=2))
    ticket.refresh_from_db()
    html = render_to_string("web/sla/_badge.html", {"ticket": ticket})
    assert "left" in html and "badge-sla" in html
    # Templates measure time left with Django's own clock, not the test's frozen one.
    TicketSla.objects.filter(ticket=ticket).update(next_due_at=timezone.now() - timedelta(hours=2))
    ticket.refresh_from_db()
    html = render_to_string("web/sla/_badge.html", {"ticket": ticket})
    assert "Overdue" in html
    TicketSla.objects.filter(ticket=ticket).update(next_due_at=None, paused=True)
    ticket.refresh_from_db()
    assert "SLA paused" in render_to_string("web/sla/_badge.html", {"ticket": ticket})
    no_sla = make_ticket(channel="api")
    TicketSla.objects.filter(ticket=no_sla).delete()
    no_sla.refresh_from_db()
    assert render_to_string("web/sla/_badge.html", {"ticket": no_sla}).strip() == ""
