"""The dashboard's counts, each one GROUP BY in the database (docs/regulator.md defines every
figure). Scan figures cover the filters' days on Vietnam's calendar, the province (scans whose
place is known) and the product; stamp figures are the stamps as they are now, with the
activations of the period beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from chinhhang.accounts.models import Organization
from chinhhang.alerts.models import REASONS, Alert, ShopperReport
from chinhhang.catalog.models import Product
from chinhhang.localtime import local_day
from chinhhang.regulator.filters import Filters, province_label
from chinhhang.regulator.services.tables import Table, Value
from chinhhang.regulator.sql import Scope
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import VOID, Stamp

SUSPICIOUS = ("over_limit", "not_activated", "void")
OPEN_REPORT = ("new", "investigating")
# Ranked tables show the largest rows; the totals never depend on this cut.
TOP_ROWS = 500


def _scan_conditions(scope: Scope, filters: Filters) -> list[ColumnElement[bool]]:
    conditions = [
        ScanEvent.scanned_at >= filters.since,
        ScanEvent.scanned_at < filters.until,
        *scope.scans(),
    ]
    if filters.province is not None:
        conditions.append(ScanEvent.province_code == filters.province)
    if filters.product_id is not None:
        conditions.append(ScanEvent.product_id == filters.product_id)
    return conditions


def _by_outcome() -> list[Any]:
    """One count per suspicious outcome, then their total (the columns of several tables)."""
    counts = [func.count().filter(ScanEvent.outcome == outcome) for outcome in SUSPICIOUS]
    return [*counts, func.count().label("total")]


def _ints(values: Sequence[Any]) -> tuple[int, ...]:
    return tuple(int(value or 0) for value in values)


def _per_day(days: Sequence[date], counts: dict[str, tuple[int, ...]], width: int) -> list[Any]:
    """Every day of the range in order, days without a row as zeros."""
    return [(day, *counts.get(day.isoformat(), (0,) * width)) for day in days]


def scans_per_day(session: Session, scope: Scope, filters: Filters) -> Table:
    """Every recorded scan (dynamic stamps of any outcome, static product codes) per day."""
    day = local_day(ScanEvent.scanned_at)
    query = (
        select(
            day,
            func.count().filter(ScanEvent.kind == "dynamic"),
            func.count().filter(ScanEvent.kind == "static"),
            func.count(),
        )
        .where(*_scan_conditions(scope, filters))
        .group_by(day)
    )
    counts = {str(row[0]): _ints(row[1:]) for row in session.execute(query)}
    rows = _per_day(filters.days, counts, 3)
    return Table("scans_per_day", ("day", "dynamic", "static", "total"), tuple(rows))


def suspicious_per_day(session: Session, scope: Scope, filters: Filters) -> Table:
    day = local_day(ScanEvent.scanned_at)
    query = (
        select(day, *_by_outcome())
        .where(ScanEvent.outcome.in_(SUSPICIOUS), *_scan_conditions(scope, filters))
        .group_by(day)
    )
    counts = {str(row[0]): _ints(row[1:]) for row in session.execute(query)}
    rows = _per_day(filters.days, counts, 4)
    return Table("suspicious_per_day", ("day", *SUSPICIOUS, "total"), tuple(rows))


def _suspicious_grouped(scope: Scope, filters: Filters, *keys: Any) -> Select[Any]:
    return (
        select(*keys, *_by_outcome())
        .where(ScanEvent.outcome.in_(SUSPICIOUS), *_scan_conditions(scope, filters))
        .group_by(*keys)
    )


def suspicious_by_province(session: Session, scope: Scope, filters: Filters) -> Table:
    """Per province of the scan (known only with the shopper's consent); None: unknown."""
    grouped = _suspicious_grouped(
        scope, filters, ScanEvent.province_code.label("province")
    ).subquery()
    query = select(grouped).order_by(grouped.c.total.desc(), grouped.c.province.nulls_last())
    rows = tuple(
        (row[0], province_label(row[0]), *_ints(row[1:])) for row in session.execute(query)
    )
    columns = ("province_code", "province", *SUSPICIOUS, "total")
    return Table("suspicious_by_province", columns, rows)


def suspicious_by_product(session: Session, scope: Scope, filters: Filters) -> Table:
    """Per product (None: the stamp was bound to none, e.g. scanned before activation)."""
    grouped = _suspicious_grouped(
        scope, filters, ScanEvent.org_id.label("org"), ScanEvent.product_id.label("product")
    ).subquery()
    query = (
        select(grouped.c.org, Organization.name, grouped.c.product, Product.name, *_counts(grouped))
        .outerjoin(Organization, Organization.id == grouped.c.org)
        .outerjoin(Product, Product.id == grouped.c.product)
        .order_by(
            grouped.c.total.desc(), grouped.c.org.nulls_last(), grouped.c.product.nulls_last()
        )
        .limit(TOP_ROWS)
    )
    rows = tuple((*row[:4], *_ints(row[4:])) for row in session.execute(query))
    columns = ("org_id", "organization", "product_id", "product", *SUSPICIOUS, "total")
    return Table("suspicious_by_product", columns, rows)


def suspicious_by_organization(session: Session, scope: Scope, filters: Filters) -> Table:
    grouped = _suspicious_grouped(scope, filters, ScanEvent.org_id.label("org")).subquery()
    query = (
        select(grouped.c.org, Organization.name, *_counts(grouped))
        .outerjoin(Organization, Organization.id == grouped.c.org)
        .order_by(grouped.c.total.desc(), grouped.c.org.nulls_last())
    )
    rows = tuple((*row[:2], *_ints(row[2:])) for row in session.execute(query))
    columns = ("org_id", "organization", *SUSPICIOUS, "total")
    return Table("suspicious_by_organization", columns, rows)


def _counts(grouped: Any) -> list[Any]:
    return [grouped.c[i] for i in range(len(grouped.c) - len(SUSPICIOUS) - 1, len(grouped.c))]


def stamps_by_organization(session: Session, scope: Scope, filters: Filters) -> Table:
    """The stamps as they are now, per issuing organization: issued (every stamp), activated
    (ever bound to a product: activated_at set, void ones included), activated within the
    period, void. Province does not apply (a stamp has no place); the product filter does."""
    conditions = scope.stamps()
    if filters.product_id is not None:
        conditions.append(Stamp.product_id == filters.product_id)
    in_period = (Stamp.activated_at >= filters.since) & (Stamp.activated_at < filters.until)
    grouped = (
        select(
            Stamp.org_id.label("org"),
            func.count().label("issued"),
            func.count().filter(Stamp.activated_at.is_not(None)).label("activated"),
            func.count().filter(in_period).label("in_period"),
            func.count().filter(Stamp.status == VOID).label("void"),
        )
        .where(*conditions)
        .group_by(Stamp.org_id)
        .subquery()
    )
    query = (
        select(Organization.id, Organization.name, Organization.kind, *list(grouped.c)[1:])
        .join(Organization, Organization.id == grouped.c.org)
        .order_by(grouped.c.issued.desc(), Organization.id)
    )
    rows = tuple((*row[:3], *_ints(row[3:])) for row in session.execute(query))
    columns = (
        "org_id", "organization", "kind", "issued", "activated", "activated_in_period", "void",
    )  # fmt: skip
    return Table("stamps_by_organization", columns, rows)


def alerts_by_reason(session: Session, scope: Scope, filters: Filters) -> Table:
    """Per reason: alerts not closed now, and alerts raised (first scan) within the period.
    Guessing alerts name no organization and no stamp: only an overseer's scope without an
    organization or province filter has them."""
    conditions = alert_conditions(scope, filters)
    in_period = (Alert.first_at >= filters.since) & (Alert.first_at < filters.until)
    query = (
        select(
            Alert.reason,
            func.count().filter(Alert.status != "closed"),
            func.count().filter(in_period),
        )
        .where(*conditions)
        .group_by(Alert.reason)
    )
    counts = {str(row[0]): _ints(row[1:]) for row in session.execute(query)}
    rows: tuple[tuple[Value, ...], ...] = tuple(
        (reason, *counts.get(reason, (0, 0))) for reason in REASONS
    )
    return Table("alerts_by_reason", ("reason", "open", "raised_in_period"), rows)


def alert_conditions(scope: Scope, filters: Filters) -> list[ColumnElement[bool]]:
    """An alert has no place of its own: with a province filter, the alerts on stamps
    scanned in that province (any scan, in any period)."""
    conditions = scope.alerts()
    if filters.province is not None:
        in_province = select(ScanEvent.stamp_code).where(
            ScanEvent.province_code == filters.province
        )
        conditions.append(Alert.stamp_code.in_(in_province))
    if filters.product_id is not None:
        conditions.append(Alert.product_id == filters.product_id)
    return conditions


def reports_by_province(session: Session, scope: Scope, filters: Filters) -> Table:
    """Per province the shopper named: reports open now (new or investigating), and reports
    received within the period."""
    conditions = scope.reports()
    if filters.province is not None:
        conditions.append(ShopperReport.province_code == filters.province)
    if filters.product_id is not None:
        conditions.append(ShopperReport.product_id == filters.product_id)
    is_open = ShopperReport.status.in_(OPEN_REPORT)
    in_period = (ShopperReport.created_at >= filters.since) & (
        ShopperReport.created_at < filters.until
    )
    grouped = (
        select(
            ShopperReport.province_code.label("province"),
            func.count().filter(is_open).label("open"),
            func.count().filter(in_period).label("received"),
        )
        .where(*conditions, is_open | in_period)
        .group_by(ShopperReport.province_code)
        .subquery()
    )
    query = select(grouped).order_by(grouped.c.open.desc(), grouped.c.province.nulls_last())
    rows = tuple(
        (row[0], province_label(row[0]), *_ints(row[1:])) for row in session.execute(query)
    )
    columns = ("province_code", "province", "open", "received_in_period")
    return Table("reports_by_province", columns, rows)
