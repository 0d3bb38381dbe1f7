"""Raw RFC 5322 bytes to a ``ParsedEmail``: every charset, transfer encoding, encoded word and
multipart shape real clients send, decoded leniently.

Parsing never trusts the message: an unknown charset falls back to UTF-8 then Windows-1252,
a broken encoded word keeps its raw text, a malformed part is skipped with a recorded defect.
Only a message with no usable sender address is refused (``EmailParseError``): there is no one
to open a ticket for.
"""

from __future__ import annotations

import codecs
import email
import email.message
import email.utils
import html as html_lib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from html.parser import HTMLParser

_CHARSET_ALIASES = {
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "unknown": "utf-8",
    "default": "utf-8",
    "default_charset": "utf-8",
    "x-user-defined": "windows-1252",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-mac-roman": "mac_roman",
    "ansi_x3.4-1968": "ascii",
    "iso-2022-jp-2": "iso2022_jp_2",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "cp-850": "cp850",
    "utf8": "utf-8",
    "238": "cp1250",
}

_MSGID_RE = re.compile(r"<([^<>\s]{1,250})>")


class EmailParseError(Exception):
    """The message cannot become a ticket message (no sender address)."""


@dataclass(frozen=True)
class Address:
    name: str
    email: str


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class DeliveryReport:
    """The machine-readable part of a bounce (RFC 3464)."""

    failed_recipients: tuple[str, ...]
    status: str
    diagnostic: str
    original_message_id: str


@dataclass
class ParsedEmail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    sender: Address | None = None
    reply_to: list[Address] = field(default_factory=list)
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    text_from_html: bool = False
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    report: DeliveryReport | None = None
    defects: list[str] = field(default_factory=list)


def lookup_charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode ``data`` as ``charset`` if it can be; else UTF-8, else Windows-1252 (never fails)."""
    declared = lookup_charset(charset)
    candidates = [c for c in (declared, "utf-8") if c]
    if declared == "ascii":
        candidates = ["utf-8"]
    for name in candidates:
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return data.decode("windows-1252")
    except UnicodeDecodeError:
        return data.decode(declared or "utf-8", errors="replace")


def _unescape_header(value: str) -> str:
    """Headers with raw 8-bit bytes arrive surrogate-escaped; most such mail is UTF-8 or 1252."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raw = value.encode("utf-8", "surrogateescape")
        return decode_bytes(raw, None)
    return value


