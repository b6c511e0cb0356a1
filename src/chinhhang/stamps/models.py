"""Stamp runs and stamps. One row per physical stamp, keyed by its code.

The code is the primary key because the scan path touches exactly one stamp by its code; that
keeps the hot path single-key and lets a distributed engine shard stamps by code (DESIGN.md).
Scan limit and status live on the stamp itself so the scan is one UPDATE with no join.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from chinhhang.db import Base, UtcDateTime, utcnow

ISSUED, ACTIVE, VOID = "issued", "active", "void"
# Byte order on PostgreSQL: codes are ASCII, and a locale collation would make every
# comparison in the random-keyed code index several times slower.
CODE_TYPE = String(24).with_variant(String(24, collation="C"), "postgresql")
RUN_ISSUING, RUN_READY = "issuing", "ready"


class StampRun(Base):
    __tablename__ = "stamp_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    scan_limit: Mapped[int] = mapped_column(default=1)
    grace_minutes: Mapped[int] = mapped_column(default=30)
    first_sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default=RUN_ISSUING)
    key_id: Mapped[int] = mapped_column(default=0)
    # Stamps written so far: the portal shows issuing progress, a resumed fill starts here.
    filled: Mapped[int] = mapped_column(BigInteger, default=0)
    # What to activate the run with once it is filled (kept here, not in memory, so that a
    # restart during the fill still activates it); cleared when done.
    activate_product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    activate_lot: Mapped[str | None] = mapped_column(String(20))
    # How many times the run's codes were exported (printing/services.py counts each export
    # with one atomic UPDATE before any byte is written); the run's page shows it.
    export_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def last_sequence(self) -> int:
        return self.first_sequence + self.quantity - 1


class Stamp(Base):
    __tablename__ = "stamps"
    __table_args__ = (
        CheckConstraint("status IN ('issued', 'active', 'void')", name="status"),
        CheckConstraint("scan_limit >= 1", name="scan_limit"),
        # Also serves "the stamps of a run": a run's serials are one contiguous range.
        Index("ix_stamps_org_sequence", "org_id", "sequence", unique=True),
        # Partial: a stamp still with its maker (holder NULL) or not travelling (shipment
        # NULL) costs these indexes nothing, so issuing millions of stamps stays as fast.
        Index(
            "ix_stamps_holder_org_id",
            "holder_org_id",
            "org_id",
            "sequence",
            sqlite_where=text("holder_org_id IS NOT NULL"),
            postgresql_where=text("holder_org_id IS NOT NULL"),
        ),
        Index(
            "ix_stamps_shipment_id",
            "shipment_id",
            sqlite_where=text("shipment_id IS NOT NULL"),
            postgresql_where=text("shipment_id IS NOT NULL"),
        ),
    )

    code: Mapped[str] = mapped_column(CODE_TYPE, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("stamp_runs.id"))
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default=ISSUED)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    scan_limit: Mapped[int] = mapped_column(default=1)
    scan_count: Mapped[int] = mapped_column(default=0)
    first_scanned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Custody (SPEC section 4): NULL while the issuing organization holds the stamp.
    holder_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    # The shipment it is travelling in, until the receiver receives it.
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))


IN_TRANSIT, RECEIVED = "in_transit", "received"


class Shipment(Base):
    """Stamps of one issuing organization sent from one organization to another."""

    __tablename__ = "shipments"
    __table_args__ = (CheckConstraint("status IN ('in_transit', 'received')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    to_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # Whose serials the ranges are: serials are unique only within their issuer.
    issuer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default=IN_TRANSIT)
    reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ShipmentRange(Base):
    """The shipment's stamps as contiguous serial ranges: a million stamps can be one row."""

    __tablename__ = "shipment_ranges"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    first_sequence: Mapped[int] = mapped_column(BigInteger)
    last_sequence: Mapped[int] = mapped_column(BigInteger)


class StampEvent(Base):
    """One step of the life cycle over a serial range: commissioning, activating, shipping,
    receiving, voiding. The traceability issue publishes these as EPCIS events."""

    __tablename__ = "stamp_events"
    __table_args__ = (Index("ix_stamp_events_issuer_sequence", "issuer_org_id", "first_sequence"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    # Who did it, and whose serials.
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    issuer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    first_sequence: Mapped[int] = mapped_column(BigInteger)
    last_sequence: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("stamp_runs.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
