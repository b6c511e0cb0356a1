"""API shapes for shoppers' reports. A report shows its stamp's serial, never its code."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chinhhang.api_support import Output, Page

ReportStatus = Literal["new", "investigating", "confirmed", "dismissed"]


class ReportCreate(BaseModel):
    """A shopper's report (no API token). At least one of shop_name, shop_address and
    online_link; the rest is optional. Limits are checked again with clear messages."""

    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(
        default=None,
        max_length=200,
        description="The scan token of the warning page (`t` in its report link); ties the "
        "report to the stamp. Accepted for 7 days after the scan.",
    )
    shop_name: str = Field(default="", max_length=1000)
    shop_address: str = Field(default="", max_length=1000)
    online_link: str = Field(default="", max_length=1000, description="An http(s) address.")
    province_code: int | None = Field(
        default=None, ge=1, le=999, description="Vietnam's province code (vietnam_provinces)."
    )
    description: str = Field(default="", max_length=8000)
    contact_name: str = Field(default="", max_length=1000)
    contact_phone: str = Field(
        default="", max_length=40, description="Vietnamese: 0… (10 digits) or +84…."
    )
    contact_email: str = Field(default="", max_length=1000)


class ReportReceipt(Output):
    reference: str = Field(description="PA- and 8 characters: the shopper follows the report.")
    status: ReportStatus
    url: str = Field(description="The page where the shopper follows the report.")


class ReportNotePublic(Output):
    at: datetime
    status_from: ReportStatus
    status_to: ReportStatus
    text: str | None
    public: bool = Field(description="Shown to the shopper on the report's page.")
    by: str | None = Field(description="The e-mail of the member who wrote it, if a person.")
    organization: str | None


class ReportPublic(Output):
    id: int
    reference: str
    status: ReportStatus
    created_at: datetime
    updated_at: datetime
    organization: str | None = Field(description="The stamp's owner; null without a token.")
    product: str | None
    serial: str | None = Field(description="The stamp's serial in groups of four.")
    outcome: str | None = Field(description="The verdict the shopper saw.")
    alert_id: int | None = Field(description="The stamp's alert open when it was reported.")
    shop_name: str | None
    shop_address: str | None
    online_link: str | None
    province_code: int | None
    province: str | None
    description: str | None
    has_photo: bool = Field(description="The photo is at /portal/reports/{id}/photo.")
    contact_name: str | None = Field(description="Only for those who may work the report.")
    contact_phone: str | None
    contact_email: str | None
    notes: list[ReportNotePublic] = Field(default_factory=list, description="Oldest first.")


class ReportPage(Page):
    items: list[ReportPublic]


class ReportStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ReportStatus
    note: str | None = Field(default=None, max_length=2000)
    public: bool = Field(default=False, description="Show the note to the shopper.")
