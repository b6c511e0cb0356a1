"""The warranty's pure rules (consumer/rules.py) held to their properties."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.consumer.export import _cell
from chinhhang.consumer.rules import add_months, normalise_phone, parse_serial, years_before
from chinhhang.errors import InvalidInput
from chinhhang.stamps.serials import MAX_SEQUENCE, grouped, serial_for

SUBSCRIBER = st.from_regex(r"[1-9][0-9]{8}", fullmatch=True)
SEPARATOR = st.sampled_from(["", " ", ".", "-", " - "])


def _spread(digits: str, separators: list[str]) -> str:
    """`digits` with a separator after each digit (as many as given)."""
    return "".join(d + (separators[i] if i < len(separators) else "") for i, d in enumerate(digits))


@given(SUBSCRIBER, st.lists(SEPARATOR, max_size=9))
def test_every_way_to_write_a_number_gives_the_same_ten_digits(
    subscriber: str, separators: list[str]
) -> None:
    national = "0" + subscriber
    forms = [
        national,
        "+84" + subscriber,
        "0084" + subscriber,
        "+84" + national,  # "+84 0912…", as people write it too
        _spread(national, separators),
        "+84 " + _spread(subscriber, separators),
        f"({national[:4]}) {national[4:]}",
    ]
    assert {normalise_phone(text) for text in forms} == {national}
    assert normalise_phone(national) == normalise_phone(normalise_phone(national))


@given(st.text(max_size=40))
def test_any_text_is_a_valid_number_or_refused(text: str) -> None:
    try:
        number = normalise_phone(text)
    except InvalidInput:
        return
    assert len(number) == 10
    assert number.isascii()
    assert number.isdigit()
    assert number[0] == "0"
    assert number[1] != "0"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0912",
        "09123456789",
        "1912345678",
        "0012345678",
        "+1 415 555 0100",
        "０９１２３４５６７８",
    ],
)
def test_not_vietnamese_numbers(text: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_phone(text)


@given(st.dates(date(1990, 1, 1), date(2200, 12, 31)), st.integers(-240, 240))
def test_calendar_months(start: date, months: int) -> None:
    end = add_months(start, months)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months
    last_day = calendar.monthrange(end.year, end.month)[1]
    assert end.day == min(start.day, last_day)  # the day, clamped to the month's end
    if months >= 0:
        assert end >= start
    assert add_months(end, 0) == end


@given(st.dates(date(1990, 1, 1), date(2200, 12, 31)), st.integers(0, 120), st.integers(0, 120))
def test_more_months_never_end_earlier(start: date, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert add_months(start, low) <= add_months(start, high)


def test_month_ends_are_clamped() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 8, 31), 13) == date(2027, 9, 30)
    assert add_months(date(2026, 11, 30), 24) == date(2028, 11, 30)
    assert years_before(date(2028, 2, 29), 10) == date(2018, 2, 28)


@given(st.integers(1, MAX_SEQUENCE))
def test_serials_are_read_grouped_or_not(sequence: int) -> None:
    serial = serial_for(sequence)
    assert parse_serial(serial) == serial
    assert parse_serial(f" {grouped(serial)} ") == serial
    assert parse_serial(grouped(serial).replace(" ", "-")) == serial


@given(st.integers(1, MAX_SEQUENCE), st.integers(0, 11), st.integers(1, 9))
def test_a_mistyped_digit_is_refused(sequence: int, where: int, shift: int) -> None:
    serial = serial_for(sequence)
    typo = serial[:where] + str((int(serial[where]) + shift) % 10) + serial[where + 1 :]
    with pytest.raises(InvalidInput):
        parse_serial(typo)


@pytest.mark.parametrize(
    ("text", "cell"),
    [("=1+1", "'=1+1"), ("+84", "'+84"), ("@SUM(A1)", "'@SUM(A1)"), ("Cửa hàng A", "Cửa hàng A")],
)
def test_export_cells_are_never_formulas(text: str, cell: str) -> None:
    assert _cell(text) == cell
