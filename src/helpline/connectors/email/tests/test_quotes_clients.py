"""Quote and signature separation on replies laid out the way real clients lay them out.

The cases are the raw messages in bench/data/quotes (written for Helpline by
bench/data/quotes/build.py: Gmail, Outlook desktop/web/mobile, Apple Mail, Thunderbird, Yahoo,
GMX, ... in seven languages and several charsets and transfer encodings), parsed as ingestion
parses them. ``<id>.new.txt`` is what the agent must see, ``<id>.sig.txt`` the signature.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpline.connectors.email.parsing import parse_email
from helpline.connectors.email.quotes import SplitText, split_reply

CASES = Path(__file__).resolve().parents[5] / "bench" / "data" / "quotes"

# One or more per client family, language, layout and encoding.
REPRESENTATIVE = [
    "gmail-en-top",
    "gmail-en-wrapped",
    "gmail-en-android",
    "gmail-en-base64",
    "gmail-en-html",
    "gmail-de",
    "gmail-fr",
    "gmail-es",
    "gmail-nl",
    "gmail-it",
    "gmail-pt",
    "gmail-pl",
    "outlook-en-top",
    "outlook-en-rule",
    "outlook-en-original",
    "outlook-en-1252",
    "outlook-en-html",
    "outlook-en-android",
    "outlook-en-disclaimer",
    "outlook-de",
    "outlook-fr",
    "outlook-es",
    "outlook-nl",
    "outlook-it",
    "outlook-pt",
    "outlook-pl",
    "gmx-de",
    "apple-en-iphone",
    "apple-en-html",
    "apple-de-ipad",
    "apple-nl",
    "thunderbird-en-sig",
    "thunderbird-en-bottom",
    "thunderbird-en-html",
    "thunderbird-de",
    "thunderbird-pl",
    "yahoo-en-android",
    "samsung-en",
    "inline-en-gmail",
    "inline-en-thunderbird",
    "inline-de-noattr",
    "bottom-en-gt",
    "plain-en-noquote",
    "plain-en-nosig-name-in-text",
    "plain-en-wrote-in-text",
    "plain-de-disclaimer",
    "fwd-en-gmail",
    "fwd-en-outlook",
    "fwd-en-apple",
    "plain-en-booking-trap-r2",
    "plain-en-dashes-trap-r2",
    "plain-en-keep-confidential-r2",
    "plain-en-ipad-r2",
    "outlook-de-html-r2",
    "samsung-de-r2",
    "mutt-en-r3",
    "groupwise-en-r3",
    "zoho-en-r3",
    "blackberry-en-r3",
    "inline-fr-r3",
    "plain-en-short-lines-r3",
    "plain-en-log-paste-r3",
    "plain-en-ps-r4",
    "plain-en-onlyquote-r4",
    "gmail-de-closing-words-r4",
    "thunderbird-en-wroteon-r4",
    "outlook-es-disclaimer-r4",
]


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _split(cid: str, *, with_subject: bool = True) -> tuple[str, SplitText]:
    parsed = parse_email((CASES / f"{cid}.eml").read_bytes())
    assert parsed.sender is not None
    split = split_reply(
        parsed.text,
        sender_name=parsed.sender.name,
        sender_email=parsed.sender.email,
        subject=parsed.subject if with_subject else "",
    )
    return parsed.text, split


def _expected(cid: str, suffix: str) -> list[str]:
    return _lines((CASES / f"{cid}.{suffix}.txt").read_text(encoding="utf-8"))


@pytest.mark.parametrize("cid", REPRESENTATIVE)
def test_client_reply_shows_the_new_text_and_folds_the_rest(cid):
    _, split = _split(cid)
    assert _lines(split.new) == _expected(cid, "new")
    assert _lines(split.signature) == _expected(cid, "sig")


def test_the_case_set_covers_the_clients_it_claims():
    ids = {p.stem for p in CASES.glob("*.eml")}
    assert len(ids) >= 60
    assert set(REPRESENTATIVE) <= ids
    for family in ("gmail", "outlook", "apple", "thunderbird", "yahoo", "inline", "fwd"):
        assert any(i.startswith(family + "-") for i in ids), family


@pytest.mark.parametrize("cid", sorted(p.stem for p in CASES.glob("*.eml")))
def test_nothing_is_discarded_and_no_new_line_is_hidden(cid):
    """Every line of the message is in the new text, the quote or the signature, and every
    line the customer newly wrote is in the new text (hiding it is the costly error)."""
    text, split = _split(cid)
    kept = set(_lines(split.new)) | set(_lines(split.quoted)) | set(_lines(split.signature))
    assert set(_lines(text)) <= kept
    shown = set(_lines(split.new))
    assert [x for x in _expected(cid, "new") if x not in shown] == []


def test_outlook_forward_needs_the_subject_to_be_shown_whole():
    # Outlook marks a forward only in the subject: without it the forwarded mail is folded
    # like a quote (kept, one click away), with it the agent sees the whole forward.
    _, without = _split("fwd-en-outlook", with_subject=False)
    assert "Payment failed" in without.quoted
    _, with_subject = _split("fwd-en-outlook")
    assert "We could not charge your card ending 4421" in with_subject.new
    assert with_subject.quoted == ""


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # A reply to a forward is a reply.
        (
            "Done, thanks.\n\nOn Mon, Nov 23, 2026 at 9:00 AM Anna <a@x.test> wrote:\n> Fwd below",
            "Done, thanks.",
        ),
        # "Your colleague wrote:" in the customer's text, no date/time/address: not history.
        (
            "It still fails.\nYour colleague wrote:\nrestart the router\nI did that twice.",
            "It still fails.\nYour colleague wrote:\nrestart the router\nI did that twice.",
        ),
        # The same words followed by ">" lines are an attribution.
        ("It still fails.\n\nMark wrote:\n> restart the router", "It still fails."),
    ],
)
def test_attribution_edge_cases(text, new):
    assert split_reply(text, sender_name="Anna Muster", sender_email="anna@x.test").new == new


def test_reply_subject_is_not_a_forward():
    text = "See below.\n\n---------- Forwarded message ---------\nFrom: A <a@x.test>\n\nHello"
    split = split_reply(text, subject="Re: Fwd: invoice")
    # The marker above the first quote still makes it a forward: it is shown whole.
    assert "Hello" in split.new
    reply = split_reply(
        "Thanks!\n\nOn Mon, Nov 23, 2026 at 9:00 AM A <a@x.test> wrote:\n> Hello",
        subject="Re: Fwd: invoice",
    )
    assert reply.new == "Thanks!"
    assert "Hello" in reply.quoted


_LINE = st.one_of(
    st.sampled_from(
        [
            "",
            "> quoted",
            ">",
            "-- ",
            "-----",
            "Thanks,",
            "Anna Muster",
            "Sent from my iPhone",
            "On Mon, 23 Nov 2026 at 09:00, Bob <b@x.test> wrote:",
            "From: Bob <b@x.test>",
            "Sent: Monday",
            "Subject: hi",
            "---------- Forwarded message ---------",
            "This email is confidential and intended for the recipient only.",
            ">>> Bob <b@x.test> 23/11/2026 >>>",
            "Please deliver to:",
        ]
    ),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80),
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_LINE, max_size=40), subject=st.sampled_from(["", "Re: x", "Fwd: x"]))
def test_split_never_loses_a_line_and_never_shows_nothing(lines, subject):
    text = "\n".join(lines)
    split = split_reply(
        text, sender_name="Anna Muster", sender_email="anna@x.test", subject=subject
    )
    kept = "\n".join((split.new, split.quoted, split.signature))
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        assert line.strip() in kept
    if text.strip():
        assert split.new.strip()
