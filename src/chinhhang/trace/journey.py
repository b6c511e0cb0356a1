"""The shopper's journey: made where and when, shipped to whom, received, first verified.

SPEC sections 2 and 6, and item (e) of Circular 02/2024/TT-BKHCN: the stages of a traced
product, each with its item code, location code (GLN) and time. The journey is read from the
rows the stamp services write (`stamp_events`, with `shipments` for the receiver) and from the
stamp's own row; nothing here is written, and the stamps domain never calls here (DESIGN.md:
events flow up through tables). The scan pages get it through `app.state` (web.py), because
`scans` may not import `trace`.

Commissioning is left out on purpose: it is the printing of empty stamps, not a step of the
goods, and a "stamps printed on …" line before "made on …" would only confuse a shopper.
Activation is the stamp being bound to the product: it stands in for the production date when
the batch has none.

Every query is bounded and goes through an index, whatever the size of the runs: a stamp's
events are found by `(issuer_org_id, first_sequence)` within the widest range an event can
cover, never by walking stamps.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, true
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.models import Organization
from chinhhang.catalog.models import Batch, Product
from chinhhang.stamps.models import Shipment, Stamp, StampEvent
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services.events import overlapping, widest_step_of

log = logging.getLogger(__name__)

MADE, SHIPPED, RECEIVED, FIRST_VERIFIED, VOIDED = (
    "made",
    "shipped",
    "received",
    "first_verified",
    "voided",
)
_SHIPPING, _RECEIVING = "shipping", "receiving"
# A stamp passes through a handful of hands; more steps than this would not fit a phone.
MAX_STAMP_EVENTS = 30
# A lot page: the making and the first organizations the lot reached.
MAX_LOT_STAGES = 10
# The lot's activations looked at (each is a serial range, often a whole run).
MAX_LOT_RANGES = 50


@dataclass(frozen=True, slots=True)
class ItemCode:
    """What every stage of the journey is about: GTIN, lot, and (for a stamp) the serial."""

    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class Stage:
    kind: str
    # A date (a batch's production date) or an aware datetime; None when unknown.
    when: date | datetime | None
    # The organization that did it; None for the shopper's first verification.
    who: str | None = None
    # Shipped: the receiving organization.
    to: str | None = None
    # Where it happened (a facility or an address) and its location code.
    where: str | None = None
    gln: str | None = None

    @property
    def exact(self) -> bool:
        """A moment (shown with its time on Vietnam's clock), not a calendar day."""
        return isinstance(self.when, datetime)

    @property
    def place(self) -> str | None:
        """The place and its location code: Nhà máy Bình Dương (GLN 8930000000019)."""
        if self.where and self.gln:
            return f"{self.where} (GLN {self.gln})"
        return self.where or (f"GLN {self.gln}" if self.gln else None)


@dataclass(frozen=True, slots=True)
class Journey:
    item: ItemCode
    # Made first, then the other stages oldest first.
    stages: tuple[Stage, ...] = ()
    # A lot's journey: one stage per organization reached, dated by the first time.
    of_lot: bool = False
    # A whole product's (no lot named): its lots may be made in several places and times.
    of_product: bool = False


def stamp_journey(session: Session, code: str) -> Journey:
    """The journey of the item one stamp is on; no stages for an unknown code."""
    stamp = session.execute(_STAMP, {"code": code}).one_or_none()
    if stamp is None:
        return Journey(ItemCode())
    serial = grouped(serial_for(stamp.sequence))
    if stamp.product_id is None:  # never activated: no goods to speak of yet
        return Journey(ItemCode(serial=serial))
    origin = _Origin(*stamp[len(_STAMP_COLUMNS) :])
    timed = _custody_of_stamp(session, stamp.org_id, stamp.sequence)
    if stamp.first_scanned_at is not None:
        timed.append(Stage(FIRST_VERIFIED, stamp.first_scanned_at))
    if stamp.voided_at is not None:
        # Only the issuer voids its stamps (stamps/services/runs.py).
        timed.append(Stage(VOIDED, stamp.voided_at, who=origin.maker))
    # Stable: events of the same instant keep their recorded order.
    timed.sort(key=_moment)
    return Journey(
        ItemCode(origin.gtin, origin.lot, serial),
        (_made(origin), *timed),
    )


def lot_journey(session: Session, product_id: int, batch_id: int | None) -> Journey:
    """The journey of a lot (or, without a batch, of the product): where and when it was
    made, then the organizations its stamps were shipped to and received by, each once with
    its first date. Nothing about shoppers. No stages for an unknown product.

    The lot's stamps are found through its activation events (ranges of serials, read once);
    the steps over those ranges through the `(issuer_org_id, first_sequence)` index.
    """
    origin = _origin(session, product_id, batch_id)
    if origin is None:
        return Journey(ItemCode(), of_lot=True)
    ranges = _lot_ranges(session, origin.org_id, product_id, batch_id)
    reached = _lot_custody(session, origin.org_id, ranges)
    # Without a lot, only who makes it is known: its lots each have their place and date.
    made = _made(origin) if batch_id is not None else Stage(MADE, None, who=origin.maker)
    return Journey(
        ItemCode(origin.gtin, origin.lot),
        (made, *reached[: MAX_LOT_STAGES - 1]),
        of_lot=batch_id is not None,
        of_product=batch_id is None,
    )


def stamp_journey_for_page(sessions: sessionmaker[Session], code: str) -> Journey | None:
    """The genuine page's journey read for one stamp: what journey_page.py falls back to for
    an issuer with too many steps to hold in memory (and the reference its tests compare with).

    Called in the thread pool after the scan was counted, with read sessions. A database
    failure here costs the page its timeline, never the verdict the shopper already got.
    """
    try:
        with sessions() as session:
            journey = stamp_journey(session, code)
    except SQLAlchemyError:
        log.warning("the journey of a stamp could not be read", exc_info=True)
        return None
    return journey if journey.stages else None


# -- reading -----------------------------------------------------------------------------------

# The genuine page reads these on every genuine scan: built once, with bound parameters, on the
# tables (not the ORM classes), so a call costs the database's time and little of SQLAlchemy's.
_stamps, _events, _shipments = Stamp.__table__.c, StampEvent.__table__.c, Shipment.__table__.c
_products, _batches, _orgs = Product.__table__.c, Batch.__table__.c, Organization.__table__.c
_actor = Organization.__table__.alias("actor")
_receiver = Organization.__table__.alias("receiver")
_ORIGIN_COLUMNS = (
    _products.org_id,
    _products.gtin,
    _orgs.name,
    _orgs.address,
    _orgs.gln,
    _batches.lot,
    _batches.facility,
    _batches.facility_gln,
    _batches.production_date,
)
_STAMP_COLUMNS = (
    _stamps.org_id,
    _stamps.sequence,
    _stamps.product_id,
    _stamps.activated_at,
    _stamps.first_scanned_at,
    _stamps.voided_at,
)
# The stamp with its product, maker and batch: one round trip.
_STAMP = (
    select(*_STAMP_COLUMNS, *_ORIGIN_COLUMNS)
    .select_from(
        Stamp.__table__.outerjoin(Product.__table__, _products.id == _stamps.product_id)
        .outerjoin(Organization.__table__, _orgs.id == _products.org_id)
        .outerjoin(
            Batch.__table__,
            and_(_batches.id == _stamps.batch_id, _batches.product_id == _products.id),
        )
    )
    .where(_stamps.code == bindparam("code"))
)
# A NULL batch_id joins no batch.
_ORIGIN = (
    select(*_ORIGIN_COLUMNS)
    .select_from(
        Product.__table__.join(Organization.__table__, _orgs.id == _products.org_id).outerjoin(
            Batch.__table__,
            and_(_batches.id == bindparam("batch_id"), _batches.product_id == _products.id),
        )
    )
    .where(_products.id == bindparam("product_id"))
)
# The events over one serial, through the (issuer_org_id, first_sequence) index: they start at
# most the issuer's widest step before it.
_CUSTODY = (
    select(
        _events.action,
        _events.at,
        _actor.c.name,
        _actor.c.address,
        _actor.c.gln,
        _receiver.c.name.label("receiver"),
    )
    .select_from(
        StampEvent.__table__.join(_actor, _actor.c.id == _events.org_id)
        .join(Shipment.__table__, _shipments.id == _events.shipment_id)
        .join(_receiver, _receiver.c.id == _shipments.to_org_id)
    )
    .where(
        _events.issuer_org_id == bindparam("issuer"),
        _events.first_sequence.between(
            bindparam("sequence") - widest_step_of(bindparam("issuer")) + 1, bindparam("sequence")
        ),
        _events.last_sequence >= bindparam("sequence"),
        _events.action.in_((_SHIPPING, _RECEIVING)),
    )
    .order_by(_events.id)
    .limit(MAX_STAMP_EVENTS)
)


@dataclass(frozen=True, slots=True)
class _Origin:
    org_id: int
    gtin: str | None
    maker: str
    address: str | None
    maker_gln: str | None
    lot: str | None
    facility: str | None
    facility_gln: str | None
    production_date: date | None


def _origin(session: Session, product_id: int, batch_id: int | None) -> _Origin | None:
    """The product, its maker and the batch (if any) in one statement."""
    row = session.execute(_ORIGIN, {"product_id": product_id, "batch_id": batch_id})
    found = row.one_or_none()
    return _Origin(*found) if found is not None else None


def _made(origin: _Origin) -> Stage:
    """Made by the maker at the batch's facility (else its own address) on the production
    date, if the batch has one: the day the stamps were activated is not the day the goods
    were made, and a shopper would read it as such.

    The location code is the facility's GLN, else the maker's own: the same rule by which
    catalog/data_items.py counts the stages item as present.
    """
    return Stage(
        MADE,
        origin.production_date,
        who=origin.maker,
        where=origin.facility or origin.address,
        gln=origin.facility_gln or origin.maker_gln,
    )


def _moment(stage: Stage) -> datetime:
    """The sort key of a stage after the making: those always carry a datetime."""
    return stage.when if isinstance(stage.when, datetime) else datetime.min.replace(tzinfo=UTC)


def _custody_of_stamp(session: Session, issuer_org_id: int, sequence: int) -> list[Stage]:
    rows = session.execute(_CUSTODY, {"issuer": issuer_org_id, "sequence": sequence})
    return [
        custody_stage(row.action == _SHIPPING, row.at, row.name, row.address, row.gln, row.receiver)
        for row in rows
    ]


def custody_stage(
    shipping: bool, at: datetime, who: str, address: str | None, gln: str | None, receiver: str
) -> Stage:
    """Shipped (by whom, to whom, from where) or received (by whom, where); shared with the
    genuine page's in-memory steps (journey_page.py), which must tell the same story."""
    return Stage(
        SHIPPED if shipping else RECEIVED,
        at,
        who=who,
        to=receiver if shipping else None,
        where=address,
        gln=gln,
    )


def made_as_described(
    product: Mapping[str, Any], batch: Mapping[str, Any] | None, maker: Mapping[str, Any]
) -> Stage:
    """The made stage from the scan's own description of the stamp's goods (scans'
    `ScanStore.describe`: product, batch and manufacturer as plain dicts, dates as ISO text),
    the same stage `stamp_journey` reads from the database."""
    batch = batch or {}
    made_on = batch.get("production_date")
    origin = _Origin(
        maker["id"],
        product.get("gtin"),
        maker["name"],
        maker.get("address"),
        maker.get("gln"),
        batch.get("lot"),
        batch.get("facility"),
        batch.get("facility_gln"),
        date.fromisoformat(made_on) if made_on else None,
    )
    return _made(origin)


def _lot_ranges(
    session: Session, org_id: int, product_id: int, batch_id: int | None
) -> list[tuple[int, int, datetime]]:
    """The serial ranges activated for the product (and lot), and when; a lot is usually
    activated in a few ranges (whole runs), and at most MAX_LOT_RANGES are looked at.

    No index leads to them but the issuer's: this reads the issuer's events, which grow with
    its actions (a row per activation, shipment…), never with its stamps.
    """
    batch = StampEvent.batch_id == batch_id if batch_id is not None else true()
    rows = session.execute(
        select(StampEvent.first_sequence, StampEvent.last_sequence, StampEvent.at)
        .where(
            StampEvent.issuer_org_id == org_id,
            StampEvent.action == "activating",
            StampEvent.product_id == product_id,
            batch,
        )
        .order_by(StampEvent.id)
        .limit(MAX_LOT_RANGES)
    )
    return [(int(first), int(last), at) for first, last, at in rows]


def _lot_custody(
    session: Session, org_id: int, ranges: list[tuple[int, int, datetime]]
) -> list[Stage]:
    """One stage per (step, organization): shipped to X, received by X, first date each."""
    if not ranges:
        return []
    over_lot = or_(*(overlapping(org_id, first, last) for first, last, _at in ranges))
    first: list[tuple[str, int, datetime]] = []
    # Two statements rather than one grouped by a CASE: PostgreSQL refuses a GROUP BY whose
    # expression carries other bound parameters than the selected one.
    for action, party in ((_SHIPPING, Shipment.to_org_id), (_RECEIVING, StampEvent.org_id)):
        rows = session.execute(
            select(party, func.min(StampEvent.at))
            .select_from(StampEvent)
            .join(Shipment, Shipment.id == StampEvent.shipment_id)
            .where(over_lot, StampEvent.action == action)
            .group_by(party)
            .order_by(func.min(StampEvent.at))
            .limit(MAX_LOT_STAGES)
        )
        first += [(action, int(org), at) for org, at in rows]
    first.sort(key=lambda found: found[2])
    places = _places(session, {org for _action, org, _at in first})
    return [
        Stage(SHIPPED, at, to=places[org].name)
        if action == _SHIPPING
        else Stage(
            RECEIVED, at, who=places[org].name, where=places[org].address, gln=places[org].gln
        )
        for action, org, at in first
    ]


def _places(session: Session, ids: set[int]) -> dict[int, Organization]:
    if not ids:
        return {}
    found = session.scalars(select(Organization).where(Organization.id.in_(ids)))
    return {org.id: org for org in found}
