"""Label templates as data: a print shop changes stock by adding a row here, not code.

Sizes are millimetres, as on the label maker's box. A sheet template places `columns` x `rows`
labels on a page, from the top-left corner, `margin_left`/`margin_top` in from the page edge,
with `gap_x`/`gap_y` between neighbours. A roll template is one label per page, the page the
size of the label: thermal roll printers feed one page per label.
"""

from __future__ import annotations

from dataclasses import dataclass

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

MM = 72 / 25.4  # PDF points per millimetre


@dataclass(frozen=True, slots=True)
class LabelTemplate:
    key: str
    medium: str  # msgid: what the labels come on, shown in the portal with the sizes
    page_width: float
    page_height: float
    label_width: float
    label_height: float
    columns: int = 1
    rows: int = 1
    margin_left: float = 0.0
    margin_top: float = 0.0
    gap_x: float = 0.0
    gap_y: float = 0.0

    def size_text(self, *, decimal_comma: bool = False) -> str:
        """ "38.1 × 21.2" (or "38,1 × 21,2" where the comma is the decimal mark)."""
        text = f"{self.label_width:g} × {self.label_height:g}"
        return text.replace(".", ",") if decimal_comma else text

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def label_origin(self, index: int) -> tuple[float, float]:
        """Bottom-left corner (mm, PDF's upward y) of the `index`-th label on a page, filled
        row by row from the top-left, the order people read the serials in."""
        row, column = divmod(index, self.columns)
        x = self.margin_left + column * (self.label_width + self.gap_x)
        top = self.margin_top + row * (self.label_height + self.gap_y)
        return x, self.page_height - top - self.label_height

    def fits(self) -> bool:
        right = self.margin_left + self.columns * self.label_width + (self.columns - 1) * self.gap_x
        bottom = self.margin_top + self.rows * self.label_height + (self.rows - 1) * self.gap_y
        return right <= self.page_width + 1e-6 and bottom <= self.page_height + 1e-6


A4 = (210.0, 297.0)
SHEET = N_("A4 sheet")
ROLL = N_("Thermal roll, one label a page")

TEMPLATES: dict[str, LabelTemplate] = {
    template.key: template
    for template in (
        # 65 per sheet, 38.1 x 21.2 mm: the smallest common A4 address label (L7651 layout).
        LabelTemplate("a4-65", SHEET, *A4, 38.1, 21.2, 5, 13, 4.7, 10.7, 2.5, 0),
        # 40 per sheet, 45.7 x 25.4 mm (L7654 layout).
        LabelTemplate("a4-40", SHEET, *A4, 45.7, 25.4, 4, 10, 9.85, 21.5, 2.5, 0),
        # 24 per sheet, 63.5 x 33.9 mm (L7159 layout): room for the product name.
        LabelTemplate("a4-24", SHEET, *A4, 63.5, 33.9, 3, 8, 6.4, 12.9, 2.5, 0),
        # Thermal roll, one 40 x 30 mm label per page.
        LabelTemplate("roll-40x30", ROLL, 40.0, 30.0, 40.0, 30.0),
    )
}
DEFAULT_TEMPLATE = "a4-40"


def template_named(key: str) -> LabelTemplate:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise InvalidInput(
            N_("Unknown label template %(name)s; choose one of %(choices)s."),
            name=key,
            choices=", ".join(TEMPLATES),
        ) from None
