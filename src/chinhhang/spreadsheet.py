"""CSV cells as spreadsheet programs will read them. Pure module.

Exports (the market-control tables, warranty registrations) are opened in Excel or LibreOffice:
UTF-8 needs a byte-order mark there to show Vietnamese, and a cell that starts like a formula
would be run (CSV injection: shoppers and businesses typed these texts), so it gets a leading
apostrophe. Times are written on Vietnam's clock.
"""

from __future__ import annotations

from datetime import date, datetime

from chinhhang.localtime import DISPLAY_ZONE

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Value = str | int | float | bool | date | datetime | None


def text_cell(text: str) -> str:
    """Text as text: a leading apostrophe keeps a spreadsheet from running it."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def cell(value: Value) -> str | int | float:
    """One value as written: numbers as they are, times on Vietnam's clock, text guarded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.astimezone(DISPLAY_ZONE).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return text_cell(str(value))
