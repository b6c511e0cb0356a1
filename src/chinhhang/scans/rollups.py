"""The scan counts the market-control dashboard reads instead of `scan_events` (issue 8): one
row per Vietnam day × organization × product × province × kind × outcome, and the record of
which scan events are already in them.

The tables live with the scans because one scans rule must keep them right: when a shopper
shares a place after the scan was counted, the count moves to the new province in the same
transaction (`move_to_province`, called by place.py). The folding itself (a worker reading
new rows) is the regulator's (regulator/rollups.py, which explains why nothing is skipped or
counted twice); the scan hot path does not know these tables exist.

Keys never hold NULL (a primary key cannot): "no organization / product / province" is 0,
which no row id or province code ever is; readers turn it back into NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Index,
    Integer,
    Select,
    String,
    and_,
    delete,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from chinhhang.db import Base, UtcDateTime
from chinhhang.localtime import local_day
from chinhhang.scans.models import ScanEvent

SCAN_EVENTS, STAMP_EVENTS = "scan_events", "stamp_events"
NONE = 0


class RollupMark(Base):
    """Per source table: every id up to `folded_to` is in the rollups, except the ids of
    its gaps (RollupGap). Its row is also the folders' lock (regulator/rollups.py)."""

    __tablename__ = "rollup_marks"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    folded_to: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupGap(Base):
    """Ids at or below the mark that no row had when the mark passed them: a transaction
    still open then (its row is folded when it shows up) or one rolled back (dropped once no
    transaction that old can still be open)."""

    __tablename__ = "rollup_gaps"
    __table_args__ = (Index("ix_rollup_gaps_source_first_id", "source", "first_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScanRollup(Base):
    """How many scan events each combination has (docs/regulator.md, "How the figures are
    kept"). `day` is the scan's day on Vietnam's calendar as YYYY-MM-DD (localtime.local_day)."""

    __tablename__ = "scan_rollups"
    __table_args__ = (
        # The key leads with the day; a product's or a province's figures over a year read
        # only their own rows through these.
        Index("ix_scan_rollups_product_id", "product_id", "day"),
        Index("ix_scan_rollups_province_code", "province_code", "day"),
    )

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    scans: Mapped[int] = mapped_column(BigInteger)


ROLLUP_KEY = ("day", "org_id", "product_id", "province_code", "kind", "outcome")


def scan_key() -> list[ColumnElement[Any]]:
    """A scan event's rollup key, in ROLLUP_KEY order, as SQL over `scan_events`."""
    return [
        local_day(ScanEvent.scanned_at).label("day"),
        func.coalesce(ScanEvent.org_id, NONE).label("org_id"),
        func.coalesce(ScanEvent.product_id, NONE).label("product_id"),
        func.coalesce(ScanEvent.province_code, NONE).label("province_code"),
        ScanEvent.kind.label("kind"),
        ScanEvent.outcome.label("outcome"),
    ]


def upsert(session: Session, table: type[Base], rows: Select[Any], keys: Sequence[str]) -> None:
    """Add the counts of `rows` (key columns, then count columns, named as the table's) to
    the table: new keys are inserted, existing ones grow. One statement on either database."""
    names = [column.name for column in rows.selected_columns]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).from_select(names, rows)
    counts = {
        name: getattr(table, name) + getattr(statement.excluded, name)
        for name in names
        if name not in keys
    }
    session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=counts))


def unfolded_ids(source: str, id_column: Any, hint: int) -> Select[Any]:
    """The ids of `source` not yet in the rollups, as this statement's snapshot sees them:
    past the mark, or in a gap. `hint` is a mark read earlier (marks only grow): it lets the
    planner see that only the few newest rows qualify; the exact mark is read in the same
    statement, so a fold committed in between is not counted twice."""
    mark = select(RollupMark.folded_to).where(RollupMark.source == source).scalar_subquery()
    after = select(id_column).where(id_column > hint, id_column > func.coalesce(mark, 0))
    in_gap = select(id_column).join(
        RollupGap,
        and_(RollupGap.source == source, id_column.between(RollupGap.first_id, RollupGap.last_id)),
    )
    return select(union_all(after, in_gap).subquery().c[0])


def read_mark(session: Session, source: str) -> int:
    return int(session.scalar(select(RollupMark.folded_to).where(RollupMark.source == source)) or 0)


def move_to_province(session: Session, event_ids: Sequence[int], province_code: int) -> None:
    """Lock the scan rollups against the folder and lock `event_ids`' rows, so that the place
    about to be written and the counts agree; then move the counts of those events already
    folded from their present province to `province_code`.

    Call before the place is written, in the same transaction. The folder holds the mark
    row FOR UPDATE while it reads events and writes counts; this takes it FOR SHARE (SQLite:
    the transaction already holds the write lock), so either the fold committed first and
    the event is moved here, or the fold waits and then reads the new place. Two places
    shared at once do not wait for each other; their count changes are applied in key order
    so they cannot deadlock.
    """
    if not event_ids:
        return
    session.execute(
        select(RollupMark.source).where(RollupMark.source == SCAN_EVENTS).with_for_update(read=True)
    )
    mark = read_mark(session, SCAN_EVENTS)
    gaps = select(RollupGap.id).where(
        RollupGap.source == SCAN_EVENTS, ScanEvent.id.between(RollupGap.first_id, RollupGap.last_id)
    )
    rows = session.execute(
        select(*scan_key(), ScanEvent.id)
        .where(ScanEvent.id.in_(event_ids))
        .with_for_update(of=ScanEvent)
    ).all()
    changes: dict[tuple[Any, ...], int] = {}
    folded = set(
        session.scalars(
            select(ScanEvent.id).where(
                ScanEvent.id.in_([row.id for row in rows]),
                ScanEvent.id <= mark,
                ~gaps.exists(),
            )
        )
    )
    for row in rows:
        key = tuple(row[: len(ROLLUP_KEY)])
        if row.id not in folded or key[3] == province_code:
            continue
        moved = (*key[:3], province_code, *key[4:])
        changes[key] = changes.get(key, 0) - 1
        changes[moved] = changes.get(moved, 0) + 1
    for key, delta in sorted(changes.items()):
        if delta:
            values = [
                literal(value).label(name) for value, name in zip(key, ROLLUP_KEY, strict=True)
            ]
            upsert(
                session,
                ScanRollup,
                # SQLite needs a WHERE before an upsert's ON CONFLICT (its parser's ambiguity).
                select(*values, literal(delta, BigInteger).label("scans")).where(true()),
                ROLLUP_KEY,
            )
            if delta < 0:
                # No row for nothing: a raw GROUP BY has none either.
                same = [
                    getattr(ScanRollup, name) == value
                    for name, value in zip(ROLLUP_KEY, key, strict=True)
                ]
                session.execute(delete(ScanRollup).where(*same, ScanRollup.scans == 0))
