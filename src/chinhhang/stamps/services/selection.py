"""Which stamps an action applies to: a whole run, a serial range, or a list of serials."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.stamps.serials import (
    SERIAL_DIGITS,
    InvalidSerial,
    is_valid_damm,
    sequence_of,
    serial_for,
)

# About 10,000 serials written out; more than that is what ranges are for.
MAX_SERIALS_TEXT = 200_000
# The largest run: a range wider than that cannot be one run's stamps.
MAX_RANGE = 50_000_000


@dataclass(frozen=True, slots=True)
class Selection:
    """Which stamps of an organization an action applies to: a run, a serial range or a list."""

    run_id: int | None = None
    first: int | None = None
    last: int | None = None
    sequences: tuple[int, ...] = ()
    # Whose serials (serials are unique per issuer); None means the acting organization's.
    issuer_org_id: int | None = None

    @classmethod
    def parse(
        cls,
        *,
        run_id: int | None = None,
        serials: str | None = None,
        issuer_org_id: int | None = None,
    ) -> Selection:
        """`serials` is "FIRST-LAST" or "S1,S2,…" in printed form (spaces and line breaks
        allowed)."""
        if serials is not None:
            serials = serials.replace("\n", ",").replace("\r", "")
            if len(serials) > MAX_SERIALS_TEXT:
                raise InvalidInput(N_("Too many serial numbers at once; use ranges."))
        if (run_id is None) == (not serials):
            raise InvalidInput(N_("Choose either a run or serial numbers."))
        if run_id is not None:
            return cls(run_id=run_id, issuer_org_id=issuer_org_id)
        assert serials is not None  # noqa: S101 - narrowed by the check above
        if "," not in serials and (bounds := _range_bounds(serials)) is not None:
            first, last = bounds
            if first > last:
                raise InvalidInput(N_("The first serial of a range must not exceed the last."))
            if last - first + 1 > MAX_RANGE:
                raise InvalidInput(N_("A range covers at most 50,000,000 serials."))
            return cls(first=first, last=last, issuer_org_id=issuer_org_id)
        items = [s for s in serials.split(",") if s.strip()]
        if not items:
            raise InvalidInput(N_("Choose either a run or serial numbers."))
        sequences = tuple(sorted({_sequence(s) for s in items}))
        return cls(sequences=sequences, issuer_org_id=issuer_org_id)

    def ranges(self) -> list[tuple[int, int]]:
        """Contiguous (first, last) sequence ranges of a range or list selection."""
        if self.first is not None and self.last is not None:
            return [(self.first, self.last)]
        return compress(self.sequences)

    def describe(self) -> str:
        """For the audit log: run 12, 0000-0000-0001..0000-0000-0100, or the serial count."""
        if self.run_id is not None:
            return f"run {self.run_id}"
        return ", ".join(
            f"{serial_for(a)}..{serial_for(b)}" if a != b else serial_for(a)
            for a, b in self.ranges()[:20]
        ) + (" …" if len(self.ranges()) > 20 else "")


def compress(sequences: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted sequence numbers as contiguous ranges: [1, 2, 3, 7] → [(1, 3), (7, 7)]."""
    ranges: list[tuple[int, int]] = []
    for sequence in sequences:
        if ranges and sequence == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], sequence)
        else:
            ranges.append((sequence, sequence))
    return ranges


def _range_bounds(text: str) -> tuple[int, int] | None:
    """FIRST-LAST (or FIRST..LAST), where each serial may itself be written with hyphens.

    A hyphen separates the range only where both sides are valid serials; a text that is one
    valid serial is not a range.
    """
    compact = text.replace(" ", "")
    if ".." in compact:
        first_text, _, last_text = compact.partition("..")
        return _sequence(first_text), _sequence(last_text)
    if "-" not in compact or _is_one_serial(compact):
        return None
    splits = [
        bounds
        for position, char in enumerate(compact)
        if char == "-" and (bounds := _split_at(compact, position)) is not None
    ]
    if len(splits) == 1:
        return splits[0]
    first_text, _, last_text = compact.partition("-")
    return _sequence(first_text), _sequence(last_text)  # names the first serial that is wrong


def _is_one_serial(text: str) -> bool:
    digits = text.replace("-", "")
    return len(digits) == SERIAL_DIGITS and is_valid_damm(digits)


def _split_at(text: str, position: int) -> tuple[int, int] | None:
    try:
        return sequence_of(text[:position]), sequence_of(text[position + 1 :])
    except InvalidSerial:
        return None


def _sequence(serial: str) -> int:
    try:
        return sequence_of(serial)
    except InvalidSerial as error:
        raise InvalidInput(
            N_("Serial number %(serial)s is not valid: check its digits."), serial=serial.strip()
        ) from error
