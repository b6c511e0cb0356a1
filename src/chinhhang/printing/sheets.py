"""Label sheets drawn with reportlab: a batch of labels becomes a small, complete PDF.

What is the same on every label (caption, scratch-off mark) is drawn once as a form XObject and
placed by reference; what differs (the QR symbol and the serial) is written as raw path
operators, one `re` per run of dark modules and a single fill per symbol. That keeps a label to a
few hundred bytes of drawing and the renderer to a few string joins.

printing/pdfjoin.py streams the batches into one file, so no batch ever holds a whole run.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from reportlab import rl_config
from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from chinhhang.printing.fonts import label_font
from chinhhang.printing.options import PrintOptions
from chinhhang.printing.qr import QUIET_ZONE, encode
from chinhhang.printing.templates import MM, LabelTemplate, template_named
from chinhhang.stamps.serials import grouped

SCRATCH_NOTE = "Cào lớp phủ để quét mã"  # printed for Vietnamese shoppers, in Vietnamese
PADDING = 1.5  # mm inside each label edge: cutters and printers are not exact
SERIAL_BAND = 3.4  # mm under the symbol for the serial
MAX_SERIAL_PT = 8.0
CAPTION_PT = 6.0
MIN_CAPTION_WIDTH = 8.0  # mm; narrower than that, the symbol is centred and captions dropped
CROP_MARK = 4.0  # mm, at most
CROP_OFFSET = 1.0  # mm between the label grid and a mark
_GREY = Color(0.45, 0.45, 0.45)
# Plain Flate streams: ASCII85 on top would make every label a quarter bigger for nothing.
rl_config.useA85 = 0


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things sit inside one label, in points from the label's bottom-left corner."""

    template: LabelTemplate
    symbol_x: float
    symbol_y: float
    symbol_side: float  # the square including the quiet zone
    serial_pt: float
    serial_y: float
    caption_x: float
    caption_width: float  # 0: no room for text beside the symbol

    @classmethod
    def of(cls, template: LabelTemplate) -> Layout:
        width, height = template.label_width, template.label_height
        side = min(height - 2 * PADDING - SERIAL_BAND, width - 2 * PADDING)
        beside = width - 3 * PADDING - side
        x = PADDING if beside >= MIN_CAPTION_WIDTH else (width - side) / 2
        serial_pt = min(MAX_SERIAL_PT, (width - 2 * PADDING) * MM / (14 * 0.64))
        return cls(
            template=template,
            symbol_x=x * MM,
            symbol_y=(PADDING + SERIAL_BAND) * MM,
            symbol_side=side * MM,
            serial_pt=serial_pt,
            serial_y=(PADDING + 0.6) * MM,
            caption_x=(x + side + PADDING) * MM,
            caption_width=max(beside, 0) * MM if beside >= MIN_CAPTION_WIDTH else 0.0,
        )


@cache
def layout_for(template_key: str) -> Layout:
    return Layout.of(template_named(template_key))


def symbol_operators(url: str, level: str, layout: Layout, x: float, y: float) -> str:
    """The symbol as PDF path operators, placed with its quiet zone's bottom-left at (x, y)."""
    symbol = encode(url, level)
    module = layout.symbol_side / symbol.size_with_quiet_zone
    left = x + QUIET_ZONE * module
    top = y + layout.symbol_side - QUIET_ZONE * module
    # Module units, y pointing down from the symbol's top-left corner: the cm flips the axis.
    path = " ".join(f"{a} {b} {w} {h} re" for a, b, w, h in symbol.rectangles)
    return f"q {module:.4f} 0 0 {-module:.4f} {left:.3f} {top:.3f} cm {path} f Q"


