"""The dashboard's lists: the latest open alerts and reports (each row leads to its stamp's
history), organizations waiting for approval, and the organizations an overseer can pick.

Stamps are named by their serial, never their code: the code is the secret printed under the
scratch-off, and anyone holding it could clone the stamp.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.accounts.models import Organization
from chinhhang.alerts.models import Alert, ShopperReport
from chinhhang.catalog.models import Product
from chinhhang.regulator.filters import Filters, province_label
from chinhhang.regulator.services.figures import OPEN_REPORT, alert_conditions
from chinhhang.regulator.services.tables import Table
from chinhhang.regulator.sql import Scope
from chinhhang.scans.place import places_of
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import grouped, serial_for

LATEST = 200
# An overseer's organization filter lists at most this many (the page stays light); any other
# organization is reached from the tables' links or by its number in the address.
CHOICES = 1000


def open_alerts(session: Session, scope: Scope, filters: Filters) -> Table:
    """The latest LATEST alerts not closed, newest scan first; the province is the latest
    one a shopper shared for the stamp (scans.place.places_of)."""
    query = (
        select(
            Alert.id,
            Alert.reason,
            Alert.status,
            Alert.org_id,
            Organization.name,
            Alert.serial,
            Product.name,
            Alert.scan_count,
            Alert.first_at,
            Alert.last_at,
            Alert.stamp_code,
        )
        .outerjoin(Organization, Organization.id == Alert.org_id)
        .outerjoin(Product, Product.id == Alert.product_id)
        .where(Alert.status != "closed", *alert_conditions(scope, filters))
    )
    found = session.execute(query.order_by(Alert.last_at.desc(), Alert.id.desc()).limit(LATEST))
    rows = found.all()
    places = places_of(session, [row[10] for row in rows if row[10]])
    columns = (
        "alert_id", "reason", "status", "org_id", "organization", "serial", "product",
        "scans", "first_at", "last_at", "province",
    )  # fmt: skip
    return Table(
        "open_alerts",
        columns,
        tuple(
            (
                *row[:5],
                grouped(row[5]) if row[5] else None,
                row[6],
                int(row[7]),
                row[8],
                row[9],
                province_label(places[row[10]].province_code) if row[10] in places else None,
            )
            for row in rows
        ),
    )


def open_reports(session: Session, scope: Scope, filters: Filters) -> Table:
    """The latest LATEST reports being worked (new or investigating), newest first. The
    shopper's contact details are not listed: they are for the people working the report."""
    query = (
        select(
            ShopperReport.id,
            ShopperReport.reference,
            ShopperReport.status,
            ShopperReport.org_id,
            Organization.name,
            Stamp.sequence,
            Product.name,
            ShopperReport.outcome,
            ShopperReport.province_code,
            ShopperReport.created_at,
        )
        .outerjoin(Organization, Organization.id == ShopperReport.org_id)
        .outerjoin(Stamp, Stamp.code == ShopperReport.stamp_code)
        .outerjoin(Product, Product.id == ShopperReport.product_id)
        .where(ShopperReport.status.in_(OPEN_REPORT), *scope.reports())
    )
    if filters.province is not None:
        query = query.where(ShopperReport.province_code == filters.province)
    if filters.product_id is not None:
        query = query.where(ShopperReport.product_id == filters.product_id)
    order = (ShopperReport.created_at.desc(), ShopperReport.id.desc())
    rows = session.execute(query.order_by(*order).limit(LATEST))
    columns = (
        "report_id", "reference", "status", "org_id", "organization", "serial", "product",
        "outcome", "province", "created_at",
    )  # fmt: skip
    return Table(
        "open_reports",
        columns,
        tuple(
            (
                *r[:5],
                grouped(serial_for(r[5])) if r[5] else None,
                r[6],
                r[7],
                province_label(r[8]),
                r[9],
            )
            for r in rows
        ),
    )


def pending_organizations(session: Session) -> Table:
    """Self-registered organizations waiting for approval, oldest first (overseers only)."""
    rows = session.execute(
        select(Organization.id, Organization.name, Organization.kind, Organization.created_at)
        .where(Organization.approved.is_(False))
        .order_by(Organization.created_at, Organization.id)
    )
    columns = ("org_id", "organization", "kind", "registered_at")
    return Table("pending_organizations", columns, tuple(tuple(row) for row in rows))


def organization_choices(session: Session) -> list[tuple[int, str]]:
    """The organizations whose figures exist (not the agencies), by name."""
    rows = session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.kind != "regulator")
        .order_by(Organization.name)
        .limit(CHOICES)
    )
    return [(int(org_id), str(name)) for org_id, name in rows]
