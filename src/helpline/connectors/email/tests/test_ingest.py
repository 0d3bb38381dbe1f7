# mypy: disable-error-code="union-attr,arg-type,operator,misc"
"""The one ingestion service: store first, thread, noise, idempotency, quarantine, resume."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpline.connectors.email import services
from helpline.connectors.email.choices import InboundStatus, Noise, NonParticipantPolicy, Transport
from helpline.connectors.email.models import AddressState, InboundEmail, OutboundEmail, Participant
from helpline.connectors.email.tests.factories import raw_email
from helpline.customers.selectors import customer_get_by_email
from helpline.tickets.choices import DeliveryStatus, Direction, Status
from helpline.tickets.models import Message, Ticket
from helpline.tickets.services import reply_add, ticket_update


def ingest(raw: bytes, transport: str = Transport.SMTP, **kw) -> InboundEmail:
    return services.inbound_ingest(raw=raw, transport=transport, **kw)


def test_new_mail_is_stored_raw_then_becomes_a_ticket(mailbox):
    raw = raw_email(message_id="<s1@customer.test>")
    row = ingest(raw)
    assert bytes(row.raw) == raw
    assert row.status == InboundStatus.PROCESSED
    assert row.mailbox == mailbox
    assert row.ticket is not None and row.message is not None
    assert row.message.external_id == "mid:<s1@customer.test>"


def test_same_message_by_two_transports_is_one_message(mailbox):
    raw = raw_email(message_id="<twice@customer.test>")
    first = ingest(raw, Transport.IMAP)
    second = ingest(raw, Transport.WEBHOOK)
    assert first.pk == second.pk
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 1


def test_message_without_message_id_deduplicates_by_content_hash(mailbox):
    raw = b"From: Bo <bo@customer.test>\r\nTo: support@example.org\r\nSubject: hi\r\n\r\nhello\r\n"
    a = ingest(raw)
    b = ingest(raw)
    assert a.pk == b.pk and a.dedupe_key.startswith("sha:")
    assert Ticket.objects.count() == 1


def test_crash_after_store_is_resumed_by_the_tick(mailbox):
    row, created = services.inbound_store(
        raw=raw_email(), transport=Transport.SMTP, mailbox=mailbox
    )
    assert created and row.status == InboundStatus.RECEIVED  # the process died here
    assert services.inbound_resume_pending(older_than=timedelta(0)) == 1
    row.refresh_from_db()
    assert row.status == InboundStatus.PROCESSED and row.ticket_id
    assert services.inbound_resume_pending(older_than=timedelta(0)) == 0


def test_failure_quarantines_with_the_error_and_reprocess_after_fix(mailbox):
    raw = raw_email(message_id="<clash@customer.test>")
    # A message already holding this external id (an earlier import) makes ticket creation fail.
    from helpline.tickets.tests.factories import make_ticket

    blocker = make_ticket(external_id="mid:<clash@customer.test>", channel="email")
    row = ingest(raw)
    assert row.status == InboundStatus.QUARANTINED
    assert "IntegrityError" in row.error or "unique" in row.error.lower()
    assert bytes(row.raw) == raw
    assert services.inbound_resume_pending(older_than=timedelta(0)) == 0  # not retried blindly

    Message.objects.filter(ticket=blocker).update(external_id=None)  # the admin's fix
    row = services.inbound_reprocess(inbound=row)
    assert row.status == InboundStatus.PROCESSED


def test_message_without_any_sender_is_quarantined_not_lost(mailbox):
    raw = b"To: support@example.org\r\nSubject: who am I\r\n\r\nno sender\r\n"
    row = ingest(raw)
    assert row.status == InboundStatus.QUARANTINED
    assert "sender" in row.error
    assert services.inbound_process(inbound=row).status == InboundStatus.QUARANTINED


def test_envelope_sender_stands_in_for_a_missing_from(mailbox):
    raw = b"To: support@example.org\r\nSubject: no from\r\n\r\nhello\r\n"
    row = ingest(raw, envelope_from="eve@customer.test")
    assert row.status == InboundStatus.PROCESSED
    assert row.ticket.customer == customer_get_by_email(email="eve@customer.test")


def test_threading_by_subject_token(mailbox):
    first = ingest(raw_email())
    second = ingest(raw_email(subject=f"Re: anything [#{first.ticket_id}]", body="More detail."))
    assert second.ticket_id == first.ticket_id


def test_threading_by_plus_address(mailbox):
    first = ingest(raw_email())
    second = ingest(raw_email(to=f"support+t{first.ticket_id}@example.org", subject="no token"))
    assert second.ticket_id == first.ticket_id


def test_threading_by_references_to_a_message_seen(mailbox):
    first = ingest(raw_email(message_id="<root@customer.test>"))
    second = ingest(raw_email(subject="different", headers={"References": "<root@customer.test>"}))
    assert second.ticket_id == first.ticket_id


def test_unrelated_mail_opens_a_new_ticket(mailbox):
    ingest(raw_email())
    ingest(raw_email(subject="Another problem"))
    assert Ticket.objects.count() == 2


def test_non_participant_reply_opens_new_ticket_by_default(mailbox):
    first = ingest(raw_email())
    stranger = ingest(raw_email(sender="mallory@else.test", subject=f"Re: x [#{first.ticket_id}]"))
    assert stranger.ticket_id != first.ticket_id


def test_non_participant_reply_attached_and_flagged_when_configured(mailbox):
    services.mailbox_update(
        mailbox=mailbox, non_participant_policy=NonParticipantPolicy.ATTACH_FLAG
    )
    first = ingest(raw_email())
    stranger = ingest(raw_email(sender="mallory@else.test", subject=f"Re: x [#{first.ticket_id}]"))
    assert stranger.ticket_id == first.ticket_id
    assert stranger.message.metadata["email"]["non_participant"] is True


def test_cc_people_become_participants_and_may_reply(mailbox):
    first = ingest(
        raw_email(headers={"Cc": "Bob Colleague <bob@customer.test>, support@example.org"})
    )
    assert list(Participant.objects.values_list("email", flat=True)) == ["bob@customer.test"]
    bob = customer_get_by_email(email="bob@customer.test")
    assert bob is not None and bob.name == "Bob Colleague"
    reply = ingest(raw_email(sender="bob@customer.test", subject=f"Re: [#{first.ticket_id}]"))
    assert reply.ticket_id == first.ticket_id
    assert reply.message.author_customer == bob


def test_reply_to_a_closed_ticket_opens_a_follow_up(mailbox, agent):
    first = ingest(raw_email())
    ticket_update(ticket=first.ticket, actor=agent, status=Status.CLOSED)
    again = ingest(raw_email(subject=f"Re: [#{first.ticket_id}]"))
    assert again.ticket_id != first.ticket_id
    assert again.message.metadata["email"]["follow_up_of"] == first.ticket_id


def test_auto_reply_is_ingested_but_never_acknowledged(mailbox, capture):
    row = ingest(raw_email(headers={"Auto-Submitted": "auto-replied"}, subject="Out of office"))
    assert row.status == InboundStatus.PROCESSED and row.noise == Noise.AUTO_REPLY
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_out_of_office_on_a_pending_ticket_is_kept_but_changes_nothing(mailbox, agent):
    first = ingest(raw_email())
    reply_add(ticket=first.ticket, author=agent, body_text="Could you send a photo?")
    ticket_update(ticket=Ticket.objects.get(pk=first.ticket_id), actor=agent, status=Status.PENDING)
    away = ingest(
        raw_email(
            headers={"Auto-Submitted": "auto-replied"},
            subject=f"Out of office: Re: [#{first.ticket_id}]",
            body="I am away until Monday.",
        )
    )
    assert away.ticket_id == first.ticket_id
    assert away.message.is_automatic
    assert Ticket.objects.get(pk=first.ticket_id).status == Status.PENDING
    # A real answer from the customer still reopens it.
    ingest(raw_email(subject=f"Re: [#{first.ticket_id}]", body="Here is the photo."))
    assert Ticket.objects.get(pk=first.ticket_id).status == Status.OPEN


@pytest.mark.parametrize(
    "headers",
    [
        {"Precedence": "bulk"},
        {"Precedence": "list"},
        {"Precedence": "junk"},
        {"X-Autoreply": "yes"},
        {"List-Id": "<news.shop.test>"},
    ],
)
def test_noise_headers_get_no_acknowledgement(mailbox, headers):
    row = ingest(raw_email(headers=headers))
    assert row.noise != Noise.NONE
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_our_own_mail_coming_back_is_a_loop(mailbox):
    row = ingest(raw_email(sender="support@example.org"))
    assert row.status == InboundStatus.IGNORED and row.noise == Noise.LOOP
    assert not Ticket.objects.exists()


DSN = b"""From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>
To: support@example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.customer.test>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.test

