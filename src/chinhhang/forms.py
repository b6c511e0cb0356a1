"""Reading the portal's form fields into the values services take (the routes' "parse" step).

A browser sends every field as text; a number or a date typed wrong gets the same clear
InvalidInput (shown above the form, status 400) as a service's own refusal, never FastAPI's
generic validation answer.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Form, Path, Query

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_

# Ids in addresses, cursors and select fields. PostgreSQL compares an INTEGER key with a
# parameter cast to INTEGER, which fails above 2**31 - 1 (and SQLite refuses Python ints beyond
# 64 bits): such ids must be refused before the query, never become a 500. The audit log and
# scan events have BIGINT keys.
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
BigIdPath = Annotated[int, Path(ge=1, le=MAX_BIG_ID)]
Before = Annotated[int | None, Query(ge=1, le=MAX_ID)]
BigBefore = Annotated[int | None, Query(ge=1, le=MAX_BIG_ID)]
# Text fields: generous caps (the services give the precise, translated limits).
ShortText = Annotated[str, Form(max_length=1_000)]
LongText = Annotated[str, Form(max_length=20_000)]
Checkbox = Annotated[str | None, Form(max_length=10)]
_GROUPED = re.compile(r"^\d{1,3}([., ]\d{3})+$")


def whole_number(text: str, field: str, *, default: int | None = None) -> int:
    """`text` as an int; `default` when empty (InvalidInput when empty without a default).

    Thousands may be grouped as people write them, "10,000", "10.000" or "10 000"; "1.5" is
    not a whole number.
    """
    text = text.strip()
    if not text and default is not None:
        return default
    if _GROUPED.match(text):
        text = re.sub(r"[., ]", "", text)
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise InvalidInput(N_("%(field)s must be a whole number."), field=field)
    return int(text)


def optional_id(text: str) -> int | None:
    """A select's chosen id, None for the empty choice."""
    text = text.strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 10 or not 1 <= int(text) <= MAX_ID:
        raise InvalidInput(N_("Choose one of the listed options."))
    return int(text)


def optional_date(text: str, field: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            N_("%(field)s must be a date written as YYYY-MM-DD."), field=field
        ) from None


def checked(value: str | None) -> bool:
    """An HTML checkbox: present (any value) when ticked, absent otherwise."""
    return value is not None


def optional_text(text: str) -> str | None:
    return text.strip() or None
