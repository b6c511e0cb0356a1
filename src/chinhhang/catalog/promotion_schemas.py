"""API shapes for promotions. Lengths match the columns and the service's checks
(catalog/promotions.py), which give the precise, translated refusal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from chinhhang.api_support import Id, Input, Output
from chinhhang.catalog.promotions import MAX_PRODUCTS

_PRODUCTS = "The organization's products the promotion is about (at least one)."
_LINK = "An http:// or https:// address with the details; null for none."


class PromotionCreate(Input):
    title: str = Field(min_length=1, max_length=200)
    text: str | None = Field(default=None, max_length=2000)
    link: str | None = Field(default=None, max_length=500, description=_LINK)
    starts_on: date = Field(description="The first day it is shown (Vietnam's calendar).")
    ends_on: date = Field(description="The last day it is shown; not before `starts_on`.")
    product_ids: list[Id] = Field(min_length=1, max_length=MAX_PRODUCTS, description=_PRODUCTS)


class PromotionUpdate(Input):
    """Fields left out stay as they are; null clears `text` or `link`."""

    # Not nullable: None here only means "left out" (see catalog/schemas.py ProductUpdate).
    title: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    text: str | None = Field(default=None, max_length=2000)
    link: str | None = Field(default=None, max_length=500, description=_LINK)
    starts_on: date | SkipJsonSchema[None] = None
    ends_on: date | SkipJsonSchema[None] = None
    product_ids: (
        Annotated[list[Id], Field(min_length=1, max_length=MAX_PRODUCTS, description=_PRODUCTS)]
        | SkipJsonSchema[None]
    ) = None

    @field_validator("title", "starts_on", "ends_on", "product_ids")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, not null")
        return value


class PromotionPublic(Output):
    id: int
    title: str
    text: str | None
    link: str | None
    image_url: str | None = Field(description="The uploaded image, under this server's /media/.")
    starts_on: date
    ends_on: date
    product_ids: list[int]
    status: Literal["current", "upcoming", "past"] = Field(
        description="Whether it is shown today (Vietnam's calendar), later, or no more."
    )
    created_at: datetime


class PromotionList(Output):
    items: list[PromotionPublic]
