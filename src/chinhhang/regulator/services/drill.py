"""One stamp's whole story for a market-control officer: the stamp as it is, every life-cycle
step over its serial, its scans, its alerts and the shoppers' reports about it.

A stamp is named by its issuer and serial. Overseers may open any stamp; anyone else only a
stamp their organization issued or holds, and any other answers exactly like a stamp that does
not exist (404), so the page cannot be used to learn which serials another organization has.
The code is never shown: it is the secret under the scratch-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import can_oversee, require
from chinhhang.alerts.models import Alert, ShopperReport
from chinhhang.catalog.models import Batch, Product
from chinhhang.errors import InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.regulator.filters import province_label
from chinhhang.regulator.services.tables import Table
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Shipment, Stamp, StampEvent
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services.events import overlapping

# A stamp has a handful of steps; a cloned code may have thousands of scans: the latest ones.
MAX_STEPS = 100
MAX_SCANS = 500
MAX_ROWS = 100


@dataclass(frozen=True, slots=True)
class StampHistory:
    org_id: int
    issuer: str
    serial: str
    status: str
    product_id: int | None
    product: str | None
    lot: str | None
    # Who holds it now: the issuer until it was shipped and received.
    holder: str
    in_transit: bool
    scan_limit: int
    scan_count: int
    first_scanned_at: datetime | None
    activated_at: datetime | None
    voided_at: datetime | None
    run_id: int
    steps: Table
    scans: Table
    alerts: Table
    reports: Table

    def json(self) -> dict[str, object]:
        values: dict[str, object] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, Table):
                value = value.json()
            elif isinstance(value, datetime):
                value = value.isoformat()
            values[name] = value
        return values


def stamp_history(
    session: Session, actor: Actor, org_id: int | None, sequence: int
) -> StampHistory:
    """The stamp `sequence` of organization `org_id` (the actor's own when None).

    Raises NotFound for a stamp that does not exist or that the actor may not see,
    InvalidInput when an overseer names no organization.
    """
    overseer = actor.org_id is None and actor.platform_admin
    own = None if overseer else require(session, actor, "view")
    overseer = overseer or can_oversee(session, actor)
    if org_id is None:
        if overseer or own is None:
            raise InvalidInput(N_("Give the number of the organization that issued the stamp."))
        org_id = own.id
    stamp = session.scalar(select(Stamp).where(Stamp.org_id == org_id, Stamp.sequence == sequence))
    hidden = (
        stamp is not None and own is not None and own.id not in (stamp.org_id, stamp.holder_org_id)
    )
    if hidden and not overseer:
        stamp = None
    if stamp is None:
        raise NotFound(N_("No such stamp: check the organization and the serial number."))
    names = _names(session, {stamp.org_id, stamp.holder_org_id or stamp.org_id})
    product = session.get(Product, stamp.product_id) if stamp.product_id else None
    batch = session.get(Batch, stamp.batch_id) if stamp.batch_id else None
    return StampHistory(
        org_id=stamp.org_id,
        issuer=names[stamp.org_id],
        serial=grouped(serial_for(stamp.sequence)),
        status=stamp.status,
        product_id=stamp.product_id,
        product=product.name if product else None,
        lot=batch.lot if batch else None,
        holder=names[stamp.holder_org_id or stamp.org_id],
        in_transit=stamp.shipment_id is not None,
        scan_limit=stamp.scan_limit,
        scan_count=stamp.scan_count,
        first_scanned_at=stamp.first_scanned_at,
        activated_at=stamp.activated_at,
        voided_at=stamp.voided_at,
        run_id=stamp.run_id,
        steps=_steps(session, stamp),
        scans=_scans(session, stamp.code),
        alerts=_alerts(session, stamp.code),
        # A custodian sees no reports (the seller one names may be that custodian).
        reports=_reports(
            session, stamp.code, shown=overseer or own is None or own.id == stamp.org_id
        ),
    )


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(ids))
    )
    return {int(org_id): str(name) for org_id, name in rows}


def _steps(session: Session, stamp: Stamp) -> Table:
    """Every life-cycle step whose serial range holds this stamp, oldest first."""
    actor, receiver = aliased(Organization), aliased(Organization)
    query = (
        select(
            StampEvent.action,
            StampEvent.at,
            actor.name,
            receiver.name,
            StampEvent.run_id,
            StampEvent.shipment_id,
            Product.name,
        )
        .join(actor, actor.id == StampEvent.org_id)
        .outerjoin(Shipment, Shipment.id == StampEvent.shipment_id)
        .outerjoin(receiver, receiver.id == Shipment.to_org_id)
        .outerjoin(Product, Product.id == StampEvent.product_id)
        .where(overlapping(stamp.org_id, stamp.sequence, stamp.sequence))
        .order_by(StampEvent.at, StampEvent.id)
        .limit(MAX_STEPS)
    )
    columns = ("action", "at", "by", "to", "run_id", "shipment_id", "product")
    return Table("steps", columns, tuple(tuple(row) for row in session.execute(query)))


def _scans(session: Session, code: str) -> Table:
    """The latest scans, newest first. Places are as stored: a province, or a position already
    rounded to about 1 km, and only when the shopper agreed (SPEC section 9). A scan the owner
    undid as a mistake keeps its row, marked with the time it was undone."""
    query = (
        select(
            ScanEvent.scanned_at,
            ScanEvent.kind,
            ScanEvent.outcome,
            ScanEvent.scan_number,
            ScanEvent.client_net,
            ScanEvent.province_code,
            ScanEvent.latitude,
            ScanEvent.longitude,
            ScanEvent.undone_at,
        )
        .where(ScanEvent.stamp_code == code)
        .order_by(ScanEvent.scanned_at.desc(), ScanEvent.id.desc())
        .limit(MAX_SCANS)
    )
    rows = tuple(
        (
            *row[:6],
            province_label(row[5]),
            round(row[6], 2) if row[6] is not None else None,
            round(row[7], 2) if row[7] is not None else None,
            row[8],
        )
        for row in session.execute(query)
    )
    columns = (
        "scanned_at", "kind", "outcome", "scan_number", "client_net", "province_code",
        "province", "latitude", "longitude", "undone_at",
    )  # fmt: skip
    return Table("scans", columns, rows)


def _alerts(session: Session, code: str) -> Table:
    query = (
        select(
            Alert.id,
            Alert.reason,
            Alert.category,
            Alert.status,
            Alert.scan_count,
            Alert.first_at,
            Alert.last_at,
        )
        .where(Alert.stamp_code == code)
        .order_by(Alert.first_at.desc(), Alert.id.desc())
        .limit(MAX_ROWS)
    )
    columns = ("alert_id", "reason", "category", "status", "scans", "first_at", "last_at")
    return Table("alerts", columns, tuple(tuple(row) for row in session.execute(query)))


def _reports(session: Session, code: str, *, shown: bool) -> Table:
    """Reports about the stamp, without the shopper's contact details (none if not `shown`)."""
    columns = ("report_id", "reference", "status", "outcome", "province", "shop", "created_at")
    if not shown:
        return Table("reports", columns, ())
    query = (
        select(
            ShopperReport.id,
            ShopperReport.reference,
            ShopperReport.status,
            ShopperReport.outcome,
            ShopperReport.province_code,
            ShopperReport.shop_name,
            ShopperReport.created_at,
        )
        .where(ShopperReport.stamp_code == code)
        .order_by(ShopperReport.created_at.desc(), ShopperReport.id.desc())
        .limit(MAX_ROWS)
    )
    rows = tuple(
        (r[0], r[1], r[2], r[3], province_label(r[4]), r[5], r[6]) for r in session.execute(query)
    )
    return Table("reports", columns, rows)
