from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from helpline.nlp.embeddings import HashingEmbedder, embed, most_similar
from helpline.nlp.reply_checks import ReplyHint, check_reply, grade_level


def codes(hints: list[ReplyHint]) -> set[str]:
    return {h.code for h in hints}


def test_readability_and_long_sentences():
    simple = "We sent your refund today. It reaches your bank in three days. Sorry for the wait."
    dense = (
        "Notwithstanding the aforementioned considerations, the reimbursement authorisation "
        "procedure necessitates comprehensive verification, documentation and organisational "
        "approval, consequently resulting in considerable administrative processing intervals "
        "before any disbursement materialises in the beneficiary's designated account."
    )
    assert grade_level(simple) < 6 < grade_level(dense)
    assert "readability" in codes(check_reply(dense))
    assert "long_sentence" in codes(check_reply(dense))
    assert not codes(check_reply(simple)) & {"readability", "long_sentence"}


def test_jargon_list_is_configurable():
    hints = check_reply("We will escalate your ticket.", jargon={"escalate": "pass on"})
    assert [h.message for h in hints if h.code == "jargon"] == [
        "“escalate” may be unclear: try “pass on”."
    ]
    assert "jargon" not in codes(check_reply("We will escalate your ticket.", jargon={}))


def test_acknowledgement_only_when_upset():
    reply = "Your refund was sent today."
    assert "acknowledge" in codes(check_reply(reply, customer_sentiment="very_negative"))
    assert "acknowledge" not in codes(check_reply(reply, customer_sentiment="neutral"))
    sorry = "I'm sorry about the wait. Your refund was sent today."
    assert "acknowledge" not in codes(check_reply(sorry, customer_sentiment="very_negative"))
    german = "Entschuldigen Sie die Verzögerung. Die Erstattung ist unterwegs."
    assert "acknowledge" not in codes(
        check_reply(german, customer_sentiment="negative", language="de")
    )


def test_unanswered_question():
    customer = "Where is my refund? Also, can I change my delivery address?"
    partial = check_reply("Your refund left our bank today.", customer_message=customer)
    unanswered = [h.excerpt for h in partial if h.code == "unanswered"]
    assert unanswered == ["Also, can I change my delivery address?"]
    full = check_reply(
        "Your refund left today, and I changed the delivery address as you asked.",
        customer_message=customer,
    )
    assert "unanswered" not in codes(full)


def test_sensitive_data_in_reply():
    hints = check_reply("Your new password is Tr0ub4dor&3, card 4111 1111 1111 1111 on file.")
    assert [h.code for h in hints if h.code == "sensitive"] == ["sensitive", "sensitive"]


def test_embeddings_are_normalised_and_similar_texts_are_closer():
    vectors = embed(
        ["my refund has not arrived", "the refund did not arrive yet", "the app crashes", ""]
    )
    assert vectors.shape == (4, 512)
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5)
    assert not vectors[3].any()
    best = most_similar(vectors[0], vectors[1:3], k=2)
    assert best[0][0] == 0 and best[0][1] > best[1][1]


@given(st.text(max_size=200))
def test_hashing_is_deterministic(text):
    a = HashingEmbedder().embed([text])
    b = HashingEmbedder().embed([text])
    assert np.array_equal(a, b)
