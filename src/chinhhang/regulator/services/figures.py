"""The dashboard's counts, each one GROUP BY in the database (docs/regulator.md defines every
figure). Scan figures cover the filters' days on Vietnam's calendar, the province (scans whose
place is known) and the product; stamp figures are the stamps as they are now, with the
activations of the period beside them.

Scan and stamp figures are read from the rollup tables (regulator/rollups.py) plus the rows
the rollup worker has not folded yet, counted from the rows themselves in the same statement:
exact at any moment, and cheap while the worker keeps up. A distributor's or retailer's
figures are those of the stamps it holds now, which no rollup can know in advance: they are
counted from the rows (the holder index bounds them to its own stamps).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, func, select, union_all
from sqlalchemy.orm import Session

from chinhhang.accounts.models import Organization
from chinhhang.alerts.models import REASONS, Alert, ShopperReport
from chinhhang.catalog.models import Product
from chinhhang.regulator.filters import Filters, province_label
from chinhhang.regulator.models import StampRollup
from chinhhang.regulator.rollups import scan_counts, stamp_counts
from chinhhang.regulator.services.tables import Table, Value
from chinhhang.regulator.sql import Scope
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.rollups import (
    SCAN_EVENTS,
    STAMP_EVENTS,
    ScanRollup,
    read_mark,
    unfolded_ids,
)
from chinhhang.stamps.models import VOID, Stamp, StampEvent, StampRun

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


def _scan_counts(
    session: Session, scope: Scope, filters: Filters, *, suspicious: bool = False
) -> Subquery:
    """The scans of the filters as counted rows: (day, org_id, product_id, province_code,
    kind, outcome, scans), "none" as NULL; only suspicious outcomes if `suspicious`. Every
    figure groups these rows further."""
    raw = _scan_conditions(scope, filters)
    if suspicious:
        raw.append(ScanEvent.outcome.in_(SUSPICIOUS))
    if scope.custody:
        parts: list[Select[Any]] = [scan_counts(and_(*raw))]
    else:
        rollup = ScanRollup
        folded = [rollup.day >= filters.first.isoformat(), rollup.day <= filters.last.isoformat()]
        if scope.org is not None:
            folded.append(rollup.org_id == scope.org.id)
        if filters.province is not None:
            folded.append(rollup.province_code == filters.province)
        if filters.product_id is not None:
            folded.append(rollup.product_id == filters.product_id)
        if suspicious:
            folded.append(rollup.outcome.in_(SUSPICIOUS))
        columns = [getattr(rollup, name) for name in (*_KEY, "scans")]
        waiting = unfolded_ids(SCAN_EVENTS, ScanEvent.id, read_mark(session, SCAN_EVENTS))
        parts = [
            select(*columns).where(*folded),
            scan_counts(and_(*raw, ScanEvent.id.in_(waiting))),
        ]
    both = union_all(*parts).subquery()
    return select(
        both.c.day,
        *(func.nullif(both.c[name], 0).label(name) for name in _KEY[1:4]),
        both.c.kind,
        both.c.outcome,
        both.c.scans,
    ).subquery()


_KEY = ("day", "org_id", "product_id", "province_code", "kind", "outcome")


def _by_outcome(counts: Subquery) -> list[Any]:
    """One count per suspicious outcome, then their total (the columns of several tables)."""
    sums = [func.sum(counts.c.scans).filter(counts.c.outcome == outcome) for outcome in SUSPICIOUS]
    return [*sums, func.sum(counts.c.scans).label("total")]


def _ints(values: Sequence[Any]) -> tuple[int, ...]:
    return tuple(int(value or 0) for value in values)


def _per_day(days: Sequence[date], counts: dict[str, tuple[int, ...]], width: int) -> list[Any]:
    """Every day of the range in order, days without a row as zeros."""
    return [(day, *counts.get(day.isoformat(), (0,) * width)) for day in days]


def scans_per_day(session: Session, scope: Scope, filters: Filters) -> Table:
    """Every recorded scan (dynamic stamps of any outcome, static product codes) per day."""
    counts = _scan_counts(session, scope, filters)
    query = select(
        counts.c.day,
        func.sum(counts.c.scans).filter(counts.c.kind == "dynamic"),
        func.sum(counts.c.scans).filter(counts.c.kind == "static"),
        func.sum(counts.c.scans),
    ).group_by(counts.c.day)
    found = {str(row[0]): _ints(row[1:]) for row in session.execute(query)}
    rows = _per_day(filters.days, found, 3)
    return Table("scans_per_day", ("day", "dynamic", "static", "total"), tuple(rows))


def suspicious_per_day(session: Session, scope: Scope, filters: Filters) -> Table:
    counts = _scan_counts(session, scope, filters, suspicious=True)
    query = select(counts.c.day, *_by_outcome(counts)).group_by(counts.c.day)
    found = {str(row[0]): _ints(row[1:]) for row in session.execute(query)}
    rows = _per_day(filters.days, found, 4)
    return Table("suspicious_per_day", ("day", *SUSPICIOUS, "total"), tuple(rows))


def _suspicious_grouped(
    session: Session, scope: Scope, filters: Filters, *names: str
) -> Select[Any]:
    counts = _scan_counts(session, scope, filters, suspicious=True)
    keys = [counts.c[name] for name in names]
    return select(*keys, *_by_outcome(counts)).group_by(*keys)


def suspicious_by_province(session: Session, scope: Scope, filters: Filters) -> Table:
    """Per province of the scan (known only with the shopper's consent); None: unknown."""
    grouped = _suspicious_grouped(session, scope, filters, "province_code").subquery()
    province = grouped.c.province_code
    query = select(grouped).order_by(grouped.c.total.desc(), province.nulls_last())
    rows = tuple(
        (row[0], province_label(row[0]), *_ints(row[1:])) for row in session.execute(query)
    )
    columns = ("province_code", "province", *SUSPICIOUS, "total")
    return Table("suspicious_by_province", columns, rows)


def suspicious_by_product(session: Session, scope: Scope, filters: Filters) -> Table:
    """Per product (None: the stamp was bound to none, e.g. scanned before activation)."""
    grouped = _suspicious_grouped(session, scope, filters, "org_id", "product_id").subquery()
    org, product = grouped.c.org_id, grouped.c.product_id
    query = (
        select(org, Organization.name, product, Product.name, *_counts(grouped))
        .outerjoin(Organization, Organization.id == org)
        .outerjoin(Product, Product.id == product)
        .order_by(grouped.c.total.desc(), org.nulls_last(), product.nulls_last())
        .limit(TOP_ROWS)
    )
    rows = tuple((*row[:4], *_ints(row[4:])) for row in session.execute(query))
    columns = ("org_id", "organization", "product_id", "product", *SUSPICIOUS, "total")
    return Table("suspicious_by_product", columns, rows)


def suspicious_by_organization(session: Session, scope: Scope, filters: Filters) -> Table:
    grouped = _suspicious_grouped(session, scope, filters, "org_id").subquery()
    org = grouped.c.org_id
    query = (
        select(org, Organization.name, *_counts(grouped))
        .outerjoin(Organization, Organization.id == org)
        .order_by(grouped.c.total.desc(), org.nulls_last())
    )
    rows = tuple((*row[:2], *_ints(row[2:])) for row in session.execute(query))
    columns = ("org_id", "organization", *SUSPICIOUS, "total")
    return Table("suspicious_by_organization", columns, rows)


def _counts(grouped: Any) -> list[Any]:
    return [grouped.c[i] for i in range(len(grouped.c) - len(SUSPICIOUS) - 1, len(grouped.c))]


STAMP_COLUMNS = (
    "org_id", "organization", "kind", "issued", "activated", "activated_in_period", "void",
)  # fmt: skip


def stamps_by_organization(session: Session, scope: Scope, filters: Filters) -> Table:
    """The stamps as they are now, per issuing organization: issued (every stamp), activated
    (ever bound to a product: activated_at set, void ones included), activated within the
    period, void. Province does not apply (a stamp has no place); the product filter does.

    Read without touching `stamps`: issued is the runs' `filled` counts (a run's stamps are
    written with its count, runs.fill_run), the rest the stamp rollups plus the stamp events
    not folded yet. With a product filter, issued is the activated count: only activation
    binds a stamp to a product. A custodian's figures are counted from its stamps."""
    if scope.custody:
        return _stamps_counted(session, scope, filters)
    events = _stamp_event_counts(session, scope, filters)
    in_period = events.c.day.between(filters.first.isoformat(), filters.last.isoformat())
    activated = func.coalesce(func.sum(events.c.activated), 0)
    per_org = (
        select(
            events.c.org_id.label("org"),
            activated.label("activated"),
            func.coalesce(func.sum(events.c.activated).filter(in_period), 0).label("in_period"),
            func.coalesce(func.sum(events.c.void), 0).label("void"),
        )
        .group_by(events.c.org_id)
        .subquery()
    )
    if filters.product_id is not None:
        issued: Any = per_org.c.activated
        query = select(per_org.c.org.label("org"), issued.label("issued")).where(issued > 0)
    else:
        filled = func.sum(StampRun.filled)
        query = select(StampRun.org_id.label("org"), filled.label("issued"))
        if scope.org is not None:
            query = query.where(StampRun.org_id == scope.org.id)
        query = query.group_by(StampRun.org_id).having(filled > 0)
    issuers = query.subquery()
    counts = [func.coalesce(per_org.c[name], 0) for name in ("activated", "in_period", "void")]
    rows_query = (
        select(Organization.id, Organization.name, Organization.kind, issuers.c.issued, *counts)
        .select_from(issuers)
        .join(Organization, Organization.id == issuers.c.org)
        .outerjoin(per_org, per_org.c.org == issuers.c.org)
        .order_by(issuers.c.issued.desc(), Organization.id)
    )
    rows = tuple((*row[:3], *_ints(row[3:])) for row in session.execute(rows_query))
    return Table("stamps_by_organization", STAMP_COLUMNS, rows)


def _stamp_event_counts(session: Session, scope: Scope, filters: Filters) -> Subquery:
    """(org_id, product_id, day, activated, void) rows: the stamp rollups and the stamp
    events not folded yet, for the scope and the product filter."""
    waiting = unfolded_ids(STAMP_EVENTS, StampEvent.id, read_mark(session, STAMP_EVENTS))
    tail = stamp_counts(StampEvent.id.in_(waiting)).subquery()
    rollup = StampRollup
    parts = []
    for columns in (rollup.__table__.c, tail.c):
        conditions = []
        if scope.org is not None:
            conditions.append(columns.org_id == scope.org.id)
        if filters.product_id is not None:
            conditions.append(columns.product_id == filters.product_id)
        names = ("org_id", "product_id", "day", "activated", "void")
        parts.append(select(*(columns[name] for name in names)).where(*conditions))
    return union_all(*parts).subquery()


def _stamps_counted(session: Session, scope: Scope, filters: Filters) -> Table:
    """stamps_by_organization counted from the stamps themselves (a custodian's)."""
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
    return Table("stamps_by_organization", STAMP_COLUMNS, rows)


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
