"""Vietnam's provinces and centrally run cities, as a shopper picks one (pure module).

The list is the 34 units in force since the July 2025 reform, read from the kept package
`vietnam_provinces` (never typed by hand: the map changes by law, the package follows it).
A province is stored by its official code (an int, e.g. 1 for Hà Nội, 79 for Hồ Chí Minh
City), so names can change without touching stored rows.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from vietnam_provinces import Province

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

_MAX_CODE_DIGITS = 3


@cache
def _names() -> dict[int, str]:
    return {int(province.code): province.name for province in Province.iter_all()}


@cache
def all_provinces() -> list[tuple[int, str]]:
    """(code, name) of every province, in Vietnamese alphabetical order (for a <select>)."""
    return sorted(_names().items(), key=lambda pair: collation_key(pair[1]))


def collation_key(name: str) -> tuple[str, str]:
    """Sorts as a Vietnamese reader expects: by letters without their tone marks first (so
    "Đà Nẵng" comes among the D's, not after Z), "Thành phố" ignored, then as written."""
    plain = name.removeprefix("Thành phố ")
    bare = unicodedata.normalize("NFD", plain.replace("Đ", "D").replace("đ", "d"))
    letters = "".join(char for char in bare if not unicodedata.combining(char))
    return letters.casefold(), plain


def province_name(code: int | None) -> str | None:
    """The province's name; None for None or a code that names no province today."""
    if code is None:
        return None
    return _names().get(code)


def parse_province(text: str | int | None) -> int | None:
    """A province code from a form or JSON field: None when empty; InvalidInput when it is not
    the code of a current province."""
    if text is None:
        return None
    if isinstance(text, bool):
        raise InvalidInput(N_("Choose a province or city from the list."))
    if isinstance(text, int):
        code = text
    else:
        text = text.strip()
        if not text:
            return None
        if not (text.isascii() and text.isdigit() and len(text) <= _MAX_CODE_DIGITS):
            raise InvalidInput(N_("Choose a province or city from the list."))
        code = int(text)
    if code not in _names():
        raise InvalidInput(N_("Choose a province or city from the list."))
    return code
