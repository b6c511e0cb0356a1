"""The fields of a promotion, checked (catalog/promotions.py's rules): every one is checked
before anything is written, so a refusal stores nothing. Pure module."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from urllib.parse import urlsplit

from chinhhang.errors import InvalidInput, plain_text
from chinhhang.i18n import N_

MAX_TITLE = 200
MAX_TEXT = 2000
MAX_LINK = 500
# How a refusal names each field: the form's label (translated where it is shown).
LABELS = {
    "title": N_("Title"),
    "text": N_("Text"),
    "link": N_("Link"),
    "starts_on": N_("First day"),
    "ends_on": N_("Last day"),
}


def checked_ids(value: object) -> list[int]:
    """Product ids as an edit gives them: a list of whole numbers (their owner is checked
    against the database by the caller)."""
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        raise InvalidInput(N_("Choose at least one product for the promotion."))
    return list(value)


def date_or(changes: dict[str, object], name: str, current: date) -> date | None:
    """The date an edit gives for `name`, or the current one when the edit leaves it out."""
    if name not in changes:
        return current
    value = changes[name]
    if value is not None and not isinstance(value, date):
        raise InvalidInput(
            N_("%(field)s must be a date written as YYYY-MM-DD."), field=LABELS[name]
        )
    return value


def checked_dates(starts_on: date | None, ends_on: date | None) -> tuple[date, date]:
    """Both days given, the last not before the first (a one-day promotion is fine)."""
    if starts_on is None or ends_on is None:
        raise InvalidInput(N_("A promotion needs a first and a last day."))
    if ends_on < starts_on:
        raise InvalidInput(N_("The promotion's last day is before its first day."))
    return starts_on, ends_on


def checked_texts(given: Mapping[str, object]) -> dict[str, str | None]:
    """Title (required), text and link (optional: empty is none), each within its size; the
    link only http(s), so no `javascript:` link reaches a shopper's page."""
    checked: dict[str, str | None] = {}
    for name, value in given.items():
        if value is not None and not isinstance(value, str):
            raise InvalidInput(N_("%(field)s must be text."), field=LABELS[name])
        text = plain_text(value, LABELS[name]).strip() if value else ""
        checked[name] = _CHECKS[name](text)
    return checked


def _checked_title(value: str) -> str:
    if not value or len(value) > MAX_TITLE:
        raise InvalidInput(N_("A promotion needs a title of 1 to 200 characters."))
    return value


def _checked_text(value: str) -> str | None:
    if len(value) > MAX_TEXT:
        raise InvalidInput(N_("The promotion's text is longer than 2000 characters."))
    return value or None


def _checked_link(value: str) -> str | None:
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        parts = None
    if (
        parts is None
        or len(value) > MAX_LINK
        or not value.isprintable()
        or " " in value
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
    ):
        raise InvalidInput(N_("The promotion's link must be an http:// or https:// address."))
    return value


_CHECKS = {"title": _checked_title, "text": _checked_text, "link": _checked_link}
