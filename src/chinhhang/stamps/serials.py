"""Serial numbers: what a shopper reads aloud and compares with the printed stamp.

A serial is a sequence number within the organization, zero-padded to 11 digits, followed by a
Damm check digit: 12 digits shown as three groups of four ("0000 0012 3458"). Damm catches every
single-digit error and every swap of adjacent digits, with no extra symbols (unlike ISO 7064
mod 11, which sometimes needs an "X"). Serials are public and sequential on purpose; the secret
lives in the code, never here. Pure module.
"""

from __future__ import annotations

from functools import cache, lru_cache

SEQUENCE_DIGITS = 11
SERIAL_DIGITS = SEQUENCE_DIGITS + 1
MAX_SEQUENCE = 10**SEQUENCE_DIGITS - 1

# The totally anti-symmetric quasigroup of order 10 from H. M. Damm's 2004 thesis.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


class InvalidSerial(ValueError):
    """Not a serial: wrong characters, wrong length or a failed check digit."""


def damm_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return interim


def is_valid_damm(digits: str) -> bool:
    return digits.isascii() and digits.isdigit() and damm_digit(digits) == 0


def _damm_from(interim: int, digits: str) -> int:
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return interim


@cache
def _check_digits_after(interim: int) -> str:
    """The check digit of every 4-digit tail "0000"…"9999" that follows a prefix ending in
    state `interim`, as one string indexed by the tail: exports write millions of serials in a
    row, and a lookup costs a fraction of eleven table steps."""
    return "".join(str(_damm_from(interim, f"{tail:04d}")) for tail in range(10_000))


@lru_cache(maxsize=4096)
def _prefix_state(prefix: int) -> int:
    return _damm_from(0, f"{prefix:0{SEQUENCE_DIGITS - 4}d}")


def serial_for(sequence: int) -> str:
    """The 12-digit serial of the `sequence`-th stamp of an organization (1-based)."""
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise InvalidSerial(f"sequence {sequence} is out of range")
    prefix, tail = divmod(sequence, 10_000)
    return f"{sequence:0{SEQUENCE_DIGITS}d}{_check_digits_after(_prefix_state(prefix))[tail]}"


def sequence_of(serial: str) -> int:
    """Inverse of serial_for; accepts the grouped form with spaces or hyphens."""
    digits = serial.replace(" ", "").replace("-", "")
    if len(digits) != SERIAL_DIGITS or not is_valid_damm(digits):
        raise InvalidSerial("not a valid serial number")
    sequence = int(digits[:-1])
    if sequence < 1:
        raise InvalidSerial("not a valid serial number")
    return sequence


def grouped(serial: str) -> str:
    """ "000000123458" -> "0000 0012 3458", the form printed and shown on the genuine page."""
    if len(serial) == SERIAL_DIGITS:  # every serial: sliced, a CSV export calls it a million times
        return f"{serial[:4]} {serial[4:8]} {serial[8:]}"
    return " ".join(serial[i : i + 4] for i in range(0, len(serial), 4))
