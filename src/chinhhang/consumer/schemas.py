"""API shapes for warranty registrations: the shopper's (public) and the owner's.

Lengths are generous caps; the services give the precise, translated refusal (a phone number
that is not Vietnamese, a serial whose check digit fails, a purchase date out of range).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from chinhhang.api_support import Input, Output, Page


class WarrantyCreate(Input):
    token: str = Field(
        min_length=1,
        max_length=200,
        description="The scan token of a genuine scan, at most a day old: the `t` of the "
        "registration link on the genuine page.",
    )
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(
        min_length=1,
        max_length=30,
        description="A Vietnamese phone number: 10 digits starting with 0, or +84…",
    )
    purchase_date: date = Field(
        description="Not in the future, not before the stamp was applied, and recent enough "
        "that the warranty has not ended."
    )
    shop: str | None = Field(default=None, max_length=200, description="Where it was bought.")


class WarrantyLookup(Input):
    serial: str = Field(
        min_length=1, max_length=40, description="The 12-digit serial, grouped or not."
    )
    phone: str = Field(min_length=1, max_length=30, description="The phone number registered.")


class WarrantyPublic(Output):
    """A registration as the shopper sees it (no name, no phone)."""

    serial: str = Field(description="Grouped as printed, e.g. `0000 0012 3458`.")
    product: str
    manufacturer: str
    purchase_date: date
    ends_on: date = Field(description="The last day of the warranty.")
    shop: str | None
    status: Literal["valid", "expired"]


class WarrantyList(Output):
    items: list[WarrantyPublic]


class WarrantyRegistrationPublic(Output):
    """A registration as its owner sees it: personal data, keep it so."""

    id: int
    serial: str = Field(description="12 digits.")
    product_id: int
    product: str
    gtin: str | None
    name: str
    phone: str
    purchase_date: date
    ends_on: date
    shop: str | None
    registered_at: datetime


class WarrantyRegistrationPage(Page):
    items: list[WarrantyRegistrationPublic]
