"""Label templates and options: data that must fit the page, and options checked up front."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfbase.pdfmetrics import stringWidth

from chinhhang.errors import InvalidInput
from chinhhang.printing.fonts import label_font
from chinhhang.printing.options import PrintOptions
from chinhhang.printing.sheets import Layout, _fit, _wrap
from chinhhang.printing.templates import TEMPLATES, template_named


@pytest.mark.parametrize("key", TEMPLATES)
def test_every_template_fits_its_page(key: str) -> None:
    template = TEMPLATES[key]
    assert template.fits()
    for index in range(template.per_page):
        x, y = template.label_origin(index)
        assert x >= 0
        assert x + template.label_width <= template.page_width + 1e-6
        assert y >= 0
        assert y + template.label_height <= template.page_height + 1e-6


@pytest.mark.parametrize("key", TEMPLATES)
def test_the_symbol_and_serial_fit_inside_each_label(key: str) -> None:
    layout = Layout.of(TEMPLATES[key])
    mm = 72 / 25.4
    width, height = TEMPLATES[key].label_width * mm, TEMPLATES[key].label_height * mm
    assert layout.symbol_x >= 0
    assert layout.symbol_x + layout.symbol_side <= width
    assert layout.symbol_y + layout.symbol_side <= height
    assert layout.serial_y > 0
    # The serial's digits (cap height ~0.73 em in DejaVu Sans) end below the quiet zone.
    assert layout.serial_y + 0.76 * layout.serial_pt <= layout.symbol_y
    if layout.caption_width:  # the caption column starts right of the symbol's quiet zone
        assert layout.caption_x >= layout.symbol_x + layout.symbol_side
        assert layout.caption_x + layout.caption_width <= width
    assert layout.symbol_side >= 14 * mm  # 0.38 mm a module at version 3: office printers cope


def test_a_roll_template_is_one_label_per_page() -> None:
    roll = [t for t in TEMPLATES.values() if t.key.startswith("roll")]
    assert roll
    assert all(t.per_page == 1 for t in roll)
    sheets = [t for t in TEMPLATES.values() if t.page_width == 210.0 and t.page_height == 297.0]
    assert len(sheets) >= 3


def test_unknown_templates_are_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput) as refused:
        template_named("a5-99")
    assert "a4-65" in refused.value.values["choices"]
    with pytest.raises(InvalidInput):
        PrintOptions(template="nope")


@pytest.mark.parametrize("caption", ["x" * 121, "line\nbreak", "bell\x07"])
def test_bad_captions_are_refused(caption: str) -> None:
    with pytest.raises(InvalidInput):
        PrintOptions(caption=caption)


def test_captions_are_one_line_of_normalised_spaces() -> None:
    assert PrintOptions(caption="  Nước   mắm ").caption == "Nước mắm"
    assert PrintOptions(ec_level="h").ec_level == "H"


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=120)
)
def test_wrapped_caption_lines_never_run_past_the_label(text: str) -> None:
    font = label_font()
    width = 40.0  # points: narrower than any template's caption column
    lines = _wrap(text, font, 6.0, width)
    assert "".join(lines).replace(" ", "") == "".join(text.split())
    assert all(stringWidth(line, font, 6.0) <= width or len(line) == 1 for line in lines)
    shown = _fit(lines, 3, font, 6.0, width)
    assert len(shown) <= 3
    assert all(stringWidth(line, font, 6.0) <= width or len(line) <= 2 for line in shown)
    if len(lines) > 3:
        assert shown[-1].endswith("…")
