"""Property: whatever bytes arrive, ingestion never crashes and never loses the message."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpline.connectors.email import services
from helpline.connectors.email.choices import InboundStatus, Transport
from helpline.connectors.email.models import InboundEmail

TERMINAL = {
    InboundStatus.PROCESSED,
    InboundStatus.QUARANTINED,
    InboundStatus.SPAM,
    InboundStatus.IGNORED,
}

header_names = st.sampled_from(
    [
        "From",
        "To",
        "Cc",
        "Subject",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Content-Disposition",
        "MIME-Version",
        "Date",
        "Auto-Submitted",
        "Precedence",
        "Reply-To",
        "X-Weird",
    ]
)
header_values = st.one_of(
    st.sampled_from(
        [
            "=?utf-8?B?broken",
            "=?x-unknown?Q?=FF=FE?=",
            "=?utf-8?Q?ok?= =?bad",
            "<a@b.c>",
            "multipart/mixed; boundary=",
            'multipart/alternative; boundary="x"',
            "text/plain; charset=klingon",
            "text/html; charset=utf-16",
            "base64",
            "quoted-printable",
            "x-uuencode",
            "message/rfc822",
            "multipart/report; report-type=delivery-status; boundary=b",
            "ada@customer.test",
            '"Ada" <ada@customer.test>',
            "<>",
            "@",
            "attachment; filename*=utf-8''%FF%FE.txt",
            "Mon, 99 Foo 2026 99:99:99",
            "auto-replied",
            "bulk",
        ]
    ),
    st.text(max_size=60).map(lambda t: t.replace("\r", " ").replace("\n", " ")),
)
body_chunks = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
            b"--x--\r\n",
            b"--b\r\n",
            b"=E9=\r\n=ZZ",
            b"SGVsbG8=\r\n!!!!",
            b"begin 644 f.txt\r\n#0V%T\r\nend\r\n",
            b"\r\n\r\n",
            b"<html><body><p>hi</p>",
            b"Content-Type: message/delivery-status\r\n\r\n",
            b"Final-Recipient: rfc822; x@y.z\r\nAction: failed\r\n",
        ]
    ),
)


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(header_names, header_values), max_size=12))
    lines = [f"{k}: {v}".encode("utf-8", "surrogatepass") for k, v in headers]
    if draw(st.booleans()):
        lines.insert(0, b"From: ada@customer.test")
    body = b"".join(draw(st.lists(body_chunks, max_size=8)))
    sep = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    return sep.join(lines) + sep + sep + body


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=raw_messages())
def test_malformed_mime_never_crashes_and_is_never_lost(db, raw):
    if not raw.strip():
        return  # refused at the door, nothing accepted
    row = services.inbound_ingest(raw=raw, transport=Transport.WEBHOOK)
    stored = InboundEmail.objects.get(pk=row.pk)
    assert stored.status in TERMINAL
    assert stored.dedupe_key.startswith(("mid:", "sha:"))
    if stored.dedupe_key.startswith("sha:"):
        assert bytes(stored.raw) == raw
    if stored.status == InboundStatus.QUARANTINED:
        assert stored.error


def test_nul_bytes_in_headers_and_body_are_kept_raw_and_dropped_from_the_text(db, mailbox):
    """PostgreSQL's text columns refuse NUL (found by the property test above, from
    ``From: \\x00``): the raw message keeps every byte, the columns get the text without it."""
    raw = (
        b"From: Ada \x00Lovelace <ada@customer.test>\r\nTo: support@example.org\r\n"
        b"Subject: kettle\x00 broken\r\nMessage-ID: <nul-1@customer.test>\r\n\r\n"
        b"It stopped\x00 working.\r\n"
    )
    row = services.inbound_ingest(raw=raw, transport=Transport.WEBHOOK)
    stored = InboundEmail.objects.get(pk=row.pk)
    assert bytes(stored.raw) == raw
    assert stored.subject == "kettle broken" and stored.rfc_id == "<nul-1@customer.test>"
    assert stored.status == InboundStatus.PROCESSED, stored.error
    ticket = stored.ticket
    assert ticket is not None and "\x00" not in ticket.subject
    inbound = ticket.messages.get(direction="inbound")
    assert "It stopped working" in inbound.body_text and "\x00" not in inbound.body_text
