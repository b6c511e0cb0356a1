"""The label font: a Unicode TrueType font, since reportlab's built-in PDF fonts have no ư, ạ
or ế. DejaVu Sans covers Vietnamese; `make` installs Debian's fonts-dejavu-core where it is
missing, and CHINHHANG_LABEL_FONT names another .ttf (e.g. on a Mac)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

LABEL_FONT = "ChinhHangLabel"
_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian, Ubuntu
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",  # Fedora
    "/usr/share/fonts/TTF/DejaVuSans.ttf",  # Arch
    "/usr/local/share/fonts/DejaVuSans.ttf",
)


def font_path() -> Path | None:
    configured = os.environ.get("CHINHHANG_LABEL_FONT")
    candidates = (configured,) if configured else _CANDIDATES
    return next((Path(p) for p in candidates if p and Path(p).is_file()), None)


@cache
def label_font() -> str:
    """Register the font with reportlab once per process; returns its name."""
    path = font_path()
    if path is None:
        raise InvalidInput(
            N_(
                "PDF labels need a Unicode font: install fonts-dejavu-core "
                "or set CHINHHANG_LABEL_FONT to a .ttf file."
            )
        )
    try:
        pdfmetrics.registerFont(TTFont(LABEL_FONT, str(path)))
    except (OSError, TTFError) as error:
        raise InvalidInput(
            N_("The label font %(path)s cannot be read as a TrueType font."), path=str(path)
        ) from error
    return LABEL_FONT
