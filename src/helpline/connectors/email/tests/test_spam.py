# mypy: disable-error-code="union-attr,arg-type,operator"
"""The spam classifier: real customers' mail that looks commercial stays out of spam, obvious
spam goes to spam, the shipped model loads and scores fast, and on the held-out part of the
SpamAssassin corpus it stays inside the bounds recorded in docs/benchmarks.md."""

from __future__ import annotations

import time

import pytest

from helpline.connectors.email import spam
from helpline.connectors.email.parsing import EmailParseError, parse_email
from helpline.connectors.email.tests.factories import raw_email


def score(raw: bytes) -> float:
    value = spam.spam_score(parse_email(raw))
    assert value is not None, "the model ships in the package"
    return value


# Mail a helpdesk really gets from customers, chosen because it talks money, offers, orders and
# links, or is written in HTML by a modern client: none of it may land in the spam view.
CUSTOMER_MAIL = {
    "double charge": raw_email(
        sender="Maria Rossi <maria.rossi@gmail.com>",
        message_id="<CAJ8d2x1Q7kP+0rZ@mail.gmail.com>",
        subject="Charged twice for order #48213",
        body=(
            "Hello,\n\nI ordered the 12-cup kettle on Saturday with free shipping and the discount "
            "code SUMMER20, but my credit card statement shows two charges of $49.99. Could you "
            "refund one of them please? I have attached nothing because the bank app only shows "
            "a screenshot.\n\nThank you,\nMaria Rossi\n"
        ),
    ),
    "quote for licenses": raw_email(
        sender="Daniel Okafor <d.okafor@brightpath-logistics.com>",
        message_id="<DB9PR03MB7321.eurprd03.prod.outlook.com>",
        subject="Quote for 50 licenses and volume discount",
        body=(
            "Hi team,\n\nWe are evaluating your product for our dispatch office and would like a "
            "quote for 50 seats on the annual plan. Is there a volume discount above 25 users, and "
            "can we pay by invoice instead of credit card? Our budget is approved for this "
            "quarter, so a quick answer would help.\n\nBest regards,\nDaniel Okafor\nHead of IT, "
            "BrightPath Logistics\n+44 20 7946 0958\nhttps://www.brightpath-logistics.com\n"
        ),
    ),
    "gmail html reply": raw_email(
        sender="Tom Becker <tom.becker@gmail.com>",
        message_id="<CAH3xq9Vn2T4w@mail.gmail.com>",
        subject="Re: Your invoice INV-2291",
        body="Thanks, but the invoice still shows the old address. Can you fix it?\n\nTom\n",
        html=(
            '<div dir="ltr">Thanks, but the invoice still shows the old address. Can you fix it?'
            '<div><br></div><div>Tom</div></div><br><div class="gmail_quote"><div dir="ltr" '
            'class="gmail_attr">On Mon, 23 Nov 2026 at 09:12, Support &lt;support@example.org&gt;'
            ' wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
            'border-left:1px solid rgb(204,204,204);padding-left:1ex">Please find your invoice '
            "attached.</blockquote></div>"
        ),
        headers={
            "In-Reply-To": "<hl.12.34.abc@example.org>",
            "References": "<hl.12.34.abc@example.org>",
        },
    ),
    "outlook html complaint": raw_email(
        sender="Priya Natarajan <priya.natarajan@outlook.com>",
        message_id="<AM0PR07MB4417E3@AM0PR07MB4417.eurprd07.prod.outlook.com>",
        subject="Broken screen on delivery - need a replacement",
        body=(
            "Hello,\n\nthe tablet I received today has a cracked screen. The box was damaged too. "
            "I would like a replacement, not a refund. Photos are attached.\n\nKind regards,\n"
            "Priya\n"
        ),
        html=(
            '<html><head><style>p{margin:0}</style></head><body><div class="WordSection1"><p '
            'class="MsoNormal">Hello,</p><p class="MsoNormal">the tablet I received today has a '
            "cracked screen. The box was damaged too. I would like a replacement, not a refund. "
            'Photos are attached.</p><p class="MsoNormal">Kind regards,<br>Priya</p><table><tr>'
            '<td><img src="cid:image001.png@01DB3C"></td></tr></table></div></body></html>'
        ),
        attachments=[("IMG_2201.jpg", b"\xff\xd8\xff\xe0" + b"0" * 400, "image/jpeg")],
        headers={"X-Mailer": "Microsoft Outlook 16.0"},
    ),
    "german order question": raw_email(
        sender="Jürgen Müller <j.mueller@web.de>",
        message_id="<trinity-5b2e9c1a-77f0@3c-app-webde-bs12>",
        subject="Frage zu meiner Bestellung 10023 - Lieferung und Rechnung",
        body=(
            "Guten Tag,\n\nich habe letzte Woche zwei Kaffeemaschinen bestellt und bisher keine "
            "Versandbestätigung erhalten. Außerdem fehlt mir die Rechnung mit ausgewiesener "
            "Mehrwertsteuer. Können Sie mir bitte sagen, wann die Lieferung kommt?\n\nMit "
            "freundlichen Grüßen\nJürgen Müller\n"
        ),
    ),
    "forwarded promotion": raw_email(
        sender="Lena Fischer <lena.fischer@yahoo.com>",
        message_id="<1203945871.4419.1732350000123@mail.yahoo.com>",
        subject="Fwd: 20% OFF everything this weekend!",
        body=(
            "Hi, I got the mail below from you but the code does not work at checkout, it says "
            "expired. Can you help? I wanted to order the blue one.\n\nLena\n\n"
            "---------- Forwarded message ---------\nFrom: Example Shop <news@example.org>\n"
            "Subject: 20% OFF everything this weekend!\n\nThis weekend only: 20% off everything "
            "with code WEEKEND20. Free delivery on orders over $50. Shop now at "
            "https://shop.example.org\nUnsubscribe: https://shop.example.org/unsubscribe\n"
        ),
    ),
    "short call-back request": raw_email(
        sender="Tom <tom@kleinbau.de>",
        message_id="<5F1C2A.3010705@kleinbau.de>",
        subject="call back",
        body="Hi, can you call me back today? 0171 2345678. Thanks, Tom",
    ),
    "cancel subscription": raw_email(
        sender="Alex Chen <alex.chen@icloud.com>",
        message_id="<8A1F0C5E-2B7D-4E55-9C1B-6F2D3E4A5B6C@icloud.com>",
        subject="Please cancel my subscription and stop billing me",
        body=(
            "Hi,\n\nI want to cancel my premium subscription effective immediately. You charged "
            "me $19.99 again this month although I asked last month. Please confirm the "
            "cancellation and refund this charge.\n\nAlex\n\nSent from my iPhone\n"
        ),
    ),
    "angry customer in capitals": raw_email(
        sender="Bob Smith <bobsmith1962@aol.com>",
        message_id="<1a2b3c4d-5e6f@aol.com>",
        subject="WHERE IS MY MONEY!!!",
        body=(
            "I HAVE BEEN WAITING 3 WEEKS FOR MY REFUND OF $129.00!!! THIS IS UNACCEPTABLE. CALL "
            "ME NOW OR I WILL CONTACT MY BANK AND CANCEL THE PAYMENT!!!\n\nBOB\n"
        ),
    ),
    "japanese delivery question": raw_email(
        sender="山田 太郎 <t.yamada@example.co.jp>",
        message_id="<20261123091500.4F2A@example.co.jp>",
        subject="注文番号12345について",
        body=(
            "お世話になっております。先週注文した商品がまだ届いていません。"
            "配送状況を確認していただけますでしょうか。\n\n山田\n"
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(CUSTOMER_MAIL))
def test_customer_mail_that_looks_commercial_stays_out_of_spam(name):
    value = score(CUSTOMER_MAIL[name])
    assert spam.spam_band(value) != "spam", (name, value)


def test_most_customer_mail_is_not_even_suspected():
    bands = {name: spam.spam_band(score(raw)) for name, raw in CUSTOMER_MAIL.items()}
    assert sum(b == "ham" for b in bands.values()) >= len(bands) - 2, bands


OBVIOUS_SPAM = {
    "free money": raw_email(
        sender="deals4u8@promo.biz",
        subject="FREE MONEY!!! ACT NOW",
        body=(
            "Dear Friend,\n\nYou have been selected to receive a FREE credit report! Act now, "
            "limited time offer. Click here to remove yourself from our mailing list. 100% "
            "guaranteed, no risk, earn $$$ money from home, order now!!! Call toll free. This is "
            "not spam.\n"
        ),
    ),
    "html pills": (
        b"From: health4you2931@bestmeds-online.biz\r\nTo: undisclosed-recipients:;\r\n"
        b"Subject: LOSE 30 POUNDS IN 30 DAYS - GUARANTEED\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=iso-8859-1\r\n\r\n"
        b'<html><body bgcolor="#FFFFFF"><center><font face="Arial" size="5" color="#FF0000">'
        b"<b>LOSE WEIGHT FAST!!!</b></font><br><font size=3>Our amazing herbal formula burns "
        b"fat while you sleep. No diet, no exercise. 100% natural and GUARANTEED or your money "
        b'back!</font><br><a href="http://212.45.67.89/order.html"><img src="http://212.45.67.89/'
        b'pills.jpg"></a><br><a href="http://212.45.67.89/order.html">CLICK HERE TO ORDER NOW'
        b"</a><br><font size=1>To be removed from our mailing list click "
        b'<a href="http://212.45.67.89/remove.html">here</a>.</font></center></body></html>\r\n'
    ),
    "mortgage": raw_email(
        sender="Mortgage Center <rates7731@lowrates-now.com>",
        to="friend@example.org",
        subject="Lowest mortgage rates in years - approval guaranteed",
        body=(
            "HOMEOWNERS - interest rates are at their LOWEST point in 40 years!\n\nWe help you "
            "refinance your home, consolidate debt and lower your monthly payments. Approval "
            "guaranteed regardless of credit. Get a FREE quote now, no obligation, no cost.\n\n"
            "Click here: http://www.lowrates-now.com/apply\n\nYou are receiving this email "
            "because you opted in. To be removed from our list, reply with REMOVE in the "
            "subject.\n"
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(OBVIOUS_SPAM))
def test_obvious_spam_goes_to_spam(name):
    value = score(OBVIOUS_SPAM[name])
    assert spam.spam_band(value) == "spam", (name, value)


def test_bands_follow_the_threshold():
    assert spam.spam_band(0.99) == "spam"
    assert spam.spam_band(spam.SPAM_SCORE) == "spam"
    assert spam.spam_band(0.7) == "suspect"
    assert spam.spam_band(0.7, threshold=0.6) == "spam"
    assert spam.spam_band(0.49) == "ham"
    assert spam.spam_band(0.3, threshold=0.2) == "spam"
    assert spam.spam_band(0.99, known_sender=True) == "suspect"
    assert spam.spam_band(0.2, known_sender=True) == "ham"


def test_model_round_trips_and_calibration_anchors_the_cuts():
    model = spam.SpamModel(bias=0.0, weights={"cheap": 2.0, "invoice": -3.0})
    anchored = model.calibrated(suspect_raw=0.0, spam_raw=2.0)
    assert anchored.score([]) == pytest.approx(spam.SUSPECT_SCORE)
    assert anchored.score(["cheap", "unknown"]) == pytest.approx(spam.SPAM_SCORE)
    assert anchored.score(["invoice"]) < spam.SUSPECT_SCORE
    again = spam.SpamModel.from_json(anchored.to_json())
    assert again.score(["cheap", "cheap2"]) == pytest.approx(anchored.score(["cheap"]), abs=1e-3)
    with pytest.raises(ValueError):
        model.calibrated(suspect_raw=1.0, spam_raw=1.0)


def test_training_learns_from_examples_and_is_deterministic():
    spammy = [({"viagra", "free", "x:html_only"}, True, 1.0) for _ in range(5)]
    hammy = [({"invoice", "kettle", "free"}, False, 1.0) for _ in range(5)]
    first = spam.train(spammy + hammy, min_count=2, iterations=200)
    second = spam.train(spammy + hammy, min_count=2, iterations=200)
    assert first == second
    assert first.raw({"viagra"}) > 0 > first.raw({"invoice"})
    with pytest.raises(ValueError):
        spam.train(spammy, min_count=2)


def test_scoring_is_fast():
    parsed = [parse_email(raw) for raw in [*CUSTOMER_MAIL.values(), *OBVIOUS_SPAM.values()]]
    spam.spam_score(parsed[0])  # the model loads once
    started = time.perf_counter()
    for _ in range(20):
        for item in parsed:
            spam.spam_score(item)
    per_message = (time.perf_counter() - started) / (20 * len(parsed))
    assert per_message < 0.01  # ~0.1 ms measured; generous for a busy shared machine


def test_held_out_split_is_fixed_and_stratified():
    names = [f"{i:05d}.txt" for i in range(200)]
    held = spam.held_out_names("hard-ham-1", names)
    assert len(held) == 60 and held == spam.held_out_names("hard-ham-1", reversed(names))
    assert held != spam.held_out_names("spam-1", names)


def test_held_out_corpus_stays_within_recorded_bounds(spam_assassin_dir):
    """Same split as bench/email_spam.py; figures recorded in docs/benchmarks.md."""
    counts: dict[str, list[int]] = {}
    for folder in sorted(p for p in spam_assassin_dir.iterdir() if p.is_dir()):
        paths = sorted(folder.glob("*.txt"))
        held = spam.held_out_names(folder.name, [p.name for p in paths])
        tally = counts.setdefault(folder.name, [0, 0])
        for path in paths:
            if path.name not in held:
                continue
            try:
                parsed = parse_email(path.read_bytes())
            except EmailParseError:
                continue
            tally[0] += 1
            tally[1] += spam.spam_band(spam.spam_score(parsed)) == "spam"
    ham = [v for k, v in counts.items() if not k.startswith("spam")]
    spams = [v for k, v in counts.items() if k.startswith("spam")]
    ham_in_spam = sum(v[1] for v in ham) / sum(v[0] for v in ham)
    hard = counts["hard-ham-1"]
    recall = sum(v[1] for v in spams) / sum(v[0] for v in spams)
    assert sum(v[0] for v in ham) > 1200 and sum(v[0] for v in spams) > 550
    assert ham_in_spam <= 0.005, counts
    assert hard[1] <= 3, counts  # of 75 hard ham (newsletters, commercial mail people asked for)
    assert recall >= 0.85, counts
