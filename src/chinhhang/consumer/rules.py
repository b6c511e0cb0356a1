"""The warranty's pure rules: phone numbers, serials as people type them, calendar months.

No I/O here; tests/unit/consumer holds these to their properties with hypothesis.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.stamps.serials import InvalidSerial, sequence_of, serial_for

# What people put between digits: spaces, dots, hyphens, brackets around an area code.
_SEPARATORS = re.compile(r"[ .\-()\u00a0]")
# A Vietnamese number in national form: 0, then a non-zero digit, ten digits in all.
_NATIONAL = re.compile(r"0[1-9][0-9]{8}")
_MAX_PHONE_TEXT = 30


def normalise_phone(text: str) -> str:
    """A Vietnamese phone number in its stored form, ten digits starting with 0.

    Accepts the national form ("0912 345 678", "091.234.5678") and the international one
    ("+84 912 345 678", "0084912345678", and "+84 0912…" as people write it too); raises
    InvalidInput for anything else.
    """
    compact = _SEPARATORS.sub("", text.strip()) if len(text) <= _MAX_PHONE_TEXT else ""
    for prefix in ("+84", "0084"):
        if compact.startswith(prefix):
            rest = compact[len(prefix) :]
            compact = rest if rest.startswith("0") else "0" + rest
            break
    if not _NATIONAL.fullmatch(compact):
        raise InvalidInput(
            N_("Give a Vietnamese phone number of 10 digits starting with 0 (or +84).")
        )
    return compact


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
