from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.catalog.gtin import InvalidGtin, canonical_gtin, check_digit, is_valid_gtin


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("614141000036", "00614141000036"),  # GTIN-12 (UPC-A)
        ("8934588012228", "08934588012228"),  # GTIN-13, a Vietnamese prefix
        ("10614141000033", "10614141000033"),  # GTIN-14
    ],
)
def test_valid_gtins_become_fourteen_digits(text: str, canonical: str) -> None:
    assert canonical_gtin(text) == canonical


@given(st.sampled_from([7, 11, 12, 13]), st.data())
def test_a_wrong_check_digit_is_refused(length: int, data: st.DataObject) -> None:
    body = data.draw(st.text("0123456789", min_size=length, max_size=length))
    right = check_digit(body)
    assert is_valid_gtin(body + str(right))
    wrong = data.draw(st.sampled_from([d for d in range(10) if d != right]))
    with pytest.raises(InvalidGtin, match="check digit"):
        canonical_gtin(body + str(wrong))


@pytest.mark.parametrize(
    "text", ["", "123", "12345678901", "abcdefghijklm", "１２３４５６７８", "0" * 15]
)
def test_malformed_gtins_say_why(text: str) -> None:
    with pytest.raises(InvalidGtin):
        canonical_gtin(text)
