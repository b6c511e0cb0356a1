"""Organizations: the tenants. Users, roles and tokens arrive with the portal issue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from chinhhang.db import Base, UtcDateTime, utcnow

ORG_KINDS = ("manufacturer", "distributor", "retailer", "regulator")


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('manufacturer', 'distributor', 'retailer', 'regulator')", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(500))
    approved: Mapped[bool] = mapped_column(default=True)
    # The next serial sequence number to hand out; runs reserve blocks by one atomic UPDATE.
    next_serial: Mapped[int] = mapped_column(BigInteger, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
