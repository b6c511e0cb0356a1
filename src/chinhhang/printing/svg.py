"""A QR symbol with its serial or caption under it, as SVG: the print house's vector artwork.

One path for the whole symbol, in module units, so the file scales to any print size without
resampling; the text is a real <text> element a designer can restyle.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from chinhhang.printing.qr import QUIET_ZONE, Symbol, encode
from chinhhang.stamps.serials import grouped

MODULE_MM = 0.5  # nominal print size of one module; the artwork is vector, scale as needed
TEXT_BAND = 4  # modules under the quiet zone for one line of text
FONT_FAMILY = "DejaVu Sans, Arial, Helvetica, sans-serif"


def symbol_path(symbol: Symbol) -> str:
    q = QUIET_ZONE
    return "".join(f"M{x + q} {y + q}h{w}v{h}h-{w}z" for x, y, w, h in symbol.rectangles)


def symbol_svg(symbol: Symbol, text: str = "") -> bytes:
    side = symbol.size_with_quiet_zone
    height = side + (TEXT_BAND if text else 0)
    font_size = min(2.6, side / max(len(text), 1) / 0.62)
    label = (
        f'<text x="{side / 2:g}" y="{side + 2.2:g}" font-family="{FONT_FAMILY}" '
        f'font-size="{font_size:.2f}" text-anchor="middle">{escape(text)}</text>'
        if text
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {height}" '
        f'width="{side * MODULE_MM:g}mm" height="{height * MODULE_MM:g}mm">'
        f'<rect width="{side}" height="{height}" fill="#fff"/>'
        f'<path fill="#000" d="{symbol_path(symbol)}"/>{label}</svg>\n'
    ).encode()


def svg_batch(labels: Sequence[tuple[str, str]], level: str = "M") -> list[tuple[str, bytes]]:
    """(serial, SVG) for each (serial, url): the unit of work a worker process takes."""
    return [(serial, symbol_svg(encode(url, level), grouped(serial))) for serial, url in labels]
