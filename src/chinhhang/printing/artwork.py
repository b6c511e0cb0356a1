"""Single QR artwork with segno: the static product code, as SVG or PNG, caption underneath.

segno scores all eight masks and picks the best, which is worth it for one code at a time; bulk
artwork for stamp runs comes from printing/qr.py's C++ encoder.
"""

from __future__ import annotations

import io

import segno
from PIL import Image, ImageDraw, ImageFont

from chinhhang.printing.fonts import font_path
from chinhhang.printing.qr import QUIET_ZONE, Symbol, error_level, from_segno
from chinhhang.printing.svg import TEXT_BAND, symbol_svg

MAX_PNG_SCALE = 40


def segno_symbol(url: str, ec_level: str = "M") -> Symbol:
    # boost_error off: the level asked for is the level printed, so symbols stay predictable.
    qr = segno.make_qr(url, error=error_level(ec_level), boost_error=False)
    return from_segno(qr.matrix)


def product_code_svg(url: str, caption: str = "", ec_level: str = "M") -> bytes:
    """An SVG of the code for `url` with `caption` (e.g. the GTIN) printed under it."""
    return symbol_svg(segno_symbol(url, ec_level), caption)


def _caption_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The label font, or Pillow's own when it is missing or unreadable: a PNG caption is a
    convenience, not a reason to fail the download."""
    path = font_path()
    try:
        return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size)
    except OSError:
        return ImageFont.load_default(size)


def product_code_png(url: str, caption: str = "", ec_level: str = "M", scale: int = 10) -> bytes:
    """The same as a PNG, `scale` pixels per module (1-bit image plus grey text)."""
    scale = max(1, min(scale, MAX_PNG_SCALE))
    symbol = segno_symbol(url, ec_level)
    side = symbol.size_with_quiet_zone
    height = side + (TEXT_BAND if caption else 0)
    image = Image.new("L", (side * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w, h in symbol.rectangles:
        left, top = (x + QUIET_ZONE) * scale, (y + QUIET_ZONE) * scale
        draw.rectangle((left, top, left + w * scale - 1, top + h * scale - 1), fill=0)
    if caption:
        size = max(8, int(scale * min(2.6, side / len(caption) / 0.62)))
        font = _caption_font(size)
        draw.text((side * scale / 2, (side + 2.2) * scale), caption, fill=0, font=font, anchor="ms")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
