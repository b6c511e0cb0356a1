"""Alerts as people see and work them: the list, one alert, triage, the live panel.

Who sees which alert: a manufacturer its own stamps' alerts; a distributor or retailer the
alerts on stamps that were in its custody when scanned; regulators and the platform operator
every alert, including code guessing, which names no organization (SPEC section 7).
Grouping itself (outbox → alerts) is in alerts/grouping.py; delivery in alerts/delivery.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import record, require
from chinhhang.accounts.services.access import can_oversee, may
from chinhhang.alerts.grouping import CATEGORY_OF_REASON, process_outbox
from chinhhang.alerts.models import (
    ALERT_STATUSES,
    CATEGORIES,
    Alert,
    AlertChannel,
    AlertDelivery,
)
from chinhhang.catalog.models import Batch, Product
from chinhhang.errors import Conflict, InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.place import places_of
from chinhhang.scans.sql import Place
from chinhhang.stamps.serials import grouped

__all__ = [
    "CATEGORY_OF_REASON",
    "AlertRow",
    "alert_detail",
    "list_alerts",
    "live_alerts",
    "process_outbox",
    "triage",
]
NOTE_LIMIT = 2000


@dataclass(slots=True)
class AlertRow:
    id: int
    org_id: int | None
    reason: str
    category: str
    status: str
    serial: str | None
    product: str | None
    lot: str | None
    organization: str | None
    custodian: str | None
    client_net: str | None
    scan_count: int
    first_at: datetime
    last_at: datetime
    note: str | None = None
    place: Place | None = None
    # To find the stamp's scans and place; never shown (the code is the scratch-off secret).
    stamp_code: str | None = field(default=None, repr=False)


@dataclass(slots=True)
class AlertDetail:
    alert: AlertRow
    scans: list[ScanEvent] = field(default_factory=list)
    deliveries: list[tuple[AlertDelivery, AlertChannel]] = field(default_factory=list)


def _visible(session: Session, actor: Actor, query: Select) -> Select:  # type: ignore[type-arg]
    """Raises Forbidden for someone who may not even look at their organization."""
    if can_oversee(session, actor):
        return query
    org = require(session, actor, "view")
    if org.kind == "manufacturer":
        return query.where(Alert.org_id == org.id)
    return query.where(Alert.custodian_org_id == org.id)


def _rows_query() -> Select:  # type: ignore[type-arg]
    owner = aliased(Organization)
    custodian = aliased(Organization)
    return (
        select(Alert, Product.name, Batch.lot, owner.name, custodian.name)
        .outerjoin(Product, Product.id == Alert.product_id)
        .outerjoin(Batch, Batch.id == Alert.batch_id)
        .outerjoin(owner, owner.id == Alert.org_id)
        .outerjoin(custodian, custodian.id == Alert.custodian_org_id)
    )


def _row(found: Sequence[object]) -> AlertRow:
    alert, product, lot, owner, custodian = found
    assert isinstance(alert, Alert)  # noqa: S101 - the query's first column
    return AlertRow(
        id=alert.id,
        org_id=alert.org_id,
        reason=alert.reason,
        category=alert.category,
        status=alert.status,
        serial=grouped(alert.serial) if alert.serial else None,
        product=product,  # type: ignore[arg-type]
        lot=lot,  # type: ignore[arg-type]
        organization=owner,  # type: ignore[arg-type]
        custodian=custodian,  # type: ignore[arg-type]
        client_net=alert.client_net,
        scan_count=alert.scan_count,
        first_at=alert.first_at,
        last_at=alert.last_at,
        note=alert.note,
        stamp_code=alert.stamp_code,
    )


def list_alerts(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[AlertRow]:
    """Newest first, keyset-paged by id; `status` "open" means not closed."""
    if status is not None and status not in ALERT_STATUSES:
        raise InvalidInput(N_("Unknown alert status."))
    query = _visible(session, actor, _rows_query())
    if status == "open":
        query = query.where(Alert.status != "closed")
    elif status is not None:
        query = query.where(Alert.status == status)
    if before is not None:
        query = query.where(Alert.id < before)
    rows = [_row(found) for found in session.execute(query.order_by(Alert.id.desc()).limit(limit))]
    _add_places(session, rows)
    return rows


def live_alerts(session: Session, actor: Actor, limit: int = 10) -> tuple[int, list[AlertRow]]:
    """The dashboard's live panel: how many alerts are not closed, and the latest changed."""
    count_query = _visible(session, actor, select(func.count()).select_from(Alert))
    open_count = session.scalar(count_query.where(Alert.status != "closed")) or 0
    query = _visible(session, actor, _rows_query()).where(Alert.status != "closed")
    ordered = query.order_by(Alert.last_at.desc(), Alert.id.desc()).limit(limit)
    rows = [_row(found) for found in session.execute(ordered)]
    _add_places(session, rows)
    return int(open_count), rows


