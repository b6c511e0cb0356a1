"""Scan events: one row per scan that reached a verdict worth keeping.

Written by the hot path with hand-written SQL (scans/sql.py); the ORM class is for reading,
migrations and the drift check. Client addresses are stored truncated (IPv4 /24, IPv6 /48),
never whole (SPEC section 9).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from chinhhang.db import Base, UtcDateTime
from chinhhang.stamps.models import CODE_TYPE


class ScanEvent(Base):
    __tablename__ = "scan_events"
    __table_args__ = (
        Index("ix_scan_events_stamp_code", "stamp_code"),
        Index("ix_scan_events_product_scanned", "product_id", "scanned_at"),
        # The first genuine scan of a stamp is its sale to a shopper, an EPCIS event
        # (trace/epcis/platform.py); partial, so the other scans cost this index nothing.
        Index(
            "ix_scan_events_first_sale",
            "org_id",
            "scanned_at",
            sqlite_where=text("scan_number = 1 AND outcome = 'genuine'"),
            postgresql_where=text("scan_number = 1 AND outcome = 'genuine'"),
        ),
    )

    # SQLite only auto-numbers a column declared exactly INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(16))
    # The stamp, product, batch and organization, without foreign keys (migration 0008): the
    # hot path copies them from the stamp row it counts in the same statement, nothing deletes
    # those rows, and each key cost a lookup and a shared lock on the brand's rows per scan.
    stamp_code: Mapped[str | None] = mapped_column(CODE_TYPE)
    product_id: Mapped[int | None]
    batch_id: Mapped[int | None]
    org_id: Mapped[int | None]
    scan_number: Mapped[int | None]
    scanned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    client_net: Mapped[str | None] = mapped_column(String(50))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # Only with the shopper's consent (SPEC section 9): the phone's position rounded to about
    # 1 km (0.01 degree), or the province picked in a report (vietnam_provinces' code).
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    province_code: Mapped[int | None] = mapped_column(Integer)
    # Set when the owner undid this scan as a mistake (staff scanning): the stamp's count was
    # given back; the row stays as history (scans/corrections.py).
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
