"""Charts drawn on the server as inline SVG: no JavaScript, no chart library, no request to
another site, and readable by a screen reader (role="img", a <title>, an aria-label, and a
<title> on every bar). Pure functions: text in, SVG text out, every piece of text escaped.

The numbers are also in the table under each chart; a chart is the picture, not the record.
Bars are proportional to their values (zero at the baseline); a chart with nothing to show
says so in words instead of drawing an empty frame.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH = 640
PLOT_TOP, PLOT_BOTTOM = 28, 190
HEIGHT = 220
LEFT, RIGHT = 44, 632
ROW = 22
LABEL_WIDTH = 170
BLUE = "#1f5fa8"
# Characters XML 1.0 cannot carry at all; a name holding one still draws.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_MAX_X_LABELS = 8


@dataclass(frozen=True, slots=True)
class Series:
    """One layer of a stacked bar chart: its name (shown in the legend), values and colour."""

    name: str
    values: Sequence[int]
    colour: str


def _text(value: object) -> str:
    """Text for element content and attribute values (quotes escaped too)."""
    return escape(_NOT_XML.sub("", str(value)), {'"': "&quot;"})


def _open(title: str, height: int) -> list[str]:
    label = _text(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{label}" font-family="sans-serif" font-size="12">',
        f"<title>{label}</title>",
    ]


def _empty(title: str, message: str) -> str:
    parts = _open(title, 60)
    parts.append(
        f'<text x="{WIDTH // 2}" y="34" text-anchor="middle" fill="#555">{_text(message)}</text>'
    )
    return "".join([*parts, "</svg>"])


def _x_labels(labels: Sequence[str], slot: float) -> list[str]:
    """A few labels under the bars (first, last and evenly between), so they never overlap."""
    step = max(1, math.ceil(len(labels) / _MAX_X_LABELS))
    chosen = set(range(0, len(labels), step)) | {len(labels) - 1}
    return [
        f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{PLOT_BOTTOM + 16}" '
        f'text-anchor="middle" fill="#333">{_text(labels[i])}</text>'
        for i in sorted(chosen)
    ]


def _axis(top: int) -> list[str]:
    return [
        f'<line x1="{LEFT}" y1="{PLOT_BOTTOM}" x2="{RIGHT}" y2="{PLOT_BOTTOM}" stroke="#888"/>',
        f'<text x="{LEFT - 6}" y="{PLOT_TOP + 4}" text-anchor="end" fill="#333">{top}</text>',
        f'<text x="{LEFT - 6}" y="{PLOT_BOTTOM}" text-anchor="end" fill="#333">0</text>',
    ]


def _bar(x: float, y: float, width: float, height: float, colour: str, tip: str, value: int) -> str:
    return (
        f'<rect class="bar" x="{x:.2f}" y="{y:.2f}" width="{width:.2f}" height="{height:.2f}" '
        f'fill="{_text(colour)}" data-value="{value}"><title>{_text(tip)}</title></rect>'
    )


def bar_chart(title: str, points: Sequence[tuple[str, int]], *, empty: str) -> str:
    """Vertical bars, one per (label, value), e.g. scans per day; `empty` is the sentence
    shown when every value is zero."""
    top = max((value for _label, value in points), default=0)
    if top <= 0:
        return _empty(title, empty)
    slot = (RIGHT - LEFT) / len(points)
    plot = PLOT_BOTTOM - PLOT_TOP
    parts = [*_open(title, HEIGHT), *_axis(top)]
    for i, (label, value) in enumerate(points):
        if value <= 0:  # nothing to draw; the table under the chart lists the zeros
            continue
        height = plot * value / top
        parts.append(
            _bar(LEFT + slot * (i + 0.1), PLOT_BOTTOM - height, slot * 0.8, height, BLUE,
                 f"{label}: {value}", value)
        )  # fmt: skip
    parts.extend(_x_labels([label for label, _value in points], slot))
    return "".join([*parts, "</svg>"])


def stacked_bar_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], *, empty: str
) -> str:
    """Vertical bars per label, each stacked from the series' values (bottom to top in the
    order given), with a legend naming each series. ValueError if a series' values do not
    match the labels one for one."""
    if any(len(layer.values) != len(labels) for layer in series):
        raise ValueError("every series needs one value per label")
    totals = [sum(max(s.values[i], 0) for s in series) for i in range(len(labels))]
    top = max(totals, default=0)
    if top <= 0:
        return _empty(title, empty)
    slot = (RIGHT - LEFT) / len(labels)
    plot = PLOT_BOTTOM - PLOT_TOP
    parts = [*_open(title, HEIGHT), *_axis(top), *_legend(series)]
    for i, label in enumerate(labels):
        base = float(PLOT_BOTTOM)
        for layer in series:
            value = max(layer.values[i], 0)
            if value == 0:
                continue
            height = plot * value / top
            base -= height
            tip = f"{label} · {layer.name}: {value}"
            x = LEFT + slot * (i + 0.1)
            parts.append(_bar(x, base, slot * 0.8, height, layer.colour, tip, value))
    parts.extend(_x_labels(labels, slot))
    return "".join([*parts, "</svg>"])


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], float(LEFT)
    for layer in series:
        parts.append(
            f'<rect x="{x:.1f}" y="6" width="10" height="10" fill="{_text(layer.colour)}"/>'
        )
        parts.append(f'<text x="{x + 14:.1f}" y="15" fill="#333">{_text(layer.name)}</text>')
        x += 28 + 7 * len(layer.name)
    return parts


def horizontal_bar_chart(title: str, rows: Sequence[tuple[str, int]], *, empty: str) -> str:
    """One horizontal bar per (label, value), labels on the left, values after the bars:
    long names (provinces, products) stay readable on a phone."""
    top = max((value for _label, value in rows), default=0)
    if top <= 0:
        return _empty(title, empty)
    height = ROW * len(rows) + 12
    span = RIGHT - 40 - LABEL_WIDTH
    parts = _open(title, height)
    for i, (label, value) in enumerate(rows):
        y = 6 + ROW * i
        width = span * max(value, 0) / top
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end" '
            f'fill="#333">{_text(_short(label))}</text>'
        )
        if value > 0:
            tip = f"{label}: {value}"
            parts.append(_bar(LABEL_WIDTH, y + 3, width, ROW - 6, BLUE, tip, value))
        parts.append(
            f'<text x="{LABEL_WIDTH + width + 4:.2f}" y="{y + 14}" fill="#333">{value}</text>'
        )
    return "".join([*parts, "</svg>"])


def _short(label: str, limit: int = 24) -> str:
    """Labels longer than the label column are cut with an ellipsis (the bar's own <title>
    and the table keep the whole name)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"
