"""QR symbols for bulk artwork: the module matrix from zxing-cpp's C++ encoder.

Labels for a print run are made by the hundred thousand. segno scores all eight masks in pure
Python (about 160 codes a second for a stamp URL); zxing-cpp does the same work in C++ (about
3,900 a second) and its symbols decode everywhere. segno stays for single artwork
(printing/artwork.py), where its options and SVG writer are worth more than speed.

Everything here works in module units with the origin at the symbol's top-left corner, without
the quiet zone: callers add the quiet zone and the scale.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import zxingcpp

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

ERROR_LEVELS = ("L", "M", "Q", "H")
DEFAULT_ERROR_LEVEL = "M"
QUIET_ZONE = 4  # modules on each side, as ISO/IEC 18004 asks
_ZXING_DARK = re.compile(b"\x00+")  # zxing-cpp's image: 0 is a dark module
_SEGNO_DARK = re.compile(b"\x01+")  # segno's matrix: 1 is a dark module


def error_level(value: str) -> str:
    level = value.strip().upper()
    if level not in ERROR_LEVELS:
        raise InvalidInput(
            N_("The error-correction level must be one of L, M, Q or H."),
        )
    return level


@dataclass(frozen=True, slots=True)
class Symbol:
    """A QR symbol as rectangles of dark modules: (x, y, width, height) from the top-left."""

    size: int  # modules per side, without the quiet zone
    rectangles: tuple[tuple[int, int, int, int], ...]

    @property
    def size_with_quiet_zone(self) -> int:
        return self.size + 2 * QUIET_ZONE

    @property
    def version(self) -> int:
        return (self.size - 17) // 4


def encode(text: str, level: str = DEFAULT_ERROR_LEVEL) -> Symbol:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=level)
    # With its quiet zone every row starts and ends light, so one regex pass over the whole
    # image finds each row's dark runs without any run wrapping onto the next row.
    image = barcode.to_image(scale=1, add_quiet_zones=True)
    width = image.shape[1]
    raw = memoryview(image).tobytes()  # type: ignore[arg-type]  # a buffer at run time
    runs = []
    for found in _ZXING_DARK.finditer(raw):
        y, x = divmod(found.start(), width)
        runs.append((x - QUIET_ZONE, y - QUIET_ZONE, found.end() - found.start(), 1))
    return Symbol(width - 2 * QUIET_ZONE, tuple(runs))


def from_segno(matrix: Sequence[bytes | bytearray]) -> Symbol:
    """A segno symbol's matrix (its own quiet zone excluded) in the same form."""
    rows = [bytes(row) for row in matrix]
    return Symbol(len(rows), tuple(_merge_rows(rows, _SEGNO_DARK)))


def _merge_rows(rows: list[bytes], dark: re.Pattern[bytes]) -> Iterator[tuple[int, int, int, int]]:
    """Horizontal runs of dark modules, stacked into taller rectangles where consecutive rows
    repeat a run: finder patterns become a handful of rectangles, and a single code's SVG a
    fifth shorter. Bulk encoding skips this: in Python it costs a quarter of the labels a
    second, for a PDF that compresses to the same size anyway."""
    open_runs: dict[tuple[int, int], int] = {}  # (x, width) -> first row
    for y, row in enumerate(rows):
        current = {(m.start(), m.end() - m.start()) for m in dark.finditer(row)}
        for run in [run for run in open_runs if run not in current]:
            top = open_runs.pop(run)
            yield run[0], top, run[1], y - top
        for run in current:
            open_runs.setdefault(run, y)
    for (x, width), top in open_runs.items():
        yield x, top, width, len(rows) - top
