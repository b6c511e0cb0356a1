"""CSV exports: a BOM for Excel, a header, times on Vietnam's clock, formulas disarmed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from chinhhang.regulator.csv_export import cell, table_csv
from chinhhang.regulator.services.tables import Table


def test_a_table_becomes_csv_with_bom_and_header() -> None:
    table = Table(
        "t",
        ("day", "name", "count", "at", "nothing"),
        (
            (
                date(2026, 11, 27),
                "Thành phố Hà Nội",
                3,
                datetime(2026, 11, 26, 17, 10, tzinfo=UTC),
                None,
            ),
        ),
    )
    text = table_csv(table)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows == [
        ["day", "name", "count", "at", "nothing"],
        ["2026-11-27", "Thành phố Hà Nội", "3", "2026-11-27T00:10:00+07:00", ""],
    ]


def test_cells_that_spreadsheets_would_run_are_quoted() -> None:
    for text in ("=1+1", "+84", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert cell(text) == "'" + text
    assert cell("Nước mắm = ngon") == "Nước mắm = ngon"
    assert cell(-2) == -2  # numbers are numbers


@given(st.lists(st.tuples(st.text(), st.integers()), max_size=20))
def test_any_text_round_trips_through_the_csv_reader(rows) -> None:
    table = Table("t", ("text", "n"), tuple(rows))
    parsed = list(csv.reader(io.StringIO(table_csv(table).removeprefix("\ufeff"), newline="")))
    assert parsed[0] == ["text", "n"]
    assert len(parsed) == len(rows) + 1
    for (text, n), (read_text, read_n) in zip(rows, parsed[1:], strict=True):
        guarded = text.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert read_text == ("'" + text if guarded else text)
        assert int(read_n) == n
