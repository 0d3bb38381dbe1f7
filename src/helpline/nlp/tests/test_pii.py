from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from helpline.nlp.pii import find_pii, iban_ok, luhn_ok, mask_pii


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the check digit that makes it pass Luhn."""
    for d in "0123456789":
        if luhn_ok(prefix + d):
            return prefix + d
    raise AssertionError


def test_luhn_known_numbers():
    assert luhn_ok("4111111111111111")
    assert luhn_ok("5500005555555559")
    assert not luhn_ok("4111111111111112")


@given(st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_any_luhn_valid_card_is_masked_whatever_the_spacing(prefix):
    number = luhn_complete(prefix)
    if len(set(number)) == 1:
        return  # 0000… is not treated as a card
    grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    for written in (number, grouped, grouped.replace(" ", "-")):
        masked, findings = mask_pii(f"my card: {written}, thanks")
        assert written not in masked
        assert [f.kind for f in findings] == ["card"]
        assert f"•••• {number[-4:]}" in masked


@given(st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_a_wrong_check_digit_is_left_alone(prefix):
    good = luhn_complete(prefix)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert not any(f.kind == "card" for f in find_pii(f"order {bad}"))


def test_iban_checked_with_mod_97():
    assert iban_ok("DE89 3704 0044 0532 0130 00")
    assert iban_ok("GB82WEST12345698765432")
    assert not iban_ok("DE89 3704 0044 0532 0130 01")
    masked, findings = mask_pii("Refund to GB82 WEST 1234 5698 7654 32 please")
    assert "WEST" not in masked and findings[0].kind == "iban"


def test_passwords_and_security_codes():
    masked, findings = mask_pii("login is me@x.org and my password is: S3cret!pass. CVC 987")
    assert "S3cret" not in masked and "987" not in masked
    assert {f.kind for f in findings} == {"password", "cvv"}
    for harmless in (
        "I forgot my password",
        "the password reset link expired",
        "Passwort vergessen",
    ):
        assert mask_pii(harmless) == (harmless, [])


@given(st.text(max_size=300))
def test_masking_is_idempotent_and_never_crashes(text):
    once, _ = mask_pii(text)
    twice, findings = mask_pii(once)
    assert twice == once
    assert findings == []