def decode_header_value(value: object) -> str:
    """An encoded-word header (RFC 2047) as text; malformed words keep their raw form."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        # compat32 wraps raw 8-bit header bytes in a Header of charset unknown-8bit.
        try:
            chunks = decode_header(value)
        except (ValueError, UnicodeError, LookupError, AssertionError):
            return " ".join(str(value).split())
        return " ".join(
            "".join(decode_bytes(c, cs) if isinstance(c, bytes) else c for c, cs in chunks).split()
        )
    text = _unescape_header(str(value))
    try:
        parts = decode_header(text)
    except (ValueError, UnicodeError, LookupError, AssertionError):
        return " ".join(text.split())
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    # decode_header drops the whitespace between plain and encoded chunks: make_header knows
    # the RFC's rules, but fails on some charsets; fall back to a plain join then.
    try:
        joined = str(make_header([(c, cs) for c, cs in parts]))
        if "\ufffd" not in joined:
            return " ".join(joined.split())
    except (UnicodeError, LookupError, ValueError, TypeError):
        pass
    return " ".join("".join(out).split())


def _addresses(msg: email.message.Message, name: str) -> list[Address]:
    values = msg.get_all(name) or []
    decoded = [decode_header_value(v) for v in values]
    result: list[Address] = []
    try:
        pairs = email.utils.getaddresses(decoded)
    except (ValueError, TypeError, IndexError):
        pairs = []
    for display, addr in pairs:
        addr = addr.strip().strip("<>").strip()
        if "@" not in addr or " " in addr or len(addr) > 320:
            continue
        local, _, domain = addr.rpartition("@")
        if not local or "." not in domain:
            continue
        name = display.replace("\x00", "").strip().strip('"')[:200]
        result.append(Address(name=name, email=addr.lower()))
    return result


def message_ids(value: object) -> list[str]:
    text = decode_header_value(value)
    found = _MSGID_RE.findall(text)
    if not found and text.strip() and " " not in text.strip():
        found = [text.strip().strip("<>")]
    return [f"<{m}>" for m in found if m]


def _payload_bytes(part: email.message.Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError, LookupError):
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: email.message.Message) -> str:
    try:
        charset = part.get_content_charset()
    except (ValueError, LookupError, TypeError):
        charset = None
    return decode_bytes(_payload_bytes(part), charset)


def _filename(part: email.message.Message) -> str:
    try:
        name = part.get_filename()
    except (ValueError, TypeError, LookupError, UnicodeError):
        name = None
    if name is None:
        try:
            name = part.get_param("name")  # type: ignore[assignment]
        except (ValueError, TypeError):
            name = None
        if isinstance(name, tuple):
            name = email.utils.collapse_rfc2231_value(name)
    return decode_header_value(name) if name else ""


class _TextExtractor(HTMLParser):
    _BLOCK = {
        "p",
        "div",
        "br",
        "tr",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "blockquote",
        "pre",
        "hr",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "section",
        "article",
        "header",
        "footer",
    }
    _SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0
        # Inside <blockquote> (Gmail's gmail_quote, Apple Mail's and Thunderbird's type=cite)
        # every line gets "> " per level, as a text client quotes: the quote splitter then
        # finds HTML-only replies' history even without an attribution line.
        self._quote = 0
        self._line_start = True

    def _emit(self, text: str) -> None:
        if not self._quote:
            self.out.append(text)
        else:
            prefix = "> " * self._quote
            for piece in re.split(r"(\n)", text):
                if piece == "\n":
                    self.out.append("\n")
                    self._line_start = True
                elif piece:
                    if self._line_start:
                        self.out.append(prefix)
                    self.out.append(piece)
                    self._line_start = False
            return
        if text:
            self._line_start = text.endswith("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self._emit("\n")
            if tag == "blockquote":
                self._quote += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK and tag != "br":
            if tag == "blockquote":
                self._quote = max(0, self._quote - 1)
            self._emit("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._emit(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):
        return html_lib.unescape(re.sub(r"<[^>]*>", " ", markup))
    text = "".join(parser.out).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _delivery_report(msg: email.message.Message) -> DeliveryReport | None:
    recipients: list[str] = []
    status = ""
    diagnostic = ""
    original = ""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            blocks = part.get_payload()
            if not isinstance(blocks, list):
                blocks = [email.message_from_string(str(blocks))]
            for block in blocks:
                if not isinstance(block, email.message.Message):
                    continue
                final = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
                action = str(block.get("Action") or "").strip().lower()
                if final and action in ("failed", ""):
                    addr = final.split(";", 1)[-1].strip().strip("<>").lower()
                    if "@" in addr:
                        recipients.append(addr)
                status = status or str(block.get("Status") or "").strip()
                diagnostic = diagnostic or " ".join(str(block.get("Diagnostic-Code") or "").split())
        elif ctype in ("message/rfc822", "text/rfc822-headers") and not original:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
                ids = message_ids(inner[0].get("Message-ID"))
            else:
                ids = message_ids(
                    email.message_from_string(str(inner)).get("Message-ID")
                    if inner is not None
                    else ""
                )
            original = ids[0] if ids else ""
    if not recipients and not status:
        return None
    return DeliveryReport(
        failed_recipients=tuple(dict.fromkeys(recipients)),
        status=status[:20],
        diagnostic=diagnostic[:1000],
        original_message_id=original,
    )


def _walk(
    msg: email.message.Message, parsed: ParsedEmail, texts: list[str], htmls: list[str], depth: int
) -> None:
    if depth > 30:
        parsed.defects.append("MIME nesting deeper than 30 levels; the rest was skipped")
        return
    ctype = msg.get_content_type()
    if ctype.startswith("message/") and ctype != "message/delivery-status":
        _attach_message(msg, parsed)
        return
    if msg.is_multipart():
        raw_payload = msg.get_payload()
        if not isinstance(raw_payload, list):
            return
        payload = [p for p in raw_payload if isinstance(p, email.message.Message)]
        if ctype == "multipart/alternative":
            # Prefer the richest rendering for HTML, but keep one plain text; the last part of
            # each type is the preferred one (RFC 2046 §5.1.4).
            plain = [p for p in payload if p.get_content_type() == "text/plain"]
            rich = [p for p in payload if p.get_content_type() == "text/html"]
            others = [p for p in payload if p.get_content_type() not in ("text/plain", "text/html")]
            if plain:
                texts.append(_part_text(plain[-1]))
            if rich:
                htmls.append(_part_text(rich[-1]))
            for sub in others:
                _walk(sub, parsed, texts if not plain else [], htmls if not rich else [], depth + 1)
            return
        for sub in payload:
            _walk(sub, parsed, texts, htmls, depth + 1)
        return
    try:
        disposition = msg.get_content_disposition()
    except (ValueError, TypeError):
        disposition = None
    filename = _filename(msg).replace("\x00", "")
    content_id = decode_header_value(msg.get("Content-ID")).replace("\x00", "").strip().strip("<>")
    maintype = msg.get_content_maintype()
    is_body_text = (
        ctype in ("text/plain", "text/html")
        and disposition != "attachment"
        and (not filename or disposition == "inline")
    )
    if is_body_text:
        (texts if ctype == "text/plain" else htmls).append(_part_text(msg))
        return
    if ctype in ("message/delivery-status", "text/rfc822-headers"):
        return
    content = _payload_bytes(msg)
    if not content:
        return
    if not filename:
        ext = {"image": ctype.split("/", 1)[-1], "text": "txt"}.get(maintype, "bin")
        filename = f"{content_id.split('@')[0] or 'attachment'}.{ext[:10]}"
    parsed.attachments.append(
        ParsedAttachment(
            filename=filename,
            content_type=ctype,
            content=content,
            content_id=content_id[:255],
            inline=bool(content_id) and disposition != "attachment",
        )
    )


def _attach_message(msg: email.message.Message, parsed: ParsedEmail) -> None:
    """A forwarded or attached message is kept whole as an .eml attachment."""
    inner = msg.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
        try:
            content = inner[0].as_bytes()
        except (UnicodeError, LookupError, TypeError, ValueError, KeyError, IndexError):
            content = str(inner[0]).encode("utf-8", "replace")
        subject = decode_header_value(inner[0].get("Subject"))
    else:
        content = _payload_bytes(msg)
        subject = ""
    name = (_filename(msg) or f"{subject or 'message'}.eml").replace("\x00", "")
    parsed.attachments.append(
        ParsedAttachment(filename=name, content_type="message/rfc822", content=content)
    )


_FLAG_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "list-id",
    "list-unsubscribe",
    "x-loop",
    "x-helpline-loop",
    "return-path",
    "x-mailer",
    "user-agent",
    "x-failed-recipients",
    "content-type",
)


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse ``raw``; raises ``EmailParseError`` only when there is no sender address."""
    msg = email.message_from_bytes(raw)
    parsed = ParsedEmail()
    parsed.defects.extend(type(d).__name__ for d in msg.defects)
    ids = message_ids(msg.get("Message-ID"))
    parsed.message_id = ids[0] if ids else ""
    parsed.in_reply_to = message_ids(msg.get("In-Reply-To"))
    parsed.references = message_ids(" ".join(str(v) for v in (msg.get_all("References") or [])))
    parsed.subject = decode_header_value(msg.get("Subject"))[:998]
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    parsed.sender = senders[0] if senders else None
    parsed.reply_to = _addresses(msg, "Reply-To")
    parsed.to = _addresses(msg, "To")
    parsed.cc = _addresses(msg, "Cc")
    parsed.delivered_to = [a.email for a in _addresses(msg, "Delivered-To")]
    try:
        parsed.date = email.utils.parsedate_to_datetime(str(msg.get("Date") or ""))
    except (ValueError, TypeError, IndexError, OverflowError):
        parsed.date = None
    parsed.content_type = msg.get_content_type()
    for name in _FLAG_HEADERS:
        value = msg.get(name)
        if value is not None:
            parsed.headers[name] = decode_header_value(value)[:500]
    texts: list[str] = []
    htmls: list[str] = []
    _walk(msg, parsed, texts, htmls, 0)
    if parsed.content_type == "multipart/report":
        parsed.report = _delivery_report(msg)
    parsed.html = "\n".join(h for h in htmls if h.strip())
    parsed.text = "\n\n".join(t.replace("\r\n", "\n").strip() for t in texts if t.strip())
    if not parsed.text and parsed.html:
        parsed.text = html_to_text(parsed.html)
        parsed.text_from_html = True
    # NUL never belongs in text, and PostgreSQL refuses it in text and JSON columns.
    parsed.text = parsed.text.replace("\x00", "")
    parsed.html = parsed.html.replace("\x00", "")
    parsed.subject = parsed.subject.replace("\x00", "")
    if parsed.sender is None:
        raise EmailParseError("The message has no usable sender address (From or Sender).")
    return parsed
