"""The dashboard's filters: Vietnam's days, bounded ranges, and a clear refusal for anything
typed wrong (never another exception)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.errors import InvalidInput
from chinhhang.regulator.filters import MAX_DAYS, Filters, parse_filters, parse_stamp
from chinhhang.stamps.serials import grouped, serial_for

TODAY = date(2026, 11, 27)


def test_the_default_is_the_last_thirty_days_to_today() -> None:
    filters = parse_filters(today=TODAY)
    assert (filters.first, filters.last) == (date(2026, 10, 29), TODAY)
    assert len(filters.days) == 30
    assert filters.province is None
    assert filters.org_id is None


def test_a_day_runs_from_midnight_to_midnight_in_vietnam() -> None:
    filters = parse_filters(first="2026-11-27", last="2026-11-27", today=TODAY)
    assert filters.since == datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    assert filters.until == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


def test_values_are_read() -> None:
    filters = parse_filters(
        first="2026-01-01", last="2026-12-31", province=" 79 ", org="12", product="3", today=TODAY
    )
    assert (filters.province, filters.org_id, filters.product_id) == (79, 12, 3)
    assert filters.query() == "from=2026-01-01&to=2026-12-31&province=79&org=12&product=3"
    assert (
        filters.query(org_id=None, province=1)
        == "from=2026-01-01&to=2026-12-31&province=1&product=3"
    )


@pytest.mark.parametrize(
    "values",
    [
        {"first": "2026-02-30"},
        {"first": "20261101"},
        {"last": "2026-W01-1"},
        {"first": "2026-11-28", "last": "2026-11-27"},
        {"first": "2025-01-01", "last": "2026-01-02"},
        {"first": "1999-12-31"},
        {"province": "0"},
        {"province": "999"},
        {"province": "1.0"},
        {"org": "0"},
        {"org": "2147483648"},
        {"product": "١٢"},  # Arabic-Indic digits are digits to str.isdigit
    ],
)
def test_wrong_values_are_refused(values) -> None:
    with pytest.raises(InvalidInput):
        parse_filters(today=TODAY, **values)


def test_a_range_may_be_a_whole_leap_year() -> None:
    filters = parse_filters(first="2028-01-01", last="2028-12-31", today=TODAY)
    assert len(filters.days) == MAX_DAYS


@given(
    first=st.text(max_size=12),
    last=st.text(max_size=12),
    province=st.text(max_size=4),
    org=st.text(max_size=12),
    product=st.text(max_size=12),
)
def test_any_text_is_either_filters_or_a_clear_refusal(first, last, province, org, product) -> None:
    try:
        filters = parse_filters(
            first=first, last=last, province=province, org=org, product=product, today=TODAY
        )
    except InvalidInput as error:
        refusal = error.message
        assert refusal
        return
    assert isinstance(filters, Filters)
    assert 1 <= len(filters.days) <= MAX_DAYS
    assert filters.since < filters.until


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(0, 365))
def test_valid_ranges_round_trip(first, length) -> None:
    last = min(first + timedelta(days=length), date(2099, 12, 31))
    filters = parse_filters(first=first.isoformat(), last=last.isoformat(), today=TODAY)
    assert filters.days[0] == first
    assert filters.days[-1] == last
    assert filters.until - filters.since == timedelta(days=len(filters.days))


def test_a_stamp_is_named_by_serial_grouped_or_not() -> None:
    serial = serial_for(12345)
    assert parse_stamp("7", serial) == (7, 12345)
    assert parse_stamp("7", grouped(serial)) == (7, 12345)
    assert parse_stamp("", serial) == (None, 12345)
    assert parse_stamp("", "") is None
    wrong = serial[:-1] + str((int(serial[-1]) + 1) % 10)
    with pytest.raises(InvalidInput, match="check"):
        parse_stamp("7", wrong)
    with pytest.raises(InvalidInput):
        parse_stamp("x", serial)
