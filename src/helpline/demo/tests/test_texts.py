from __future__ import annotations

from helpline.demo import texts

FILL = {"first": "Ana", "order": "NW-1", "product": "Kettle", "days": "5", "agent": "Sam"}


def test_every_language_of_a_family_can_tell_a_whole_story():
    for family in texts.FAMILIES:
        for language in family.subjects:
            assert family.openers.get(language), (family.key, language)
            assert family.replies.get(language), (family.key, language)
            assert language in texts.GENERIC_FOLLOWUPS and language in texts.SIGN_OFF
            pools = [family.subjects[language], family.openers[language],
                     family.replies[language], family.followups.get(language, ())]
            for pool in pools:
                for text in pool:
                    assert text.format(**FILL).strip(), (family.key, language)


def test_parallel_variants_line_up():
    # Where a language has one subject and one reply per opener, they are read together.
    billing = next(f for f in texts.FAMILIES if f.key == "billing")
    assert "VAT" in billing.subjects["en"][1] and "VAT" in billing.openers["en"][1]
    assert "invoice" in billing.replies["en"][1]
    login = next(f for f in texts.FAMILIES if f.key == "login")
    assert "locked" in login.openers["en"][1] and "unlocked" in login.replies["en"][1]
