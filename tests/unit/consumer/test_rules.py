"""The warranty's pure rules (consumer/rules.py) held to their properties."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.consumer.rules import add_months, parse_purchase_date, parse_serial, years_before
from chinhhang.errors import InvalidInput
from chinhhang.spreadsheet import text_cell as _cell
from chinhhang.stamps.serials import MAX_SEQUENCE, grouped, serial_for


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


@given(st.dates(date(1000, 1, 1), date(9999, 12, 31)), st.sampled_from(["/", "-", ".", " / "]))
def test_a_purchase_date_is_read_as_sent_or_as_typed_day_first(day: date, sep: str) -> None:
    assert parse_purchase_date(day.isoformat()) == day  # what a date input sends
    assert parse_purchase_date(f" {day.day:02d}{sep}{day.month:02d}{sep}{day.year} ") == day
    assert parse_purchase_date(f"{day.day}{sep}{day.month}{sep}{day.year}") == day


@given(st.text(max_size=30))
def test_any_other_text_is_a_clear_refusal(text: str) -> None:
    said, parsed = None, None
    try:
        parsed = parse_purchase_date(text)
    except InvalidInput as refused:
        said = refused.message
    if said is not None:
        assert "day/month/year" in said
    else:
        assert parsed is not None or not text.strip()


@pytest.mark.parametrize(
    "text",
    ["31/02/2026", "28/13/2026", "2026/11/28", "28/11/26", "28-11", "२८/११/२०२६", "28112026"],
)
def test_impossible_or_ambiguous_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_purchase_date(text)
    assert "day/month/year" in refused.value.message
    assert parse_purchase_date("   ") is None
