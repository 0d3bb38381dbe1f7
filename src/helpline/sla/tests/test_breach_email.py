"""A policy that asks for it emails the assignee and supervisors on a breach, through a real
SMTP server (aiosmtpd on loopback), once, and retries when the relay refuses."""

from __future__ import annotations

import email
import socket
from email.message import Message as EmailMessage

import pytest
from aiosmtpd.controller import Controller

from helpline.accounts.choices import Role
from helpline.accounts.tests.factories import UserFactory
from helpline.sla.models import Notification
from helpline.sla.services import notification_emails_send, sla_check
from helpline.sla.tests.factories import make_policy
from helpline.tickets.services import ticket_update
from helpline.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _use_smtp(settings, port: int) -> None:
    # pytest-django swaps in the in-memory backend; these tests talk to a real SMTP server.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.STAFF_EMAIL_ENABLED = True
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5


@pytest.fixture
def relay(settings):
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    _use_smtp(settings, controller.port)
    yield inbox
    controller.stop()


def test_breach_emails_assignee_and_supervisor_once(frozen, relay):
    make_policy(first=60, escalate_notify_email=True)
    assignee = UserFactory(email="ana@helpline.test")
    UserFactory(email="sue@helpline.test", role=Role.SUPERVISOR)
    ticket = ticket_update(
        ticket=make_ticket(subject="Kettle leaks"), actor=None, assignee=assignee
    )
    frozen.advance(minutes=61)

    sla_check()
    assert notification_emails_send() == 2
    assert notification_emails_send() == 0  # each copy goes once

    recipients = sorted(m["To"] for m in relay.messages)
    assert recipients == ["ana@helpline.test", "sue@helpline.test"]
    assert all(f"#{ticket.pk} breached" in m["Subject"] for m in relay.messages)
    assert all("Kettle leaks" in m.get_payload() for m in relay.messages)
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2


def test_no_email_unless_the_policy_asks(frozen, relay):
    make_policy(first=60)
    ticket_update(ticket=make_ticket(), actor=None, assignee=UserFactory())
    frozen.advance(minutes=61)
    sla_check()
    assert Notification.objects.count() >= 1
    assert notification_emails_send() == 0
    assert relay.messages == []


def test_refused_relay_keeps_the_copy_for_a_retry(frozen, settings):
    make_policy(first=60, escalate_notify_email=True)
    ticket_update(ticket=make_ticket(), actor=None, assignee=UserFactory())
    frozen.advance(minutes=61)
    sla_check()
    _use_smtp(settings, _free_port())  # nobody listens there

    assert notification_emails_send() == 0
    note = Notification.objects.get()
    assert note.emailed_at is None
    assert note.email_attempts == 1
    assert note.email_error  # the reason is kept for the admin
    frozen.advance(minutes=1)
    notification_emails_send()
    note.refresh_from_db()
    assert note.email_attempts == 2


def test_a_claim_left_by_a_dead_worker_is_retaken_once_stale(frozen, relay):
    make_policy(first=60, escalate_notify_email=True)
    ticket_update(ticket=make_ticket(), actor=None, assignee=UserFactory(email="ana@helpline.test"))
    frozen.advance(minutes=61)
    sla_check()
    # A worker claimed the copy and died before the relay answered.
    Notification.objects.update(email_claimed_at=frozen.current, email_attempts=1)

    assert notification_emails_send() == 0  # the claim is fresh: someone may still be sending
    frozen.advance(minutes=11)
    assert notification_emails_send() == 1
    assert [m["To"] for m in relay.messages] == ["ana@helpline.test"]
    assert Notification.objects.get().emailed_at is not None
