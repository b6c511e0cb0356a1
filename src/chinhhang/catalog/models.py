"""Products and their production batches (lots)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chinhhang.db import Base, UtcDateTime, utcnow


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Canonical GTIN-14; unique across the platform because the resolver answers by GTIN alone.
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    brand: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(String(200))
    image_url: Mapped[str | None] = mapped_column(String(500))
    # An image uploaded through the portal, re-encoded, under the data folder's media/.
    image_file: Mapped[str | None] = mapped_column(String(100))
    standards: Mapped[str | None] = mapped_column(String(300))
    certifications: Mapped[str | None] = mapped_column(String(500))
    shelf_life: Mapped[str | None] = mapped_column(String(100))
    warranty_months: Mapped[int] = mapped_column(default=0)
    # When set and redirect is on, static scans go to the manufacturer's own page.
    website: Mapped[str | None] = mapped_column(String(500))
    redirect_to_website: Mapped[bool] = mapped_column(default=False)
    withdrawn: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("product_id", "lot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    lot: Mapped[str] = mapped_column(String(20))
    production_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    facility: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
