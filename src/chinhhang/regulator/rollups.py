"""Folding new rows into the dashboard's rollup tables (issue 8): `scan_events` into
`scan_rollups` (scans/rollups.py), `stamp_events` into `stamp_rollups` (models.py).

A worker does it (inside `serve`, CHINHHANG_ROLLUP_WORKER, or `chinhhang regulator rollup`),
not the scan path: the scan's transaction stays one INSERT and one UPDATE. The dashboard
reads the rollups plus the rows not folded yet (`unfolded_ids`, the same statement), so its
figures are exact at any moment and cheap when the worker keeps up.

Why nothing is skipped. Ids come from a sequence, and on PostgreSQL a transaction that drew
id 100 may commit after the one that drew 101: "fold every id up to the largest seen" would
skip 100 for ever. So each source has a mark and a list of gaps (scans/rollups.py):
*every id ≤ mark is folded, except the ids of a gap; no id of a gap is folded*. One pass:

1. Lock the mark row (FOR UPDATE; on SQLite the write lock the transaction holds). Every
   folder, and place sharing (FOR SHARE), takes it first, so passes run one at a time and
   each sees the previous one's commit.
2. Note the oldest open transaction's start (PostgreSQL, pg_stat_activity) as of now: T0.
3. Choose the batch's end `hi`: the BATCH-th id past the mark (or the largest), an id that
   exists. The ranges to look at are (mark, hi] and the old gaps.
4. In one statement (one snapshot), find the holes of those ranges: runs of ids no visible
   row has. Then fold exactly the ranges minus those holes: every id in there had a
   committed row in that snapshot, and a committed row stays, so the fold statement sees
   the same rows (a row that commits in between lies in a hole and is excluded).
5. The holes become the gaps (an old gap's part keeps its first sighting); mark := hi.
   Commit: the counts, the mark and the gaps change together or not at all.

So every id is folded at most once (it leaves the unfolded set, (mark, ∞) ∪ gaps, in the
same commit that counts it) and at least once (an id leaves that set only by being counted,
or as a gap that is dropped). A gap is dropped only when its id cannot show up any more: it
was first seen before T0, every transaction open at T0 began after that sighting (so the
transaction that drew the id had ended before T0: its row, if committed, would have been
visible in step 4), and it is older than CHINHHANG_ROLLUP_GAP_SECONDS. The last condition
alone covers SQLite (one writer at a time: a gap there is a rolled-back insert) and a
writer that would draw ids outside the transaction that inserts them. On PostgreSQL the
database role must see its own sessions' `xact_start` (the same role for the app and the
worker, as usual).

Place sharing moves an already folded scan's count to its new province in its own
transaction (scans/rollups.move_to_province), under the mark's lock. Undoing a scan changes
no figure (undone scans still count, docs/regulator.md), so it touches no rollup. Stamps
change only forward (issued → active → void, each once; product, activation and voiding
times never change afterwards), so a stamp event's counts stay right once folded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    cast,
    delete,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.config import Settings
from chinhhang.db import any_row, session_scope, utcnow
from chinhhang.localtime import local_day
from chinhhang.regulator.models import STAMP_ROLLUP_KEY, StampRollup
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.rollups import (
    NONE,
    ROLLUP_KEY,
    SCAN_EVENTS,
    STAMP_EVENTS,
    RollupGap,
    RollupMark,
    ScanRollup,
    scan_key,
    upsert,
)
from chinhhang.stamps.models import Stamp, StampEvent

log = logging.getLogger("chinhhang.regulator")
# Scan events per transaction: a few hundred milliseconds, during which place sharing waits.
SCAN_BATCH = 20_000
# Stamp events per transaction (a voiding event reads its stamps, up to a whole run).
STAMP_BATCH = 500
# Old gaps looked at per pass; the rest wait for the next one (there are normally none).
GAPS_PER_PASS = 200
STOP_WAIT_SECONDS = 15.0


def scan_counts(ids: ColumnElement[bool]) -> Select[Any]:
    """The rollup rows of the scan events `ids` selects (ROLLUP_KEY, then `scans`)."""
    key = scan_key()
    return select(*key, func.count().label("scans")).where(ids).group_by(*key)


def stamp_counts(ids: ColumnElement[bool]) -> Select[Any]:
    """The rollup rows of the stamp events `ids` selects (STAMP_ROLLUP_KEY, `activated`,
    `void`).

    An activating event's serial ranges hold exactly the stamps it activated, all with the
    same `activated_at` (stamps/services/events.changed_ranges finds them by that time), so
    its first stamp gives the day and the range's width the number. A voiding event covers
    stamps of any product: its stamps are read and counted by product.
    """
    zero = literal(0, BigInteger)
    activated = (
        select(
            StampEvent.issuer_org_id.label("org_id"),
            func.coalesce(StampEvent.product_id, NONE).label("product_id"),
            local_day(Stamp.activated_at).label("day"),
            (StampEvent.last_sequence - StampEvent.first_sequence + 1).label("activated"),
            zero.label("void"),
        )
        .select_from(StampEvent)
        .join(
            Stamp,
            and_(
                Stamp.org_id == StampEvent.issuer_org_id,
                Stamp.sequence == StampEvent.first_sequence,
            ),
        )
        .where(StampEvent.action == "activating", ids)
    )
    voided = (
        select(
            Stamp.org_id.label("org_id"),
            func.coalesce(Stamp.product_id, NONE).label("product_id"),
            local_day(Stamp.voided_at).label("day"),
            zero.label("activated"),
            literal(1, BigInteger).label("void"),
        )
        .select_from(StampEvent)
        .join(
            Stamp,
            and_(
                Stamp.org_id == StampEvent.issuer_org_id,
                Stamp.sequence.between(StampEvent.first_sequence, StampEvent.last_sequence),
            ),
        )
        .where(StampEvent.action == "voiding", ids)
    )
    both = union_all(activated, voided).subquery()
    key = [both.c[name] for name in STAMP_ROLLUP_KEY]
    return (
        select(
            *key,
            func.sum(both.c.activated).label("activated"),
            func.sum(both.c.void).label("void"),
        )
        .where(true())
        .group_by(*key)
    )


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    id_column: Any
    batch: int
    fold: Callable[[Session, ColumnElement[bool]], None]


def _fold_scans(session: Session, ids: ColumnElement[bool]) -> None:
    upsert(session, ScanRollup, scan_counts(ids), ROLLUP_KEY)


def _fold_stamps(session: Session, ids: ColumnElement[bool]) -> None:
    upsert(session, StampRollup, stamp_counts(ids), STAMP_ROLLUP_KEY)


SOURCES = (
    Source(SCAN_EVENTS, ScanEvent.id, SCAN_BATCH, _fold_scans),
    Source(STAMP_EVENTS, StampEvent.id, STAMP_BATCH, _fold_stamps),
)


@dataclass(frozen=True, slots=True)
class Span:
    first: int
    last: int
    # When the span was first seen missing (a gap), or None for the new ids.
    seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Pass:
    folded: int
    # Whether more may wait: the batch or the gaps looked at were full.
    more: bool


def fold(session: Session, source: Source, *, gap_seconds: float, batch: int = 0) -> Pass:
    """One pass over `source` (the module docstring's steps): how many rows it folded, and
    whether more may wait. Flushes; the caller commits (one transaction per pass)."""
    _lock_mark(session, source.name)
    mark = int(
        session.scalar(select(RollupMark.folded_to).where(RollupMark.source == source.name)) or 0
    )
    started = _db_now(session)
    oldest = _oldest_open_transaction(session)
    id_ = source.id_column
    old = session.execute(
        select(RollupGap.id, RollupGap.first_id, RollupGap.last_id, RollupGap.seen_at)
        .where(RollupGap.source == source.name)
        .order_by(RollupGap.first_id)
        .limit(GAPS_PER_PASS)
    ).all()
    spans = [Span(int(first), int(last), seen) for _, first, last, seen in old]
    hi = session.scalar(
        select(id_).where(id_ > mark).order_by(id_).offset((batch or source.batch) - 1).limit(1)
    )
    batch_full = hi is not None
    if hi is None:
        hi = session.scalar(select(func.max(id_)).where(id_ > mark))
    if hi is not None:
        spans.append(Span(mark + 1, int(hi)))
    if not spans:
        return Pass(0, False)
    holes = _holes(session, id_, spans)
    seen = _db_now(session)
    folded = sum(s.last - s.first + 1 for s in spans) - sum(h.last - h.first + 1 for h in holes)
    if folded:
        taken = or_(*[id_.between(s.first, s.last) for s in spans])
        missing = [id_.between(h.first, h.last) for h in holes]
        source.fold(session, and_(taken, not_(or_(*missing))) if missing else taken)
    keep = [
        Span(h.first, h.last, h.seen_at or seen)
        for h in holes
        if not _gone(h, started, oldest, gap_seconds)
    ]
    dropped = len(holes) - len(keep)
    if dropped:
        log.info("%s: %d gaps of ids never committed dropped", source.name, dropped)
    if old:
        session.execute(delete(RollupGap).where(RollupGap.id.in_([row.id for row in old])))
    session.add_all(
        RollupGap(source=source.name, first_id=h.first, last_id=h.last, seen_at=h.seen_at)
        for h in keep
    )
    if hi is not None:
        session.execute(
            update(RollupMark).where(RollupMark.source == source.name).values(folded_to=hi)
        )
    session.flush()
    # More may wait when the batch of new ids was full, or when the gaps looked at were as
    # many as a pass takes and some of them were settled. Gaps that are still open (their
    # transactions may yet commit) are no reason to loop: the next pass comes after a pause.
    gaps_settled = len(old) == GAPS_PER_PASS and (folded > 0 or dropped > 0)
    return Pass(folded, batch_full or gaps_settled)


def _gone(hole: Span, started: datetime, oldest: datetime | None, gap_seconds: float) -> bool:
    """Whether no row can appear in `hole` any more (the module docstring, last paragraph)."""
    seen = hole.seen_at
    if seen is None or seen >= started or started - seen < timedelta(seconds=gap_seconds):
        return False
    return oldest is None or oldest > seen


def _lock_mark(session: Session, source: str) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(RollupMark)
        .values(source=source, folded_to=0)
        .on_conflict_do_nothing(index_elements=["source"])
    )
    session.execute(select(RollupMark.source).where(RollupMark.source == source).with_for_update())


def _db_now(session: Session) -> datetime:
    """The database's clock on PostgreSQL (compared with pg_stat_activity's times)."""
    if session.get_bind().dialect.name == "postgresql":
        now: datetime = session.execute(select(func.clock_timestamp())).scalar_one()
        return now
    return utcnow()


def _oldest_open_transaction(session: Session) -> datetime | None:
    """When the oldest transaction of another session of this database began (PostgreSQL);
    None when there is none, and always on SQLite (its writers take turns)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    oldest: datetime | None = session.scalar(
        text(
            "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    )
    return oldest


def _holes(session: Session, id_: Any, spans: Sequence[Span]) -> list[Span]:
    """The runs of ids within `spans` that no row has, all read in one statement (one
    snapshot); each keeps its span's first sighting."""
    parts = []
    for index, span in enumerate(spans):
        within = id_.between(span.first, span.last)
        before = cast(literal(span.first - 1), BigInteger)
        ordered = (
            select(id_.label("id"), func.lag(id_).over(order_by=id_).label("prev"))
            .where(within)
            .subquery()
        )
        prev = func.coalesce(ordered.c.prev, before)
        parts.append(
            select(
                literal(index).label("span"), (prev + 1).label("first"), (ordered.c.id - 1)
            ).where(ordered.c.id - prev > 1)
        )
        top = select(func.max(id_).label("top")).where(within).subquery()
        highest = func.coalesce(top.c.top, before)
        parts.append(
            select(literal(index), highest + 1, cast(literal(span.last), BigInteger)).where(
                highest < span.last
            )
        )
    rows = session.execute(union_all(*parts)).all()
    holes = [Span(int(first), int(last), spans[int(index)].seen_at) for index, first, last in rows]
    return sorted(holes, key=lambda hole: hole.first)


def fold_all(session_factory: sessionmaker[Session], settings: Settings) -> dict[str, Pass]:
    """One pass over each source, each in its own transaction."""
    passes = {}
    for source in SOURCES:
        with session_scope(session_factory) as session:
            passes[source.name] = fold(session, source, gap_seconds=settings.rollup_gap_seconds)
    return passes


def catch_up(session_factory: sessionmaker[Session], settings: Settings) -> dict[str, int]:
    """Fold until every source is caught up (the CLI's --once, tests, the benchmark); rows
    folded per source."""
    total = dict.fromkeys((source.name for source in SOURCES), 0)
    while True:
        passes = fold_all(session_factory, settings)
        for name, done in passes.items():
            total[name] += done.folded
        if not any(done.more for done in passes.values()) or not any(
            done.folded for done in passes.values()
        ):
            return total


def _waiting(session_factory: sessionmaker[Session]) -> bool:
    """Whether any source has rows past its mark or gaps (read without a write lock)."""
    checks = []
    for source in SOURCES:
        mark = (
            select(RollupMark.folded_to).where(RollupMark.source == source.name).scalar_subquery()
        )
        checks.append(exists().where(source.id_column > func.coalesce(mark, 0)))
    checks.append(exists().where(RollupGap.id.is_not(None)))
    return any_row(session_factory, select(literal(1)).where(or_(*checks)))


class RollupWorker:
    """Folds new rows in a background thread of `serve` or in the foreground (the CLI). Any
    number may run at once, in any number of processes: passes take turns on the mark rows."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def in_server(cls, sessions: sessionmaker[Session], settings: Settings) -> RollupWorker:
        """`serve`'s worker: started unless CHINHHANG_ROLLUP_WORKER is off."""
        worker = cls(sessions, settings)
        if settings.rollup_worker:
            worker.start()
        return worker

    def start(self) -> None:
        """Start folding in a background thread (once; later calls do nothing)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="rollup-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end after the pass in hand (safe from a signal handler)."""
        self._stop.set()

    def close(self) -> None:
        self.stop()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(STOP_WAIT_SECONDS)

    def run_once(self) -> dict[str, Pass]:
        """One pass over each source; nothing at all (no write lock) when nothing waits."""
        if not _waiting(self.sessions):
            return {source.name: Pass(0, more=False) for source in SOURCES}
        return fold_all(self.sessions, self.settings)

    def run_forever(self) -> None:
        """Loop until `stop`: at once again after a full batch, otherwise after
        CHINHHANG_ROLLUP_POLL_SECONDS. An error is logged and the next pass tries again."""
        while not self._stop.is_set():
            try:
                full = any(done.more for done in self.run_once().values())
            except Exception:  # a database hiccup or a bug must not end the worker
                log.exception("rollup worker pass failed")
                full = False
            if not full:
                self._stop.wait(self.settings.rollup_poll_seconds)
