"""From outbox rows to alerts: one open alert per stamp (or per client network for guessing).

The scan path only writes `alert_outbox` rows (DESIGN: scans never call alerts). The worker
calls `process_outbox`, which folds each row into the stamp's open alert or opens a new one,
queues one delivery per channel for a new alert, and deletes the row, all in the caller's
transaction: a crash before the commit leaves the rows for the next pass, after it nothing is
left to do twice. Several workers may run: on PostgreSQL each takes rows nobody else holds
(SKIP LOCKED); two rows of one stamp taken by two workers at once could both try to open the
alert, and the partial unique index lets only one succeed — the other's savepoint rolls back
and its row joins the winner's alert.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.models import Organization
from chinhhang.alerts.models import Alert, AlertChannel, AlertDelivery, AlertOutbox
from chinhhang.db import any_row
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import serial_for

# The owner's first reading of an alert; triage may change it (e.g. to process_error).
CATEGORY_OF_REASON = {
    "over_limit": "likely_copy",
    "not_activated": "stolen_stamps",
    "void": "voided_stamp",
    "guessing": "guessing",
}


def outbox_waiting(sessions: sessionmaker[Session]) -> bool:
    """Whether any outbox row waits (db.any_row: no write lock for an idle worker)."""
    return any_row(sessions, select(AlertOutbox.id))


def process_outbox(session: Session, now: datetime, limit: int = 200) -> int:
    """Fold up to `limit` outbox rows into alerts (oldest first); how many were handled.

    Flushes; the caller commits. `now` stamps the deliveries it queues.
    """
    query = select(AlertOutbox).order_by(AlertOutbox.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    # Alerts are locked in the order of what they group, not of the rows' ids: two workers
    # holding rows of the same stamps then take those alerts' locks in the same order and
    # cannot deadlock (in id order they did, under load: tests/load).
    rows.sort(key=lambda row: (row.stamp_code or "", row.client_net or "", row.id))
    for row in rows:
        _absorb(session, row, now)
        session.delete(row)
    session.flush()
    return len(rows)


def _absorb(session: Session, row: AlertOutbox, now: datetime) -> None:
    alert = _open_alert(session, row)
    if alert is not None:
        _add_scan(session, alert, row)
        return
    try:
        with session.begin_nested():
            alert = _new_alert(session, row)
            session.add(alert)
            session.flush()
    except IntegrityError:  # another worker opened it a moment ago: join that one
        alert = _open_alert(session, row)
        if alert is None:  # closed meanwhile: nothing to join; the next pass opens a new one
            raise
        _add_scan(session, alert, row)
        return
    _queue_deliveries(session, alert, now)


def _open_alert(session: Session, row: AlertOutbox) -> Alert | None:
    query = select(Alert).where(Alert.status != "closed")
    if row.stamp_code is not None:
        query = query.where(Alert.stamp_code == row.stamp_code)
    else:
        query = query.where(Alert.reason == "guessing", Alert.client_net == row.client_net)
    return session.scalars(query.limit(1)).first()


def _add_scan(session: Session, alert: Alert, row: AlertOutbox) -> None:
    """In SQL, not Python: two workers may fold two rows of one stamp at once, and each must
    add its scan to the other's (READ COMMITTED re-reads the row after the first commits)."""
    session.execute(
        update(Alert)
        .where(Alert.id == alert.id)
        .values(
            scan_count=Alert.scan_count + 1,
            last_at=case((Alert.last_at < row.occurred_at, row.occurred_at), else_=Alert.last_at),
            first_at=case(
                (Alert.first_at > row.occurred_at, row.occurred_at), else_=Alert.first_at
            ),
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(alert)


def _new_alert(session: Session, row: AlertOutbox) -> Alert:
    stamp = session.get(Stamp, row.stamp_code) if row.stamp_code else None
    custodian = None
    if stamp is not None and stamp.holder_org_id not in (None, stamp.org_id):
        custodian = stamp.holder_org_id
    return Alert(
        org_id=row.org_id,
        reason=row.reason,
        category=CATEGORY_OF_REASON.get(row.reason, "likely_copy"),
        status="open",
        stamp_code=row.stamp_code,
        serial=serial_for(stamp.sequence) if stamp is not None else None,
        product_id=row.product_id,
        batch_id=row.batch_id,
        custodian_org_id=custodian,
        client_net=row.client_net,
        scan_count=1,
        first_at=row.occurred_at,
        last_at=row.occurred_at,
    )


def _queue_deliveries(session: Session, alert: Alert, now: datetime) -> None:
    """One delivery per active channel of the alert's organization; an alert that names no
    organization (guessing) goes to every regulator's channels."""
    query = select(AlertChannel).where(AlertChannel.active.is_(True))
    if alert.org_id is not None:
        query = query.where(AlertChannel.org_id == alert.org_id)
    else:
        query = query.join(Organization, Organization.id == AlertChannel.org_id).where(
            Organization.kind == "regulator"
        )
    for channel in session.scalars(query):
        session.add(
            AlertDelivery(
                alert_id=alert.id,
                channel_id=channel.id,
                idempotency_key=secrets.token_hex(16),
                event="alert.created",
                status="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )
