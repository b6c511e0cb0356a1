"""Alerts, their outbox and deliveries, and shoppers' reports (SPEC section 7).

Events flow up through tables (DESIGN.md): the scan path writes an `alert_outbox` row in the
transaction that records a suspicious scan; the alert worker turns outbox rows into alerts
(one open alert per stamp, or per client for guessing) and delivery rows, then sends those.
A row is only deleted from the outbox in the transaction that made its alert, so a worker
that dies loses nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from chinhhang.db import Base, UtcDateTime, utcnow
from chinhhang.stamps.models import CODE_TYPE

BIG_ID = BigInteger().with_variant(Integer, "sqlite")
# Why an alert was raised: the three suspicious scan outcomes and code guessing.
REASONS = ("over_limit", "not_activated", "void", "guessing")
# The owner's reading of it (SPEC section 7, triage).
CATEGORIES = ("likely_copy", "process_error", "stolen_stamps", "voided_stamp", "guessing")
ALERT_STATUSES = ("open", "acknowledged", "closed")
CHANNEL_KINDS = ("webhook", "email")
DELIVERY_STATUSES = ("pending", "delivered", "failed")
REPORT_STATUSES = ("new", "investigating", "confirmed", "dismissed")


class AlertOutbox(Base):
    """Written by the scan path (scans/sql.py) and deleted by the worker that handled it."""

    __tablename__ = "alert_outbox"
    # Ids never reused on SQLite: a worker keeps no cursor, but logs name outbox ids.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))
    stamp_code: Mapped[str | None] = mapped_column(CODE_TYPE)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    client_net: Mapped[str | None] = mapped_column(String(50))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Alert(Base):
    """Suspicious scans of one stamp (or guesses from one client network), grouped.

    At most one alert per stamp is not closed (a partial unique index), so a worker that
    races another cannot open a second one; scans after the first add to `scan_count`.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index(
            "uq_alerts_open_stamp",
            "stamp_code",
            unique=True,
            sqlite_where=text("status <> 'closed' AND stamp_code IS NOT NULL"),
            postgresql_where=text("status <> 'closed' AND stamp_code IS NOT NULL"),
        ),
        Index(
            "uq_alerts_open_guessing",
            "client_net",
            unique=True,
            sqlite_where=text("status <> 'closed' AND reason = 'guessing'"),
            postgresql_where=text("status <> 'closed' AND reason = 'guessing'"),
        ),
        Index("ix_alerts_org_id", "org_id", "id"),
        Index("ix_alerts_first_at", "first_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    # None for guessing: a forged code names no organization; regulators see those.
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    reason: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(14), default="open")
    stamp_code: Mapped[str | None] = mapped_column(CODE_TYPE)
    serial: Mapped[str | None] = mapped_column(String(30))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    # Who held the stamp when it was scanned (the distributor it was shipped to, if any).
    custodian_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    client_net: Mapped[str | None] = mapped_column(String(50))
    scan_count: Mapped[int] = mapped_column(default=1)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The place (when a shopper shared one) is read from the stamp's scan events when shown:
    # shoppers share it after the verdict, often after the alert was made (alerts/services).
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AlertChannel(Base):
    """Where an organization's alerts go besides its dashboard: a webhook URL or an e-mail."""

    __tablename__ = "alert_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(500))
    # The webhook's signing secret (HMAC-SHA256), shown to the owner; None for e-mail.
    secret: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AlertDelivery(Base):
    """One alert (or test message) to one channel. The idempotency key is sent with every
    attempt, so a receiver can drop the repeat of a delivery a dying worker could not mark."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("alert_channels.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # "alert.created" or "test".
    event: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # A worker that took it holds it until then; after a crash another takes it over.
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DeliveryAttempt(Base):
    """The delivery log the portal shows: every attempt, its answer or its error."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("alert_deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(default=0)


class ShopperReport(Base):
    """A shopper's report of a suspected fake, followed by its reference number."""

    __tablename__ = "shopper_reports"
    __table_args__ = (Index("ix_shopper_reports_org_status", "org_id", "status"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # The stamp's owner (None when the code named no stamp: regulators work those).
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    stamp_code: Mapped[str | None] = mapped_column(CODE_TYPE)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    # The verdict the shopper saw.
    outcome: Mapped[str | None] = mapped_column(String(16))
    shop_name: Mapped[str | None] = mapped_column(String(200))
    shop_address: Mapped[str | None] = mapped_column(String(300))
    online_link: Mapped[str | None] = mapped_column(String(500))
    province_code: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    # Re-encoded JPEG under the data folder's reports/ (never the uploaded bytes).
    photo_file: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(14), default="new")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ReportNote(Base):
    """A step in working a report: who, when, the status change and what they wrote."""

    __tablename__ = "report_notes"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("shopper_reports.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status_from: Mapped[str] = mapped_column(String(14))
    status_to: Mapped[str] = mapped_column(String(14))
    text: Mapped[str | None] = mapped_column(Text)
    # Shown to the shopper on the report's public page; otherwise for the organizations only.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