def _one(session: Session, actor: Actor, alert_id: int) -> tuple[Alert, AlertRow]:
    found = session.execute(_visible(session, actor, _rows_query()).where(Alert.id == alert_id))
    first = found.first()
    if first is None:  # another organization's alert is as absent as a missing one
        raise NotFound(N_("No such alert."))
    alert = first[0]
    row = _row(first)
    _add_places(session, [row])
    return alert, row


def alert_detail(session: Session, actor: Actor, alert_id: int) -> AlertDetail:
    alert, row = _one(session, actor, alert_id)
    detail = AlertDetail(row)
    if alert.stamp_code is not None:
        detail.scans = list(
            session.scalars(
                select(ScanEvent)
                .where(ScanEvent.stamp_code == alert.stamp_code)
                .order_by(ScanEvent.id.desc())
                .limit(50)
            )
        )
    if may(session, actor, "manage_alert_channels"):
        # Only the viewer's own channels: a webhook URL or an address may carry secrets, and
        # a custodian or a regulator looking at the alert has no business with them.
        deliveries = session.execute(
            select(AlertDelivery, AlertChannel)
            .join(AlertChannel, AlertChannel.id == AlertDelivery.channel_id)
            .where(AlertDelivery.alert_id == alert.id, AlertChannel.org_id == actor.org_id)
            .order_by(AlertDelivery.id)
        )
        detail.deliveries = [(delivery, channel) for delivery, channel in deliveries]
    return detail


def triage(
    session: Session,
    actor: Actor,
    alert_id: int,
    *,
    status: str,
    category: str,
    note: str | None = None,
) -> AlertRow:
    """Set an alert's status and category (the owner's reading), with an optional note.

    Only the stamp's owner triages (permission triage_alerts), or a regulator an alert that
    names no organization; a closed alert stays closed for its scans, and the stamp's next
    suspicious scan opens a new one (reopening it then is a Conflict).
    """
    org = require(session, actor, "triage_alerts")
    if status not in ALERT_STATUSES:
        raise InvalidInput(N_("Unknown alert status."))
    if category not in CATEGORIES:
        raise InvalidInput(N_("Unknown alert category."))
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LIMIT:
        raise InvalidInput(N_("The note is too long (at most %(n)s characters)."), n=NOTE_LIMIT)
    alert = session.get(Alert, alert_id)
    # The stamp's owner triages its alerts; a market-control agency those naming no
    # organization (code guessing), which no manufacturer sees.
    mine = alert is not None and (
        alert.org_id == org.id or (org.kind == "regulator" and alert.org_id is None)
    )
    if alert is None or not mine:
        raise NotFound(N_("No such alert."))
    if alert.status == "closed" and status != "closed" and _has_open_sibling(session, alert):
        raise Conflict(
            N_("The stamp has a newer open alert: work that one; this one stays closed.")
        )
    before = (alert.status, alert.category)
    alert.status, alert.category = status, category
    if note is not None:
        alert.note = note
    record(
        session,
        actor,
        "alert.triage",
        f"alert:{alert.id}",
        status=f"{before[0]}→{status}",
        category=f"{before[1]}→{category}",
    )
    session.flush()  # the answer shows the row as stored
    return _one(session, actor, alert_id)[1]


def _has_open_sibling(session: Session, alert: Alert) -> bool:
    """Reopening would make two open alerts on one stamp (the partial unique index refuses)."""
    if alert.stamp_code is None:
        return False
    sibling = select(Alert.id).where(
        Alert.stamp_code == alert.stamp_code, Alert.status != "closed", Alert.id != alert.id
    )
    return session.scalar(sibling.limit(1)) is not None


def _add_places(session: Session, rows: list[AlertRow]) -> None:
    places = places_of(session, [row.stamp_code for row in rows if row.stamp_code])
    for row in rows:
        row.place = places.get(row.stamp_code) if row.stamp_code else None
