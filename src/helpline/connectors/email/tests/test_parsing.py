# mypy: disable-error-code="union-attr,arg-type,operator"
"""Parsing mail the way real clients write it: charsets, transfer encodings, encoded words,
multipart shapes, inline images, attachments, HTML-only mail."""

from __future__ import annotations

import base64
import quopri

import pytest

from helpline.connectors.email.parsing import EmailParseError, html_to_text, parse_email


def test_quoted_printable_latin1_body_and_encoded_word_subject():
    body = quopri.encodestring("Grüße aus Köln, das Gerät ist kaputt.".encode("latin-1"))
    raw = (
        b"From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <jm@kunde.test>\r\n"
        b"Subject: =?UTF-8?B?R2Vyw6R0IGRlZmVrdA==?= =?UTF-8?Q?_=E2=80=93_bitte?=\r\n"
        b"Content-Type: text/plain; charset=ISO-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + body
    )
    parsed = parse_email(raw)
    assert parsed.sender.name == "Jürgen Müller"
    assert parsed.subject == "Gerät defekt – bitte"  # noqa: RUF001
    assert parsed.text == "Grüße aus Köln, das Gerät ist kaputt."


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("koi8-r", "Здравствуйте, чайник не работает."),
        ("shift_jis", "ケトルが壊れました。"),
        ("iso-2022-jp", "ケトルが壊れました。"),
        ("gb2312", "水壶坏了。"),
        ("big5", "水壺壞了。"),
        ("windows-1251", "Добрый день"),
        ("iso-8859-7", "Καλημέρα"),
        ("utf-16", "Hello in UTF-16"),
        ("ks_c_5601-1987", "주전자가 고장났어요"),
    ],
)
def test_base64_bodies_in_many_charsets(charset, text):
    codec = {"ks_c_5601-1987": "cp949"}.get(charset, charset)
    payload = base64.encodebytes(text.encode(codec))
    raw = (
        b"From: c@x.test\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: text/plain; charset={charset}\r\n".encode()
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + payload
    )
    assert parse_email(raw).text == text


def test_undeclared_8bit_utf8_and_wrong_charset_fall_back():
    raw = (
        "From: c@x.test\r\nSubject: Café\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\nDéjà vu\r\n"
    )
    parsed = parse_email(raw.encode("utf-8"))
    assert parsed.subject == "Café" and parsed.text == "Déjà vu"
    raw1252 = "From: c@x.test\r\nContent-Type: text/plain; charset=bogus-9\r\n\r\n“quoted” – 5€\r\n"  # noqa: RUF001
    assert parse_email(raw1252.encode("cp1252")).text == "“quoted” – 5€"  # noqa: RUF001


def test_multipart_alternative_related_with_inline_image_and_attachment():
    raw = b"""From: Ada <ada@customer.test>\r
Subject: photo\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary="M"\r
\r
--M\r
Content-Type: multipart/related; boundary="R"\r
\r
--R\r
Content-Type: multipart/alternative; boundary="A"\r
\r
--A\r
Content-Type: text/plain; charset=utf-8\r
\r
See the photo.\r
--A\r
Content-Type: text/html; charset=utf-8\r
\r
<p>See the <b>photo</b><img src="cid:img1@x"><script>alert(1)</script></p>\r
--A--\r
--R\r
Content-Type: image/png\r
Content-ID: <img1@x>\r
Content-Transfer-Encoding: base64\r
\r
iVBORw0KGgo=\r
--R--\r
--M\r
Content-Type: application/pdf; name="=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?="\r
Content-Disposition: attachment; filename*=UTF-8''..%2F..%2Fetc%2FRechnung%20M%C3%A4rz.pdf\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQK\r
--M--\r
"""
    parsed = parse_email(raw)
    assert parsed.text == "See the photo."
    assert "cid:img1@x" in parsed.html
    inline = [a for a in parsed.attachments if a.inline]
    assert len(inline) == 1 and inline[0].content_id == "img1@x"
    assert inline[0].content.startswith(b"\x89PNG")
    pdf = next(a for a in parsed.attachments if a.content_type == "application/pdf")
    assert pdf.filename.endswith("Rechnung März.pdf")
    assert pdf.content.startswith(b"%PDF")


def test_html_only_mail_gets_text_from_html():
    raw = (
        b"From: c@x.test\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{}</style></head><body><p>Line one&nbsp;here</p>"
        b"<p>Line&amp;two</p><script>x()</script></body></html>"
    )
    parsed = parse_email(raw)
    assert parsed.text_from_html
    assert parsed.text == "Line one here\n\nLine&two"


def test_forwarded_message_becomes_an_attachment_not_the_body():
    raw = (
        b"From: c@x.test\r\nSubject: fwd\r\nContent-Type: multipart/mixed; boundary=Z\r\n\r\n"
        b"--Z\r\nContent-Type: text/plain\r\n\r\nSee below\r\n"
        b"--Z\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: other@x.test\r\nSubject: Original\r\n\r\nInner body\r\n--Z--\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.text == "See below"
    assert parsed.attachments[0].filename == "Original.eml"
    assert b"Inner body" in parsed.attachments[0].content


def test_no_sender_is_refused_with_a_reason():
    with pytest.raises(EmailParseError):
        parse_email(b"Subject: x\r\n\r\nbody")


def test_html_to_text_survives_garbage():
    assert html_to_text("<p><<<>>></p><div") is not None


def test_html_only_reply_quotes_blockquotes_like_a_text_client():
    from helpline.connectors.email.parsing import html_to_text
    from helpline.connectors.email.quotes import split_reply

    text = html_to_text(
        "<div>It works now, thank you!</div>"
        "<blockquote type=cite><div>Could you try the new version?<br>Support</div>"
        "<blockquote>My app crashes.</blockquote></blockquote>"
    )
    assert "> Could you try the new version?" in text and "> > My app crashes." in text
    split = split_reply(text)
    assert split.new.strip() == "It works now, thank you!"
    assert "Could you try" in split.quoted
