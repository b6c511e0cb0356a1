"""The warranty's pure rules: serials as people type them, calendar months (phones: phones.py).

No I/O here; tests/unit/consumer holds these to their properties with hypothesis.
"""

from __future__ import annotations

import calendar
from datetime import date

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.stamps.serials import InvalidSerial, sequence_of, serial_for


def parse_serial(text: str) -> str:
    """The 12 digits of a serial typed grouped ("0000 0012 3458") or not; InvalidInput when
    it is not one (wrong length, or a check digit that catches the typo)."""
    try:
        return serial_for(sequence_of(text.strip()[:40]))
    except InvalidSerial:
        raise InvalidInput(
            N_("This is not a valid serial number: check the 12 digits printed on the stamp.")
        ) from None


def add_months(start: date, months: int) -> date:
    """`start` plus calendar months; a day the month lacks becomes its last day (31 January
    plus one month is 28 or 29 February)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last_day))


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February becomes 28 February)."""
    return add_months(day, -12 * years)