def _pieces(word: str, font: str, size: float, width: float) -> list[str]:
    """A word cut into pieces no wider than `width` (at least one character each)."""
    pieces: list[str] = []
    rest = word
    while len(rest) > 1 and stringWidth(rest, font, size) > width:
        cut = max(
            (n for n in range(1, len(rest)) if stringWidth(rest[:n], font, size) <= width),
            default=1,
        )
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return [*pieces, rest]


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines no wider than `width`: words moved to the next line, and a word too long for any
    line (a web address, a hotline) cut where it must be, never over the label's edge."""
    lines: list[str] = []
    for word in text.split():
        if lines and stringWidth(f"{lines[-1]} {word}", font, size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.extend(_pieces(word, font, size, width))
    return lines


def _fit(lines: list[str], room: int, font: str, size: float, width: float) -> list[str]:
    """The lines that fit, the last one ending in an ellipsis when some had to be left out."""
    if len(lines) <= room:
        return lines
    if room == 0:
        return []
    last = lines[room - 1]
    while last and stringWidth(last + "…", font, size) > width:
        last = last[:-1]
    return [*lines[: room - 1], last.rstrip() + "…"]


def _draw_label_form(canvas: Canvas, layout: Layout, options: PrintOptions) -> None:
    """What every label shares, drawn once per PDF as the form 'label'."""
    font = label_font()
    canvas.beginForm("label")
    if options.scratch_off:
        # Just outside the quiet zone (the padding leaves room), which stays blank.
        outset = 0.3 * MM
        canvas.saveState()
        canvas.setStrokeColor(_GREY)
        canvas.setLineWidth(0.4)
        canvas.setDash(1.5, 1.5)
        side = layout.symbol_side + 2 * outset
        canvas.rect(layout.symbol_x - outset, layout.symbol_y - outset, side, side)
        canvas.restoreState()
    if layout.caption_width:
        lines = _wrap(options.caption, font, CAPTION_PT, layout.caption_width)
        leading = CAPTION_PT * 1.2
        top = layout.symbol_y + layout.symbol_side - CAPTION_PT - 0.6 * MM
        bottom = layout.symbol_y + 0.6 * MM
        if options.scratch_off:
            note = _wrap(SCRATCH_NOTE, font, CAPTION_PT, layout.caption_width)
            canvas.setFillColor(_GREY)
            canvas.setFont(font, CAPTION_PT)
            for i, line in enumerate(reversed(note)):
                canvas.drawString(layout.caption_x, bottom + i * leading, line)
            bottom += len(note) * leading + 0.6 * MM
            canvas.setFillColorRGB(0, 0, 0)
        room = max(0, int((top - bottom) // leading) + 1)
        canvas.setFont(font, CAPTION_PT)
        for i, line in enumerate(_fit(lines, room, font, CAPTION_PT, layout.caption_width)):
            canvas.drawString(layout.caption_x, top - i * leading, line)
    canvas.endForm()


def _edges(start: float, size: float, gap: float, count: int) -> list[float]:
    """Both edges of every label along one axis, from the page's top-left corner (mm)."""
    lows = [start + i * (size + gap) for i in range(count)]
    return sorted(set(lows) | {low + size for low in lows})


def _draw_crop_marks(canvas: Canvas, template: LabelTemplate) -> None:
    """Short hairlines in the page margins, in line with every label edge. A margin narrower
    than a millimetre gets none (a roll label has no margin at all)."""
    t = template
    xs = _edges(t.margin_left, t.label_width, t.gap_x, t.columns)
    ys = _edges(t.margin_top, t.label_height, t.gap_y, t.rows)
    room = {
        "top": ys[0] - CROP_OFFSET,
        "bottom": t.page_height - ys[-1] - CROP_OFFSET,
        "left": xs[0] - CROP_OFFSET,
        "right": t.page_width - xs[-1] - CROP_OFFSET,
    }
    length = {side: min(CROP_MARK, space) for side, space in room.items() if space >= 1}
    marks: list[tuple[float, float, float, float]] = []  # x1, y1, x2, y2 from the top-left
    for x in xs:
        if "top" in length:
            y = ys[0] - CROP_OFFSET
            marks.append((x, y, x, y - length["top"]))
        if "bottom" in length:
            y = ys[-1] + CROP_OFFSET
            marks.append((x, y, x, y + length["bottom"]))
    for y in ys:
        if "left" in length:
            x = xs[0] - CROP_OFFSET
            marks.append((x, y, x - length["left"], y))
        if "right" in length:
            x = xs[-1] + CROP_OFFSET
            marks.append((x, y, x + length["right"], y))
    canvas.saveState()
    canvas.setLineWidth(0.25)
    height = t.page_height
    canvas.lines(
        [(x1 * MM, (height - y1) * MM, x2 * MM, (height - y2) * MM) for x1, y1, x2, y2 in marks]
    )
    canvas.restoreState()


def render_batch(labels: Sequence[tuple[str, str]], options: PrintOptions) -> bytes:
    """One PDF of whole pages for `labels` ((serial, url) pairs, in order)."""
    layout = layout_for(options.template)
    template = layout.template
    font = label_font()
    out = io.BytesIO()
    canvas = Canvas(
        out,
        pagesize=(template.page_width * MM, template.page_height * MM),
        pageCompression=1,
        invariant=1,
    )
    _draw_label_form(canvas, layout, options)
    # Digits are equally wide, so every serial is as wide as this one: centred under the
    # symbol, kept inside the label.
    serial_width = stringWidth("0000 0000 0000", font, layout.serial_pt)
    centre = layout.symbol_x + layout.symbol_side / 2
    inside = (PADDING * MM, (template.label_width - PADDING) * MM - serial_width)
    serial_left = min(max(centre - serial_width / 2, inside[0]), inside[1])
    per_page = template.per_page
    origins = [template.label_origin(i) for i in range(per_page)]
    for start in range(0, len(labels), per_page):
        if options.crop_marks:
            _draw_crop_marks(canvas, template)
        canvas.setFont(font, layout.serial_pt)
        page = labels[start : start + per_page]
        for (serial, url), (ox, oy) in zip(page, origins[: len(page)], strict=True):
            x, y = ox * MM, oy * MM
            canvas.saveState()
            canvas.translate(x, y)
            canvas.doForm("label")
            canvas.restoreState()
            symbol_x, symbol_y = x + layout.symbol_x, y + layout.symbol_y
            canvas.addLiteral(symbol_operators(url, options.ec_level, layout, symbol_x, symbol_y))
            canvas.drawString(serial_left + x, y + layout.serial_y, grouped(serial))
        canvas.showPage()
    canvas.save()
    return out.getvalue()
