"""Stamp runs and stamps. One row per physical stamp, keyed by its code.

The code is the primary key because the scan path touches exactly one stamp by its code; that
keeps the hot path single-key and lets a distributed engine shard stamps by code (DESIGN.md).
Scan limit and status live on the stamp itself so the scan is one UPDATE with no join.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
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