Final-Recipient: rfc822; ada@customer.test
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <ada@customer.test>: mailbox unknown

--B
Content-Type: text/rfc822-headers

From: support@example.org
To: ada@customer.test
Message-ID: ORIGINAL

--B--
"""


def test_bounce_marks_address_bouncing_and_the_reply_failed(mailbox, capture, agent):
    first = ingest(raw_email())
    capture.wait_for(1)
    reply = reply_add(ticket=first.ticket, author=agent, body_text="Here you go.")
    outbound = OutboundEmail.objects.get(message=reply)
    row = ingest(DSN.replace(b"ORIGINAL", outbound.rfc_id.encode()).replace(b"\n", b"\r\n"))
    assert row.status == InboundStatus.IGNORED and row.noise == Noise.BOUNCE
    assert AddressState.objects.get(email="ada@customer.test").bouncing
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "mailbox unknown" in reply.delivery_detail
    # A bouncing address gets no further acknowledgements.
    ingest(raw_email(subject="new question"))
    assert Message.objects.filter(is_automatic=True).count() == 1


def test_acknowledgements_are_rate_limited_per_sender(mailbox, capture):
    for n in range(5):
        ingest(raw_email(subject=f"question {n}"))
    assert Ticket.objects.count() == 5
    assert Message.objects.filter(is_automatic=True).count() == 3
    assert len(capture.wait_for(3)) == 3


def test_block_list_ignores_sender_and_domain(mailbox):
    services.block_rule_add(pattern="@spammy.test")
    services.block_rule_add(pattern="pest@customer.test", action="spam")
    a = ingest(raw_email(sender="x@spammy.test"))
    b = ingest(raw_email(sender="pest@customer.test"))
    assert (a.status, a.noise) == (InboundStatus.IGNORED, Noise.BLOCKED)
    assert b.status == InboundStatus.SPAM
    assert not Ticket.objects.exists()


SPAMMY = (
    "Dear Friend,\n\nYou have been selected to receive a FREE credit report! Act now, limited time "
    "offer. Click here to remove yourself from our mailing list. 100% guaranteed, no risk, "
    "earn $$$ money from home, order now!!! Call toll free. This is not spam.\n"
)


def test_likely_spam_goes_to_the_spam_view_and_can_be_released(mailbox):
    row = ingest(
        raw_email(sender="deals4u8@promo.biz", subject="FREE MONEY!!! ACT NOW", body=SPAMMY)
    )
    assert row.status == InboundStatus.SPAM and row.spam_score >= 0.9
    assert not Ticket.objects.exists()
    released = services.inbound_reprocess(inbound=row, allow_spam=True)
    assert released.status == InboundStatus.PROCESSED


def test_ordinary_customer_mail_is_not_spam(mailbox):
    row = ingest(raw_email())
    assert row.spam_score is not None and row.spam_score < 0.5


def test_acknowledgement_template_is_editable_and_checked(mailbox, capture):
    from helpline.core.errors import ValidationError

    with pytest.raises(ValidationError):
        services.mailbox_update(mailbox=mailbox, ack_body="Hi {customer_nme}")
    services.mailbox_update(
        mailbox=mailbox, ack_body="Dear {customer_name}, ticket {ticket_number}. {expected_reply}."
    )
    row = ingest(raw_email())
    text = capture.wait_for(1)[0].message.get_body(("plain",)).get_content()
    assert text.startswith(f"Dear Ada Lovelace, ticket {row.ticket_id}. You will hear from us")


def test_attachments_stored_with_safe_names_oversize_listed_html_sanitised(mailbox, monkeypatch):
    from helpline.connectors.email.conf import email_config

    monkeypatch.setenv("HELPLINE_EMAIL_MAX_ATTACHMENT_BYTES", "1000")
    email_config.cache_clear()
    try:
        row = ingest(
            raw_email(
                body="Photos attached.",
                html='<p onclick="x()">Photos <script>alert(1)</script>attached.</p>',
                attachments=[
                    ("../../etc/passwd", b"small file", "text/plain"),
                    ("huge.bin", b"\0" * 5000, "application/octet-stream"),
                ],
            )
        )
    finally:
        email_config.cache_clear()
    message = row.message
    names = [a.filename for a in message.attachments.all()]
    assert names == ["passwd"]
    assert message.attachments.get().file.read() == b"small file"
    assert message.metadata["email"]["skipped_attachments"] == [
        {"filename": "huge.bin", "size": 5000}
    ]
    assert "<script" not in message.body_html and "onclick" not in message.body_html
    assert "Photos" in message.body_html


def test_spam_from_a_customer_we_know_is_only_suspected_and_stays_in_the_inbox(mailbox, agent):
    from django.test import Client

    from helpline.customers.services import CustomerRef, customer_get_or_create

    customer_get_or_create(ref=CustomerRef(email="deals4u8@promo.biz", name="Known"))
    row = ingest(
        raw_email(sender="deals4u8@promo.biz", subject="FREE MONEY!!! ACT NOW", body=SPAMMY)
    )
    assert row.status == InboundStatus.PROCESSED and row.ticket is not None
    info = row.message.metadata["email"]
    assert info["spam_suspected"] is True and info["spam_score"] >= 0.95
    web = Client()
    web.force_login(agent)
    page = web.get(f"/tickets/{row.ticket_id}/")
    assert b"might be spam" in page.content
    # The same mail from a stranger goes to the spam view, as before.
    stranger = ingest(
        raw_email(sender="deals5u9@promo.biz", subject="FREE MONEY!!! ACT NOW", body=SPAMMY)
    )
    assert stranger.status == InboundStatus.SPAM and stranger.ticket is None


def test_ordinary_mail_is_not_flagged_as_suspected(mailbox):
    row = ingest(raw_email())
    assert row.message.metadata["email"]["spam_suspected"] is False


def test_the_acknowledgement_s_reply_time_is_a_promise_the_tick_keeps_track_of(
    mailbox, capture, monkeypatch
):
    """The acknowledgement says when the customer will hear back; if no agent has answered by
    then, the SLA tick tells the customer (an automatic notice), exactly once per promise."""
    from datetime import timedelta

    from helpline.core import clock
    from helpline.sla.models import TicketSla
    from helpline.sla.services import sla_check

    row = ingest(raw_email(subject="My kettle leaks", body="Water everywhere."))
    capture.wait_for(1)  # the acknowledgement went out
    sla = TicketSla.objects.get(ticket_id=row.ticket_id)
    assert sla.promised_at is not None and sla.reply_owed_since is not None
    promised = sla.promised_at
    later = promised + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    sla_check()
    sla_check()
    automatic = Message.objects.filter(
        ticket_id=row.ticket_id, is_automatic=True, direction=Direction.OUTBOUND
    ).order_by("created_at", "id")
    assert automatic.count() == 2  # the acknowledgement, then one notice
    assert "could not answer as soon as we said" in automatic.last().body_text
    assert TicketSla.objects.get(ticket_id=row.ticket_id).promised_at > promised


def test_a_forward_marked_only_by_its_subject_is_shown_whole(mailbox):
    body = (
        "Please see below.\n\n"
        "From: Parcel Service <noreply@parcels.example>\n"
        "Sent: Monday, 23 November 2026 08:12\n"
        "To: Ada <ada@example.com>\n"
        "Subject: Delivery failed\n\n"
        "We could not deliver parcel 4711 because the address is incomplete.\n"
    )
    row = ingest(raw_email(subject="FW: Delivery failed", body=body))
    shown = row.message.body_text
    assert "could not deliver parcel 4711" in shown  # what support needs is not folded away
    assert row.message.metadata["email"]["quoted"] == ""
