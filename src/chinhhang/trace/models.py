"""The EPCIS repository: captured documents and their events.

Events the platform itself records (commissioning, activation, shipping, receiving, voiding,
the first genuine scan) are not copied here: they are read from `stamp_events` and
`scan_events` and shown as EPCIS events at query time (trace/epcis/platform.py), so the stamp
and scan paths never write to this domain's tables (DESIGN.md: events flow up through tables).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chinhhang.db import Base, UtcDateTime, utcnow
from chinhhang.stamps.models import CODE_TYPE

# SQLite only auto-numbers a column declared exactly INTEGER PRIMARY KEY.
_ID = BigInteger().with_variant(Integer, "sqlite")


class EpcisCapture(Base):
    """One accepted capture request (EPCIS 2.0 REST binding: a capture job).

    Capture is all or nothing and synchronous: a document that fails validation is answered
    400 and leaves no row, so every stored capture succeeded.
    """

    __tablename__ = "epcis_captures"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EpcisEvent(Base):
    """One captured event: the query dimensions as columns, the event itself as JSON."""

    __tablename__ = "epcis_events"
    __table_args__ = (
        Index("ix_epcis_events_org_time", "org_id", "event_time"),
        Index("ix_epcis_events_time", "event_time"),
        # Unique per capturing organization, not globally: a global rule would tell one
        # organization whether another stored an eventID (409) and let it take the id first.
        UniqueConstraint("org_id", "event_id", name="uq_epcis_events_org_event"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("epcis_captures.id"), index=True)
    # The capturing organization: it always sees its own events.
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # eventID is meant to be globally unique, but only the capturing organization's own ids
    # are checked (see the constraint above); the plain index serves EQ_eventID.
    event_id: Mapped[str] = mapped_column(String(500), index=True)
    event_type: Mapped[str] = mapped_column(String(200))
    event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    record_time: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    action: Mapped[str | None] = mapped_column(String(10))
    # Bare CBV words (`shipping`) or the URI of a user vocabulary term.
    biz_step: Mapped[str | None] = mapped_column(String(500))
    disposition: Mapped[str | None] = mapped_column(String(500))
    read_point: Mapped[str | None] = mapped_column(String(500))
    biz_location: Mapped[str | None] = mapped_column(String(500))
    # The event as JSON (compact, keys as captured) and the @context it was captured under,
    # which the query answer needs to declare the prefixes of its extension fields.
    body: Mapped[str] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text)


class EpcisEventEpc(Base):
    """Every identifier an event names, by role, for the MATCH_ query parameters; and the
    platform stamp it denotes, if any, so a partner holding the stamp may see the event."""

    __tablename__ = "epcis_event_epcs"
    __table_args__ = (
        Index("ix_epcis_event_epcs_epc", "epc"),
        Index(
            "ix_epcis_event_epcs_stamp",
            "stamp_code",
            sqlite_where=text("stamp_code IS NOT NULL"),
            postgresql_where=text("stamp_code IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    event_pk: Mapped[int] = mapped_column(ForeignKey("epcis_events.id"), index=True)
    # epc (epcList, childEPCs), parent, input, output, class (quantity lists' epcClass).
    role: Mapped[str] = mapped_column(String(10))
    epc: Mapped[str] = mapped_column(String(500))
    stamp_code: Mapped[str | None] = mapped_column(CODE_TYPE, ForeignKey("stamps.code"))
