"""Products and their production batches (lots)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, text
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
    # The facility's location code (a GLN, 13 digits): Circular 02/2024 asks for the location
    # code of each stage, and EPCIS names places by it (urn:epc:id:sgln:…).
    facility_gln: Mapped[str | None] = mapped_column(String(13))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProductLink(Base):
    """A link the manufacturer publishes for a product through the GS1 Digital Link resolver.

    A link with a lot applies to that lot only; the resolver offers the links of every level up
    to the product (SPEC section 6). At most one link per product and lot is the default, the
    target of a plain scan of `/01/{gtin}`; without one, the platform's product page is.
    """

    __tablename__ = "product_links"
    __table_args__ = (
        Index("ix_product_links_product_lot", "product_id", "lot"),
        # One default per (product, lot); the service moves the flag, this stops two racing.
        Index(
            "ux_product_links_default",
            "product_id",
            "lot",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
        # Links are deleted: without AUTOINCREMENT SQLite would give a new link the id of the
        # last one deleted, and the audit log's "link 3" would name two links.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # Empty for a link of the product (every lot), not NULL, so that the unique index on
    # defaults covers product-level links too (NULLs are distinct in a unique index).
    lot: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # A term of the GS1 Web Vocabulary as a compact IRI (`gs1:pip`), see trace/links.py.
    link_type: Mapped[str] = mapped_column(String(60))
    href: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(200))
    # The target's language (BCP 47, e.g. `vi`, `en`); NULL when it is for every language.
    hreflang: Mapped[str | None] = mapped_column(String(20))
    media_type: Mapped[str | None] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Promotion(Base):
    """An owner's promotion, shown on its products' pages from `starts_on` to `ends_on`
    (both included, Vietnam's calendar day)."""

    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    image_file: Mapped[str | None] = mapped_column(String(100))
    link: Mapped[str | None] = mapped_column(String(500))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PromotionProduct(Base):
    __tablename__ = "promotion_products"

    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True, index=True)
