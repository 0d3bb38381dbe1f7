"""Raw messages the way mail clients write them, for feeding the real ingestion path."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

_counter = itertools.count(1)


def raw_email(
    *,
    sender: str = "Ada Lovelace <ada@customer.test>",
    to: str = "support@example.org",
    subject: str = "My kettle does not boil",
    body: str = "Hello,\n\nit stopped working yesterday.\n\nAda",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 23, 9, 0, next(_counter) % 60, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="customer.test")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content, ctype in attachments or []:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
