"""What an organization sees of its scans: the list, scans per day, the latest warnings.

A manufacturer sees the scans of the stamps and products it made; a distributor or retailer
sees the scans of the stamps now in its custody. Client networks are shown as stored (/24 or
/48); nothing finer exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import require
from chinhhang.catalog.models import Product
from chinhhang.errors import InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.localtime import DISPLAY_ZONE, local_day, vietnam_today
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.sql import GENUINE, NOT_ACTIVATED, OVER_LIMIT, VOID
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import grouped, serial_for

WARNINGS = (OVER_LIMIT, NOT_ACTIVATED, VOID)
OUTCOMES = (GENUINE, *WARNINGS, "product")
MAX_DAYS = 90


@dataclass(frozen=True, slots=True)
class ScanRow:
    id: int
    scanned_at: datetime
    kind: str
    outcome: str
    serial: str | None
    product: str | None
    scan_number: int | None
    client_net: str | None
    undone_at: datetime | None = None


def _visible(query: Select, org: Organization) -> Select:  # type: ignore[type-arg]
    if org.kind == "manufacturer":
        return query.where(ScanEvent.org_id == org.id)
    return query.join(Stamp, Stamp.code == ScanEvent.stamp_code).where(
        Stamp.holder_org_id == org.id
    )


def list_scans(
    session: Session,
    actor: Actor,
    *,
    outcome: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[ScanRow]:
    """Newest first, keyset-paged by id; `outcome` filters (e.g. over_limit)."""
    if outcome is not None and outcome not in OUTCOMES:
        raise InvalidInput(N_("Unknown scan outcome."))
    return _scan_rows(session, actor, (outcome,) if outcome else (), before, limit)


def one_scan(session: Session, actor: Actor, scan_id: int) -> ScanRow:
    """One scan the actor may see, as the list shows it; NotFound otherwise."""
    rows = _scan_rows(session, actor, (), scan_id + 1, 1)
    if not rows or rows[0].id != scan_id:
        raise NotFound(N_("No such scan."))
    return rows[0]


def _scan_rows(
    session: Session, actor: Actor, outcomes: tuple[str, ...], before: int | None, limit: int
) -> list[ScanRow]:
    org = require(session, actor, "view")
    query = _visible(
        select(
            ScanEvent.id,
            ScanEvent.scanned_at,
            ScanEvent.kind,
            ScanEvent.outcome,
            ScanEvent.stamp_code,
            Product.name,
            ScanEvent.scan_number,
            ScanEvent.client_net,
            ScanEvent.undone_at,
        ).outerjoin(Product, Product.id == ScanEvent.product_id),
        org,
    )
    if outcomes:
        query = query.where(ScanEvent.outcome.in_(outcomes))
    if before is not None:
        query = query.where(ScanEvent.id < before)
    rows = session.execute(query.order_by(ScanEvent.id.desc()).limit(limit)).all()
    sequences = _sequences(session, {r[4] for r in rows if r[4]})
    return [
        ScanRow(
            id=r[0],
            scanned_at=r[1],
            kind=r[2],
            outcome=r[3],
            serial=grouped(serial_for(sequences[r[4]])) if r[4] in sequences else None,
            product=r[5],
            scan_number=r[6],
            client_net=r[7],
            undone_at=r[8],
        )
        for r in rows
    ]


def _sequences(session: Session, codes: set[str]) -> dict[str, int]:
    """Serials for the listed scans' stamps (the code itself is never shown)."""
    if not codes:
        return {}
    rows = session.execute(select(Stamp.code, Stamp.sequence).where(Stamp.code.in_(codes)))
    return {code: int(sequence) for code, sequence in rows}


def latest_warnings(session: Session, actor: Actor, limit: int = 10) -> list[ScanRow]:
    """The dashboard's latest alerts until the alerts issue adds grouped alerts."""
    return _scan_rows(session, actor, WARNINGS, None, limit)


def scans_per_day(session: Session, actor: Actor, days: int = 14) -> list[tuple[date, int]]:
    """Scans per day on Vietnam's calendar for the last `days` days, oldest first, days
    without scans as 0."""
    org = require(session, actor, "view")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(N_("Choose 1 to 90 days."))
    first = vietnam_today() - timedelta(days=days - 1)
    since = datetime.combine(first, time(), DISPLAY_ZONE).astimezone(UTC)
    day = local_day(ScanEvent.scanned_at)
    query = _visible(select(day, func.count()), org).where(ScanEvent.scanned_at >= since)
    counts = {str(d): int(n) for d, n in session.execute(query.group_by(day))}
    return [
        (first + timedelta(days=i), counts.get(str(first + timedelta(days=i)), 0))
        for i in range(days)
    ]


__all__: Sequence[str] = ("ScanRow", "latest_warnings", "list_scans", "scans_per_day")
