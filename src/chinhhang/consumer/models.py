"""Warranty registrations made by shoppers after a genuine scan (SPEC section 7)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chinhhang.db import Base, UtcDateTime, utcnow
from chinhhang.stamps.models import CODE_TYPE


class WarrantyRegistration(Base):
    """One per stamp (unique code): a second registration of the same item is refused."""

    __tablename__ = "warranty_registrations"
    __table_args__ = (Index("ix_warranty_registrations_org_id", "org_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    stamp_code: Mapped[str] = mapped_column(CODE_TYPE, ForeignKey("stamps.code"), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # The stamp's serial as printed (digits), for lookup by serial and phone.
    serial: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Normalised to digits with a leading 0 (Vietnamese national format).
    phone: Mapped[str] = mapped_column(String(20))
    purchase_date: Mapped[date] = mapped_column(Date)
    shop: Mapped[str | None] = mapped_column(String(200))
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
