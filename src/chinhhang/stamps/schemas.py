"""API shapes for stamp runs, stamps and shipments.

Stamps are shown by serial only: a code is what a forger needs to clone a stamp, and exporting
codes is a separate, restricted action (SPEC section 9). No shape here has a code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from chinhhang.api_support import Id, Input, Output, Page
from chinhhang.catalog.services import MAX_LOT_LENGTH
from chinhhang.stamps.models import Shipment, ShipmentRange, StampRun
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import MAX_RUN, RunSummary, Selection, StampRow
from chinhhang.stamps.services.runs import MAX_SCAN_LIMIT
from chinhhang.stamps.services.selection import MAX_SERIALS_TEXT
from chinhhang.stamps.services.shipments import MAX_REFERENCE

StampStatus = Literal["issued", "active", "void"]


def serial(sequence: int) -> str:
    return grouped(serial_for(sequence))


class RunCreate(Input):
    quantity: int = Field(ge=1, le=MAX_RUN)
    scan_limit: int = Field(default=1, ge=1, le=MAX_SCAN_LIMIT)
    grace_minutes: int | None = Field(
        default=None,
        ge=0,
        le=24 * 60,
        description="Same-browser grace period; the server's default when left out.",
    )
    product_id: Id | None = Field(
        default=None, description="Activate the run for this product once it is filled."
    )
    lot: str | None = Field(
        default=None, min_length=1, max_length=MAX_LOT_LENGTH, description="Needs product_id."
    )


class RunPublic(Output):
    id: int
    quantity: int
    scan_limit: int
    grace_minutes: int
    status: Literal["issuing", "ready"] = Field(
        description='"issuing" while the stamps are being written, then "ready".'
    )
    filled: int = Field(description="Stamps written so far.")
    first_serial: str
    last_serial: str
    created_at: datetime
    export_count: int = Field(
        description="How many times the run's codes were exported (each is in the audit log)."
    )

    @classmethod
    def of(cls, run: StampRun) -> RunPublic:
        return cls(
            id=run.id,
            quantity=run.quantity,
            scan_limit=run.scan_limit,
            grace_minutes=run.grace_minutes,
            status=run.status,
            filled=run.filled,
            first_serial=serial(run.first_sequence),
            last_serial=serial(run.last_sequence),
            created_at=run.created_at,
            export_count=run.export_count,
        )


class StatusCounts(Output):
    issued: int
    active: int
    void: int


class RunDetail(RunPublic):
    counts: StatusCounts = Field(description="The stamps written so far, by status.")

    @classmethod
    def of_summary(cls, summary: RunSummary) -> RunDetail:
        return cls(
            **RunPublic.of(summary.run).model_dump(),
            counts=StatusCounts.model_validate(summary.counts),
        )


class RunPage(Page):
    items: list[RunPublic]


class StampPublic(Output):
    serial: str
    status: StampStatus
    issuer_org_id: int
    holder_org_id: int = Field(description="Who has the stamp now (the issuer until shipped).")
    in_transit: bool
    product: str | None
    lot: str | None
    scan_count: int
    scan_limit: int
    first_scanned_at: datetime | None

    @classmethod
    def of(cls, row: StampRow) -> StampPublic:
        return cls.model_validate(row)


class StampPage(Page):
    items: list[StampPublic]


class StampSelection(Input):
    """Either a run, or serials: "FIRST-LAST" (or FIRST..LAST) or a list "S1, S2, …"."""

    run_id: Id | None = None
    serials: str | None = Field(
        default=None,
        max_length=MAX_SERIALS_TEXT,
        examples=["0000 0000 0019-0000 0000 0057", "0000 0000 0019, 0000 0000 0024"],
    )

    def selection(self, issuer_org_id: int | None = None) -> Selection:
        """Raises InvalidInput for neither or both, or a malformed serial."""
        return Selection.parse(
            run_id=self.run_id, serials=self.serials, issuer_org_id=issuer_org_id
        )


class ActivateRequest(StampSelection):
    product_id: Id
    lot: str | None = Field(default=None, min_length=1, max_length=MAX_LOT_LENGTH)


class VoidRequest(StampSelection):
    pass


class Changed(Output):
    changed: int = Field(description="How many stamps changed (others were already so).")


class ShipmentCreate(StampSelection):
    to_org_id: Id = Field(description="An approved distributor or retailer.")
    issuer_org_id: Id | None = Field(
        default=None,
        description="Whose serials: needed when a distributor passes on a manufacturer's stamps.",
    )
    reference: str | None = Field(default=None, max_length=MAX_REFERENCE)


class ShipmentPublic(Output):
    id: int
    from_org_id: int
    to_org_id: int
    issuer_org_id: int
    quantity: int
    status: Literal["in_transit", "received"]
    reference: str | None
    created_at: datetime
    received_at: datetime | None


class SerialRange(Output):
    first: str
    last: str
    quantity: int

    @classmethod
    def of(cls, part: ShipmentRange) -> SerialRange:
        return cls(
            first=serial(part.first_sequence),
            last=serial(part.last_sequence),
            quantity=part.last_sequence - part.first_sequence + 1,
        )


class ShipmentDetail(ShipmentPublic):
    ranges: list[SerialRange]

    @classmethod
    def of(cls, shipment: Shipment, ranges: list[ShipmentRange]) -> ShipmentDetail:
        return cls(
            **ShipmentPublic.model_validate(shipment).model_dump(),
            ranges=[SerialRange.of(r) for r in ranges],
        )


class ShipmentPage(Page):
    items: list[ShipmentPublic]
