"""API shapes for products, their batches (lots) and their GS1 Digital Link links.

Lengths match the columns and the services' checks (catalog/services.py); the services give
the precise, translated refusal for what a schema cannot express (GTIN check digits, link
schemes, lot characters).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from chinhhang.api_support import Input, Output, Page
from chinhhang.catalog.link_types import LINK_TYPES
from chinhhang.catalog.services import MAX_LOT_LENGTH


class _ProductDetails(Input):
    brand: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    origin: str | None = Field(default=None, max_length=200)
    image_url: str | None = Field(
        default=None, max_length=500, description="An http:// or https:// link to a picture."
    )
    standards: str | None = Field(default=None, max_length=300)
    certifications: str | None = Field(default=None, max_length=500)
    shelf_life: str | None = Field(default=None, max_length=100)
    website: str | None = Field(
        default=None,
        max_length=500,
        description="The manufacturer's page for the product (http:// or https://).",
    )


class ProductCreate(_ProductDetails):
    name: str = Field(min_length=1, max_length=200)
    gtin: str | None = Field(
        default=None, max_length=20, description="GTIN-8, -12, -13 or -14; unique on the platform."
    )
    warranty_months: int = Field(default=0, ge=0, le=240)
    redirect_to_website: bool = Field(
        default=False, description="Static scans go to `website` instead of our page."
    )
    withdrawn: bool = False


class ProductUpdate(_ProductDetails):
    """Fields left out stay as they are; null clears a text field. The GTIN can be set once."""

    # Not nullable (a product always has a name, a warranty and both flags): None here only
    # means "left out", which the schema does not show and an explicit null is refused.
    name: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    gtin: str | None = Field(default=None, max_length=20)
    warranty_months: Annotated[int, Field(ge=0, le=240)] | SkipJsonSchema[None] = None
    redirect_to_website: bool | SkipJsonSchema[None] = None
    withdrawn: bool | SkipJsonSchema[None] = None

    @field_validator("name", "warranty_months", "redirect_to_website", "withdrawn")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, not null")
        return value


class ProductPublic(Output):
    id: int
    name: str
    gtin: str | None = Field(description="Canonical GTIN-14.")
    brand: str | None
    description: str | None
    origin: str | None
    image_url: str | None
    image_file: str | None = Field(
        description="The uploaded picture, served at /media/{image_file}."
    )
    standards: str | None
    certifications: str | None
    shelf_life: str | None
    warranty_months: int
    website: str | None
    redirect_to_website: bool
    withdrawn: bool
    created_at: datetime


class ProductPage(Page):
    items: list[ProductPublic]


class BatchCreate(Input):
    """Creates the batch, or updates the given fields of the product's batch with this lot."""

    lot: str = Field(
        min_length=1,
        max_length=MAX_LOT_LENGTH,
        description="GS1 AI (10): 1 to 20 letters, digits or symbols, no spaces.",
    )
    production_date: date | None = None
    expiry_date: date | None = None
    facility: str | None = Field(default=None, max_length=200)
    facility_gln: str | None = Field(
        default=None,
        max_length=20,
        description="The facility's GLN (location code): 13 digits with a GS1 check digit.",
    )


class BatchPublic(Output):
    id: int
    product_id: int
    lot: str
    production_date: date | None
    expiry_date: date | None
    facility: str | None
    facility_gln: str | None
    created_at: datetime


class BatchPage(Page):
    items: list[BatchPublic]


_LINK_TYPE = (
    "A GS1 Web Vocabulary link type, written `gs1:pip`, `pip` or `https://gs1.org/voc/pip`; "
    f"one of {', '.join('gs1:' + name for name in LINK_TYPES)}."
)
_HREF = "The target: an absolute http:// or https:// address."
_HREFLANG = "The target's language (a BCP 47 tag such as `vi` or `en-US`); null for any."
_LOT = "A lot number: the link is for that lot only; null or empty for every lot."
_DEFAULT = "The target of a plain scan of the product (or its lot); the previous one loses it."


class ProductLinkCreate(Input):
    link_type: str = Field(max_length=100, description=_LINK_TYPE)
    href: str = Field(min_length=1, max_length=500, description=_HREF)
    title: str = Field(min_length=1, max_length=200, description="Shown to shoppers.")
    hreflang: str | None = Field(default=None, max_length=20, description=_HREFLANG)
    lot: str | None = Field(default=None, max_length=MAX_LOT_LENGTH, description=_LOT)
    media_type: str | None = Field(
        default=None, max_length=100, description="The target's media type, e.g. text/html."
    )
    is_default: bool = Field(default=False, description=_DEFAULT)


class ProductLinkUpdate(Input):
    """Fields left out stay as they are; null clears `hreflang`, `lot` or `media_type`."""

    # Not nullable: None only means "left out" (see ProductUpdate).
    link_type: (
        Annotated[str, Field(max_length=100, description=_LINK_TYPE)] | SkipJsonSchema[None]
    ) = None
    href: Annotated[str, Field(min_length=1, max_length=500)] | SkipJsonSchema[None] = None
    title: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    hreflang: str | None = Field(default=None, max_length=20, description=_HREFLANG)
    lot: str | None = Field(default=None, max_length=MAX_LOT_LENGTH, description=_LOT)
    media_type: str | None = Field(default=None, max_length=100)
    is_default: bool | SkipJsonSchema[None] = Field(default=None, description=_DEFAULT)

    @field_validator("link_type", "href", "title", "is_default")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, not null")
        return value


class ProductLinkPublic(Output):
    id: int
    product_id: int
    lot: str = Field(description="Empty for a link of every lot.")
    link_type: str = Field(description="A compact IRI, e.g. `gs1:pip`.")
    href: str
    title: str
    hreflang: str | None
    media_type: str | None
    is_default: bool
    created_at: datetime


class ProductLinkList(Output):
    items: list[ProductLinkPublic]
