"""A table of figures: named columns and rows of plain values, shown under a chart, served as
JSON and exported as CSV from the same object, so the three never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

Value = int | float | str | date | datetime | None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...] = ()

    def records(self) -> list[dict[str, Value]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Value]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def counts(self, name: str) -> list[int]:
        """A count column as whole numbers (None as 0)."""
        return [value if isinstance(value, int) else 0 for value in self.column(name)]

    def total(self, name: str) -> int:
        return sum(self.counts(name))

    def json(self) -> list[dict[str, Any]]:
        """Records with dates and times as ISO 8601 text."""
        return [
            {key: _json_value(value) for key, value in record.items()} for record in self.records()
        ]


def _json_value(value: Value) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
