"""Vietnamese phone numbers as shoppers type them (reports' contact, warranty). Pure module.

Stored in national form, digits only: mobiles have 10 digits (03, 05, 07, 08, 09…), landlines
11 (02…, since the 2017 renumbering). People write them with spaces, dots, hyphens, an area
code in brackets, or in international form (+84 or 0084, sometimes keeping the 0 after it).
"""

from __future__ import annotations

import re

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

_SEPARATORS = re.compile(r"[ .\-()\u00a0]")
_MOBILE = re.compile(r"0[35789][0-9]{8}")
_LANDLINE = re.compile(r"02[0-9]{9}")
_MAX_TEXT = 40


def normalise_phone(text: str) -> str:
    """The number's stored form ("+84 912 345 678" → "0912345678"); InvalidInput otherwise."""
    compact = _SEPARATORS.sub("", text.strip()) if len(text) <= _MAX_TEXT else ""
    for prefix in ("+84", "0084"):
        if compact.startswith(prefix):
            rest = compact[len(prefix) :]
            compact = rest if rest.startswith("0") else "0" + rest
            break
    if not (_MOBILE.fullmatch(compact) or _LANDLINE.fullmatch(compact)):
        raise InvalidInput(
            N_(
                "The phone number must be a Vietnamese number: 10 digits starting with 0 for "
                "a mobile, 11 starting with 02 for a landline (or +84 instead of the 0)."
            )
        )
    return compact
