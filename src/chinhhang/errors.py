"""Errors every domain raises and every edge turns into a clear answer (SPEC section 9).

Messages are translation-catalogue ids, written for the person who made the mistake.
"""

from __future__ import annotations

import re
from typing import Any

from chinhhang.i18n import N_

# C0 controls but tab and line breaks, and DEL: nobody types them, and PostgreSQL cannot store
# NUL in text at all (the insert would fail: a 500 instead of a clear answer).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message % values if values else message)
        self.message = message
        self.values = values
        # Headers the HTTP answer carries besides the message (Retry-After with a 429).
        self.headers: dict[str, str] = {}


class InvalidInput(DomainError):
    """Bad input from a person or a program; nothing was changed."""


class NotFound(DomainError):
    """The thing asked for does not exist (or is not the caller's to see)."""

    status_code = 404


class Forbidden(DomainError):
    """The caller's organization or role may not do this."""

    status_code = 403


class Conflict(DomainError):
    """The request clashes with what exists (a duplicate GTIN, a stamp in the wrong state)."""

    status_code = 409


class Gone(DomainError):
    """It existed and was withdrawn on purpose (a recalled or discontinued product)."""

    status_code = 410


class Unavailable(DomainError):
    """The database cannot take the request now (locked past the timeout, unreachable)."""

    status_code = 503


def plain_text(value: str, field: str) -> str:
    """`value` unchanged; InvalidInput if it holds control characters (see _CONTROL)."""
    if _CONTROL.search(value):
        raise InvalidInput(N_("%(field)s contains characters that are not allowed."), field=field)
    return value
