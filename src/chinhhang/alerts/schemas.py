"""API shapes for alerts. An alert shows its stamp's serial, never its code."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chinhhang.api_support import Output, Page

AlertStatus = Literal["open", "acknowledged", "closed"]
AlertCategory = Literal["likely_copy", "process_error", "stolen_stamps", "voided_stamp", "guessing"]


class PlacePublic(Output):
    province_code: int | None = Field(description="Vietnam's province code, if one was chosen.")
    latitude: float | None = Field(description="Rounded to 0.01° (about 1 km), with consent.")
    longitude: float | None


class AlertPublic(Output):
    id: int
    reason: str = Field(description="over_limit, not_activated, void or guessing.")
    category: str = Field(description="The owner's reading of it (triage).")
    status: str
    serial: str | None = Field(description="The stamp's serial in groups of four.")
    product: str | None
    lot: str | None
    organization: str | None = Field(description="The stamp's owner; null for guessing.")
    custodian: str | None = Field(description="Who held the stamp when it was scanned.")
    client_net: str | None = Field(description="For guessing: the client's /24 or /48.")
    scan_count: int = Field(description="Suspicious scans grouped in this alert.")
    first_at: datetime
    last_at: datetime
    note: str | None
    place: PlacePublic | None


class AlertPage(Page):
    items: list[AlertPublic]


class AlertTriage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AlertStatus
    category: AlertCategory
    note: str | None = Field(default=None, max_length=2000)
