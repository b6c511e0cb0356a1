from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.stamps.codes import (
    ALPHABET,
    CODE_LENGTH,
    TAG_CHARS,
    InvalidCode,
    Keyring,
    _b32,
    _tag,
    guess_probability,
    new_code,
    new_codes,
    normalise,
    verify,
)

KEYRING = Keyring({0: b"k" * 32})
OTHER = Keyring({0: b"x" * 32})
codes = st.builds(lambda _: new_code(KEYRING), st.integers())


@given(codes)
def test_a_new_code_verifies_and_is_short_crockford(code: str) -> None:
    assert verify(KEYRING, code) == code
    assert len(code) == CODE_LENGTH <= 26
    assert set(code) <= set(ALPHABET)
    assert not set(code) & set("ILOU")


@given(codes, st.data())
def test_any_one_character_change_is_rejected(code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(code) - 1))
    replacement = data.draw(st.sampled_from([c for c in ALPHABET if c != code[position]]))
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(InvalidCode):
        verify(KEYRING, changed)


@given(codes, st.data())
def test_decoding_ignores_case_hyphens_and_reads_i_l_o(code: str, data: st.DataObject) -> None:
    mixed = "".join(
        c.lower() if data.draw(st.booleans(), label=f"lower {i}") else c for i, c in enumerate(code)
    )
    spaced = "-".join(mixed[i : i + 4] for i in range(0, len(mixed), 4))
    assert verify(KEYRING, spaced) == code
    confusable = code.replace("1", "l").replace("0", "O")
    assert verify(KEYRING, confusable) == code


@given(codes)
def test_a_code_made_with_another_secret_is_rejected(code: str) -> None:
    with pytest.raises(InvalidCode):
        verify(OTHER, code)


@pytest.mark.parametrize(
    "text",
    ["", "A", "0" * 10_000, "Đ" * 24, "../../etc/passwd", "0" * 23 + "U", " " * 30, "\x00" * 24],
)
def test_malformed_text_is_not_a_code(text: str) -> None:
    with pytest.raises(InvalidCode):
        verify(KEYRING, text)


@given(st.text(max_size=80))
def test_arbitrary_text_never_crashes_the_decoder(text: str) -> None:
    with contextlib.suppress(InvalidCode):
        normalise(text)


def test_codes_in_bulk_are_distinct() -> None:
    batch = list(new_codes(KEYRING, 20_000))
    assert len(set(batch)) == 20_000
    assert all(verify(KEYRING, c) == c for c in batch[:100])


def test_the_key_id_names_the_secret_that_verifies() -> None:
    ring = Keyring({0: b"a" * 32, 5: b"b" * 32}, current=5)
    code = new_code(ring)
    assert code[0] == ALPHABET[5]
    assert verify(ring, code) == code
    with pytest.raises(InvalidCode):
        verify(Keyring({0: b"a" * 32}), code)


def test_guessing_a_billion_issued_codes_is_below_one_in_a_quadrillion() -> None:
    assert guess_probability(10**9) < 1e-15


def test_a_keyring_refuses_short_keys_and_missing_current() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        Keyring({0: b"short"})
    with pytest.raises(ValueError, match="current"):
        Keyring({0: b"a" * 32}, current=1)


@given(st.binary(min_size=32, max_size=32))
def test_the_fast_tag_is_the_base32_of_the_hmacs_first_35_bits(digest: bytes) -> None:
    """Codes already printed must keep verifying: the tag's quick encoding is exactly the
    plain base32 of the digest's first five bytes, cut to seven characters."""

    class Fixed:
        def digest(self, _message: bytes) -> bytes:
            return digest

    assert _tag(Fixed(), "ANY") == _b32(digest[:5])[:TAG_CHARS]  # type: ignore[arg-type]
