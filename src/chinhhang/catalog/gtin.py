"""GS1 Global Trade Item Numbers: check digit and the canonical 14-digit form. Pure module."""

from __future__ import annotations

from chinhhang.i18n import N_

GTIN_LENGTHS = frozenset({8, 12, 13, 14})


class InvalidGtin(ValueError):
    """Not a GTIN; the message says why in words a person can act on."""


def check_digit(body: str) -> int:
    """GS1 mod-10: weights 3,1,3,… from the rightmost digit of the body."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


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
