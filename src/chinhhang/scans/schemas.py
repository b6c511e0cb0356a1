"""API shapes for scans and the dashboard. A scan shows its stamp's serial, never its code."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from chinhhang.api_support import Output, Page

Outcome = Literal["genuine", "over_limit", "not_activated", "void", "product"]


class ScanPublic(Output):
    id: int
    scanned_at: datetime
    kind: str = Field(description='"dynamic" (a stamp) or "static" (a product code).')
    outcome: str
    serial: str | None
    product: str | None
    scan_number: int | None = Field(description="Which genuine scan of the stamp this was.")
    client_net: str | None = Field(description="The scanner's network (/24 or /48), never more.")
    undone_at: datetime | None = Field(
        default=None, description="When the owner undid this scan as a mistake (it was given back)."
    )


class ScanPage(Page):
    items: list[ScanPublic]


class StampFigures(Output):
    total: int = 0
    active: int = 0
    void: int = 0
    scanned: int = 0


class DayCount(Output):
    day: date
    scans: int


class DashboardPublic(Output):
    overseer: bool = Field(
        description="A regulator: its figures are per organization (GET /organizations)."
    )
    stamps: StampFigures = Field(description="Stamps issued (manufacturer) or held.")
    scans_per_day: list[DayCount] = Field(
        description="The last 14 days, oldest first (Vietnam's calendar days)."
    )
    latest_warnings: list[ScanPublic]
    incoming_shipments: int = Field(description="Shipments waiting to be received.")
