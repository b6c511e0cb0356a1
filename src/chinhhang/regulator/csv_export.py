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

from chinhhang.regulator.services.tables import Table
from chinhhang.spreadsheet import BOM, cell

__all__ = ["cell", "table_csv"]


def table_csv(table: Table) -> str:
    """The whole table, header first, as text (the BOM included); encode as UTF-8."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()
