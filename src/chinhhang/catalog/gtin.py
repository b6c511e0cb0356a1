"""GS1 Global Trade Item Numbers: check digit and the canonical 14-digit form. Pure module."""

from __future__ import annotations

from chinhhang.check_digits import check_digit
from chinhhang.i18n import N_

__all__ = ["GTIN_LENGTHS", "InvalidGtin", "canonical_gtin", "check_digit"]

GTIN_LENGTHS = frozenset({8, 12, 13, 14})


class InvalidGtin(ValueError):
    """Not a GTIN; the message says why in words a person can act on."""


def canonical_gtin(text: str) -> str:
    """Return the GTIN-14 of an 8, 12, 13 or 14 digit GTIN, or raise InvalidGtin."""
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit():
        raise InvalidGtin(N_("A GTIN has digits only."))
    if len(digits) not in GTIN_LENGTHS:
        raise InvalidGtin(N_("A GTIN has 8, 12, 13 or 14 digits."))
    if check_digit(digits[:-1]) != int(digits[-1]):
        raise InvalidGtin(N_("The GTIN check digit is wrong; check the number for a typing error."))
    return digits.zfill(14)


def is_valid_gtin(text: str) -> bool:
    try:
        canonical_gtin(text)
    except InvalidGtin:
        return False
    return True
