"""The agent's main loop in a real browser (Debian's Chromium through Playwright): sign in,
open a ticket from the inbox, reply, change the status, and see both in the page."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from helpline.accounts.choices import Role
from helpline.accounts.tests.factories import PASSWORD, TeamFactory, UserFactory
from helpline.customers.services import customer_note_add, order_add
from helpline.customers.tests.factories import CustomerFactory
from helpline.tickets.choices import Direction, Status
from helpline.tickets.models import Ticket
from helpline.tickets.services import message_receive, reply_add, ticket_update
from helpline.tickets.tests.factories import make_ticket

# Playwright's sync API runs an event loop in this thread; the ORM calls below are still plain
# synchronous calls made between browser steps.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


def _seed() -> tuple[Ticket, str]:
    billing = TeamFactory(name="Billing")
    hardware = TeamFactory(name="Hardware")
    ana = UserFactory(name="Ana Ortega", email="ana@helpline.test", role=Role.SUPERVISOR)
    ana.teams.set([billing, hardware])
    ben = UserFactory(name="Ben Okafor")
    now = timezone.now()
    maria = CustomerFactory(name="Maria Lopez", email="maria.lopez@example.test")
    order_add(
        customer=maria,
        reference="A-1042",
        product="Aurora Kettle 1.7 l",
        amount=Decimal("49.90"),
        ordered_at=now - timedelta(days=12),
    )
    order_add(
        customer=maria,
        reference="A-0977",
        product="Descaler, 3 pack",
        amount=Decimal("9.50"),
        ordered_at=now - timedelta(days=80),
    )
    customer_note_add(customer=maria, author=ana, body="Long-time customer; prefers email.")
    make_ticket(
        customer=maria,
        subject="Invoice for order A-0977",
        team=billing,
        body_text="Could you send me the invoice again?",
    )
    others = [
        ("Jonas Weber", "chat", "Where is my parcel?", "high", billing, ["shipping"]),
        ("Aiko Tanaka", "phone", "Refund not received after return", "urgent", billing, ["refund"]),
        ("Liam O'Brien", "web", "Grinder makes a loud noise", "normal", hardware, []),
        ("Sofia Rossi", "social", "Discount code does not apply", "low", None, ["promo"]),
        ("Noah Martin", "email", "Change delivery address", "normal", None, []),
    ]
    for name, channel, subject, priority, team, tags in others:
        ticket = make_ticket(
            customer=CustomerFactory(name=name),
            channel=channel,
            subject=subject,
            priority=priority,
            team=team,
            tags=tags,
        )
        if team is hardware:
            ticket_update(ticket=ticket, actor=ana, assignee=ben)
    ticket = make_ticket(
        customer=maria,
        subject="Kettle lid cracked after two weeks",
        body_text="",
        body_html=(
            "<p>Hello,</p><p>the lid of my <b>Aurora Kettle</b> (order A-1042) cracked after "
            "two weeks of normal use. Photos attached.</p><p>Can you send a replacement?</p>"
            "<p>Maria</p>"
        ),
        team=hardware,
        priority="high",
        tags=["kettle", "warranty"],
    )
    reply_add(
        ticket=ticket,
        author=ben,
        body_text="Hi Maria, sorry to hear that! "
        "Could you tell me the serial number under the base?",
    )
    ticket.refresh_from_db()
    ticket_update(ticket=ticket, actor=ben, status=Status.PENDING)
    ticket.refresh_from_db()
    message_receive(ticket=ticket, body_text="Sure, it is AK-17-55821.")
    return ticket, ana.email


@pytest.mark.django_db(transaction=True)
def test_agent_signs_in_replies_and_changes_status(live_server):
    from playwright.sync_api import expect, sync_playwright

    ticket, email = _seed()
    ARTIFACTS.mkdir(exist_ok=True)
    reply_text = "Thanks Maria! A new lid is on its way with tracking number PK-2291."

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{live_server.url}/")
            expect(page).to_have_url(f"{live_server.url}/login/?next=/")
            page.screenshot(path=str(ARTIFACTS / "web-0-sign-in.png"))
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")

            expect(page.locator("h1")).to_have_text(
                "Priority queue"
            )  # the default: most urgent first
            row = page.locator(f"tr[data-ticket='{ticket.pk}']")
            expect(row).to_contain_text("Maria Lopez")
            expect(row).to_contain_text("Open")  # the customer wrote back: reopened
            page.screenshot(path=str(ARTIFACTS / "web-1-inbox.png"))

            # The search box filters the inbox in place (htmx).
            page.fill("input[name=q]", "kettle lid")
            page.press("input[name=q]", "Enter")
            expect(page.locator("tr.row")).to_have_count(1)
            expect(page).to_have_url(f"{live_server.url}/?view=queue&q=kettle%20lid")
            page.fill("input[name=q]", "")
            page.press("input[name=q]", "Enter")
            expect(page.locator("tr.row")).to_have_count(7)

            row.get_by_role("link", name="Kettle lid cracked after two weeks").click()
            expect(page.locator("#ticket-header h1")).to_contain_text("Kettle lid cracked")
            expect(page.locator("#conversation article")).to_have_count(3)
            expect(page.locator("#conversation")).to_contain_text("Aurora Kettle")
            expect(page.locator("#customer-panel")).to_contain_text("A-1042")
            expect(page.locator("#customer-panel")).to_contain_text("Invoice for order A-0977")

            # Reply and, in the same step, set the ticket to pending.
            page.fill("#composer textarea[name=body]", reply_text)
            page.select_option("#composer select[name=status_after]", "pending")
            page.click("#composer button[type=submit]")
            reply = page.locator("#conversation article.message-outbound").last
            expect(reply).to_contain_text(reply_text)
            expect(page.locator("#composer textarea[name=body]")).to_have_value("")
            expect(page.locator("#timeline")).to_contain_text("Ana Ortega replied to the customer")
            expect(page.locator("#timeline")).to_contain_text(
                "Ana Ortega changed status from Open to Pending"
            )

            # Change the status from the side panel; it saves on change.
            page.select_option("#properties select[name=status]", "solved")
            expect(page.locator("#timeline")).to_contain_text(
                "Ana Ortega changed status from Pending to Solved"
            )
            expect(page.locator("#ticket-header")).to_contain_text("Solved")
            page.screenshot(path=str(ARTIFACTS / "web-2-ticket.png"), full_page=True)

            # An internal note is visibly different from a reply.
            page.click("#composer label.seg-note")
            page.fill("#composer textarea[name=body]", "Replacement lid sent from stock B.")
            page.click("#composer button[type=submit]")
            expect(page.locator("#conversation article.message-note").last).to_contain_text(
                "Replacement lid sent from stock B."
            )

            page.click("#customer-panel a.customer-name")
            expect(page.locator("h1")).to_have_text("Maria Lopez")
            page.screenshot(path=str(ARTIFACTS / "web-3-customer.png"), full_page=True)
        finally:
            browser.close()

    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    sent = ticket.messages.filter(direction=Direction.OUTBOUND).order_by("-id").first()
    assert sent is not None and sent.body_text == reply_text
