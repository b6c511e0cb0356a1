"""The warranty's pure rules: serials as people type them, calendar months (phones: phones.py).

No I/O here; tests/unit/consumer holds these to their properties with hypothesis.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.stamps.serials import InvalidSerial, sequence_of, serial_for

# What a date input sends, and how people in Vietnam write a date by hand.
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2})\s*[/.-]\s*([0-9]{1,2})\s*[/.-]\s*([0-9]{4})")


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


def parse_purchase_date(text: str) -> date | None:
    """The purchase date as a date input sends it (2026-11-28) or as typed by hand, day
    first (28/11/2026, 28-11-2026, 28.11.2026); None when empty. InvalidInput, saying how to
    write it, for anything else or a day the calendar lacks (31/02)."""
    text = text.strip()
    if not text:
        return None
    iso, typed = _ISO_DATE.fullmatch(text), _DAY_MONTH_YEAR.fullmatch(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if typed:
            return date(int(typed[3]), int(typed[2]), int(typed[1]))
    except ValueError:
        pass
    raise InvalidInput(N_("Write the purchase date as day/month/year, e.g. 28/11/2026."))
