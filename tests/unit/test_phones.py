"""Vietnamese phone numbers (phones.py): every written form, and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.errors import InvalidInput
from chinhhang.phones import normalise_phone

MOBILE = st.from_regex(r"0[35789][0-9]{8}", fullmatch=True)
SEPARATORS = st.lists(st.sampled_from(["", " ", ".", "-", " - ", "\u00a0"]), max_size=9)


def _spread(digits: str, separators: list[str]) -> str:
    return "".join(d + (separators[i] if i < len(separators) else "") for i, d in enumerate(digits))


@given(MOBILE, SEPARATORS)
def test_every_way_to_write_a_mobile_gives_its_ten_digits(national: str, seps: list[str]) -> None:
    subscriber = national[1:]
    forms = [
        national,
        "+84" + subscriber,
        "0084" + subscriber,
        "+84" + national,  # "+84 0912…", as people write it too
        _spread(national, seps),
        "+84 " + _spread(subscriber, seps),
        f"({national[:4]}) {national[4:]}",
    ]
    assert {normalise_phone(text) for text in forms} == {national}
    assert normalise_phone(normalise_phone(national)) == national


def test_landlines_have_eleven_digits() -> None:
    assert normalise_phone("024 3825 1234") == "02438251234"
    assert normalise_phone("+84 24 3825 1234") == "02438251234"


@given(st.text(max_size=45))
def test_any_text_is_a_number_in_national_form_or_a_clear_refusal(text: str) -> None:
    try:
        number = normalise_phone(text)
    except InvalidInput as refused:
        message = refused.message
        assert "Vietnamese number" in message
        return
    assert number.isascii()
    assert number.isdigit()
    assert (len(number), number[:2]) in {(10, number[:2]), (11, "02")}
    assert number[1] in "35789" or number.startswith("02")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "0912",
        "091234567",
        "09123456789",
        "1912345678",
        "0012345678",
        "0112345678",
        "84912345678",
        "+8591234567",
        "+1 415 555 0100",
        "09x2345678",
        "+84",
        "０９１２３４５６７８",
    ],
)
def test_other_numbers_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_phone(bad)
