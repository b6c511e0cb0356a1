"""How labels look: chosen per export in the CLI, the portal or the API."""

from __future__ import annotations

from dataclasses import dataclass

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.printing.qr import DEFAULT_ERROR_LEVEL, error_level
from chinhhang.printing.templates import DEFAULT_TEMPLATE, template_named

MAX_CAPTION = 120


@dataclass(frozen=True, slots=True)
class PrintOptions:
    """CSV ignores all of it. Checked when made, so a bad option fails before a file exists."""

    template: str = DEFAULT_TEMPLATE
    scratch_off: bool = False
    crop_marks: bool = False
    ec_level: str = DEFAULT_ERROR_LEVEL
    caption: str = ""  # one line printed on every label, e.g. the product's name

    def __post_init__(self) -> None:
        template_named(self.template)
        object.__setattr__(self, "ec_level", error_level(self.ec_level))
        caption = " ".join(self.caption.split())
        if not self.caption.isprintable() or len(caption) > MAX_CAPTION:
            raise InvalidInput(N_("The label caption must be one line of at most 120 characters."))
        object.__setattr__(self, "caption", caption)
