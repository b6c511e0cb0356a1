"""A dashboard table as a CSV file people open in a spreadsheet.

UTF-8 with a byte-order mark, or Excel reads Vietnamese names as mojibake; a header row of the
table's column names (stable English keys, the same as the JSON's); dates as YYYY-MM-DD and
times in ISO 8601 on Vietnam's clock. Text that a spreadsheet would run as a formula (a cell
starting with =, +, -, @, a tab or a carriage return: a product or shop name is anyone's
text) gets a leading apostrophe, the usual guard against CSV formula injection.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from chinhhang.regulator.services.tables import Table, Value

BOM = "\ufeff"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Value) -> str | int | float:
    """One value as written: numbers as they are, times on Vietnam's clock, text guarded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.astimezone(ZONE).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def table_csv(table: Table) -> str:
    """The whole table, header first, as text (the BOM included); encode as UTF-8."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()
