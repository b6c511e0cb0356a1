"""A shopper's report as typed: each field checked and put in its stored form (pure module).

Every field is checked before anything is stored, so a refusal changes nothing. Limits follow
the columns of `shopper_reports`; text holding control characters is refused (errors.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from chinhhang.errors import InvalidInput, plain_text
from chinhhang.i18n import N_
from chinhhang.phones import normalise_phone
from chinhhang.provinces import parse_province

MAX_SHOP_NAME = 200
MAX_SHOP_ADDRESS = 300
MAX_LINK = 500
MAX_DESCRIPTION = 4000
MAX_CONTACT_NAME = 200
MAX_EMAIL = 200
# How a refusal names each field: the form's own label (translated where it is shown, see
# i18n.TRANSLATED_VALUES), never the field's name in the code.
LABELS = {
    "shop_name": N_("Shop name"),
    "shop_address": N_("Shop address"),
    "online_link": N_("Online link"),
    "description": N_("What happened"),
    "contact_name": N_("Your name"),
    "contact_phone": N_("Phone number"),
    "contact_email": N_("E-mail"),
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


@dataclass(frozen=True, slots=True)
class ReportFields:
    """The report's fields as sent (text from a form, or JSON); all optional but the place."""

    shop_name: str = ""
    shop_address: str = ""
    online_link: str = ""
    province: str | int | None = None
    description: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""


@dataclass(frozen=True, slots=True)
class CheckedReport:
    shop_name: str | None
    shop_address: str | None
    online_link: str | None
    province_code: int | None
    description: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None


def _text(value: str, name: str, limit: int) -> str | None:
    label = LABELS[name]
    if not isinstance(value, str):
        raise InvalidInput(N_("%(field)s must be text."), field=label)
    text = plain_text(value, label).strip()
    if len(text) > limit:
        raise InvalidInput(
            N_("%(field)s is too long: at most %(n)s characters."), field=label, n=limit
        )
    return text or None


def checked_email(text: str) -> str:
    """An e-mail address of the usual shape, lower-cased domain; InvalidInput otherwise."""
    if len(text) > MAX_EMAIL or not text.isprintable() or not _EMAIL.fullmatch(text):
        raise InvalidInput(N_("The e-mail address does not look right, e.g. ten@example.vn."))
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def checked_link(text: str) -> str:
    """An absolute http(s) address with a host (where it was sold online)."""
    refused = InvalidInput(
        N_("The online link must be a web address starting with http:// or https://.")
    )
    if len(text) > MAX_LINK or not text.isprintable() or " " in text:
        raise refused
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise refused from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise refused
    return text


def check_report(fields: ReportFields) -> CheckedReport:
    """The fields in stored form; InvalidInput for the first one that is wrong.

    A report must say where the product was bought: a shop's name, its address, or a link.
    """
    shop_name = _text(fields.shop_name, "shop_name", MAX_SHOP_NAME)
    shop_address = _text(fields.shop_address, "shop_address", MAX_SHOP_ADDRESS)
    link = _text(fields.online_link, "online_link", MAX_LINK)
    if not (shop_name or shop_address or link):
        raise InvalidInput(
            N_("Say where you bought it: the shop's name, its address, or an online link.")
        )
    phone = _text(fields.contact_phone, "contact_phone", 40)
    email = _text(fields.contact_email, "contact_email", MAX_EMAIL)
    return CheckedReport(
        shop_name=shop_name,
        shop_address=shop_address,
        online_link=checked_link(link) if link else None,
        province_code=parse_province(fields.province),
        description=_text(fields.description, "description", MAX_DESCRIPTION),
        contact_name=_text(fields.contact_name, "contact_name", MAX_CONTACT_NAME),
        contact_phone=normalise_phone(phone) if phone else None,
        contact_email=checked_email(email) if email else None,
    )
