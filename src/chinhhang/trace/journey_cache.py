"""Stamps' custody steps held in memory, for the genuine page's journey (journey_page.py).

Why: the genuine scan is the hot path (docs/benchmarks.md). Reading a stamp's steps from the
database on every genuine scan (a session and two queries in the thread pool, ~0.6 ms) cost
twice the scan itself. A stamp's custody steps are `stamp_events` rows, shipping and receiving
over serial ranges of its issuer, and those rows are only ever inserted: `record_event` adds
them, nothing updates or deletes them, and voiding is an action of its own, not custody. So
each process keeps, per issuer, an interval index of them and adds the rows recorded since;
a stamp's steps are then found in memory, in microseconds.

Freshness: the index is read again when a scan needs it and it is REFRESH_SECONDS old, so a step
recorded a moment ago (a shipment just received) shows on genuine pages up to REFRESH_SECONDS
late. Organizations' names, addresses and GLNs are kept PLACES_SECONDS, like the verdict's
product cache.

Which rows are new: one query for all issuers, `id > mark`, a range of the primary key (the
rows of one issuer since some id have no index of their own: `(issuer_org_id, first_sequence)`
would be read whole every time). On PostgreSQL an id is taken when its row is inserted and seen
when its transaction commits, so a row may appear after rows with higher ids; the mark
therefore trails: it is the highest id seen by a refresh that ended at least SETTLE_SECONDS
before the previous refresh began, so that any row committed within SETTLE_SECONDS of taking
its id is read (rows read twice are known by their id). Until a refresh is that old (after
start-up), the mark is BOOT_IDS below the highest id found then.

Threads: `read` runs in the thread pool and only reads (the database and this object); what it
returns is published by `publish` on the event loop, which is also where `steps` and `place`
run. Jobs never overlap (journey_page.py runs one at a time), and published arrays are never
changed, only replaced.
"""

from __future__ import annotations

import math
import time
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.models import Organization
from chinhhang.stamps.models import Shipment, StampEvent
from chinhhang.trace.journey import MAX_STAMP_EVENTS

REFRESH_SECONDS = 2.0
PLACES_SECONDS = 10.0
# Longer than any transaction that records a step stays open after its INSERT.
SETTLE_SECONDS = 30.0
BOOT_IDS = 10_000
# An issuer with more custody steps than this is not held (about 60 bytes a step): its stamps'
# steps are read from the database one stamp at a time, as before.
MAX_ISSUER_STEPS = 200_000
# A step: (id, first, last, at in µs since the epoch, actor org, receiver org, 1 if shipping).
Row = tuple[int, ...]
ID, FIRST, LAST, AT, ACTOR, RECEIVER, SHIPPING = range(7)
# Up to this many new rows are inserted into copies of a width class's arrays; more, and the
# class is sorted again.
_FEW_ROWS = 64
_PLACES_AT_ONCE = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_events, _shipments, _orgs = StampEvent.__table__.c, Shipment.__table__.c, Organization.__table__.c
_STEPS = (
    select(
        _events.issuer_org_id,
        _events.id,
        _events.first_sequence,
        _events.last_sequence,
        _events.at,
        _events.org_id,
        _shipments.to_org_id,
        _events.action,
    )
    .select_from(
        StampEvent.__table__.join(Shipment.__table__, _shipments.id == _events.shipment_id)
    )
    .where(_events.action.in_(("shipping", "receiving")))
)
_NEWER = _STEPS.where(_events.id > bindparam("mark"))
# Once per issuer and process, through the (issuer_org_id, first_sequence) index.
_OF_ISSUER = _STEPS.where(_events.issuer_org_id == bindparam("issuer")).limit(bindparam("limit"))
# The primary key's last entry.
_HIGHEST = select(func.max(_events.id))
_PLACES = select(_orgs.id, _orgs.name, _orgs.address, _orgs.gln).where(
    _orgs.id.in_(bindparam("ids", expanding=True))
)


def micros(moment: datetime) -> int:
    """An aware datetime as microseconds since the epoch (exact, unlike a float)."""
    return (moment - _EPOCH) // _MICROSECOND


def moment(microseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=microseconds)


@dataclass(frozen=True, slots=True)
class Place:
    """An organization as the journey names it."""

    name: str
    address: str | None
    gln: str | None


class _Spans:
    """An issuer's steps whose widths share a power of two, as parallel arrays sorted by first
    sequence. A lookup walks back from the last step starting at or before the serial only as
    far as the widest step of the class reaches: with one class for all, one wide step (a run
    shipped whole) would make every lookup walk over all the narrow ones near it."""

    __slots__ = ("columns", "widest")

    def __init__(self, rows: list[Row]) -> None:
        rows.sort(key=itemgetter(FIRST))
        self.columns = tuple(array("q", column) for column in zip(*rows, strict=True))
        self.widest = max(row[LAST] - row[FIRST] + 1 for row in rows)

    def with_rows(self, rows: list[Row]) -> _Spans:
        """A copy with `rows` added: the published arrays may be being read."""
        if len(rows) > _FEW_ROWS:
            return _Spans([*zip(*self.columns, strict=True), *rows])
        grown = _Spans.__new__(_Spans)
        grown.columns = tuple(array("q", column) for column in self.columns)
        firsts = grown.columns[FIRST]
        for row in rows:
            at = bisect_right(firsts, row[FIRST])
            for column, value in zip(grown.columns, row, strict=True):
                column.insert(at, value)
        grown.widest = max(self.widest, *(row[LAST] - row[FIRST] + 1 for row in rows))
        return grown

    def over(self, sequence: int, found: list[Row]) -> None:
        """Adds the steps whose range holds `sequence`."""
        columns = self.columns
        firsts, lasts = columns[FIRST], columns[LAST]
        too_far = sequence - self.widest
        at = bisect_right(firsts, sequence)
        while at > 0:
            at -= 1
            if firsts[at] <= too_far:
                break
            if lasts[at] >= sequence:
                found.append(tuple([column[at] for column in columns]))


def _width_class(row: Row) -> int:
    return (row[LAST] - row[FIRST] + 1).bit_length()


def _by_class(rows: Iterable[Row]) -> dict[int, list[Row]]:
    classes: dict[int, list[Row]] = {}
    for row in rows:
        classes.setdefault(_width_class(row), []).append(row)
    return classes


@dataclass(frozen=True, slots=True)
class _Issuer:
    """One issuer's custody steps, by width class. Never changed once published."""

    spans: dict[int, _Spans]
    count: int

    @classmethod
    def of(cls, rows: Sequence[Row]) -> _Issuer:
        return cls({k: _Spans(v) for k, v in _by_class(rows).items()}, len(rows))

    def with_rows(self, rows: list[Row]) -> _Issuer:
        spans = dict(self.spans)
        for k, added in _by_class(rows).items():
            held = spans.get(k)
            spans[k] = held.with_rows(added) if held is not None else _Spans(added)
        return _Issuer(spans, self.count + len(rows))

    def over(self, sequence: int) -> list[Row]:
        found: list[Row] = []
        for spans in self.spans.values():
            spans.over(sequence, found)
        return found


@dataclass(slots=True)
class _Window:
    """Where the next refresh starts reading (see the module's docstring)."""

    # (when a refresh ended, the highest id seen by then), oldest first.
    seen: deque[tuple[float, int]] = field(default_factory=deque)
    floor: int | None = None
    began: float = -math.inf  # when the latest refresh began

    def mark(self) -> int:
        mark = self.floor or 0
        for ended, highest in self.seen:
            if ended > self.began - SETTLE_SECONDS:
                break
            mark = highest
        return mark

    def advance(self, began: float, ended: float, highest: int) -> None:
        self.began = began
        self.seen.append((ended, max(highest, self.seen[-1][1] if self.seen else 0)))
        # Only the newest of the entries old enough to be a mark can still be one.
        while len(self.seen) > 1 and self.seen[1][0] <= began - SETTLE_SECONDS:
            self.seen.popleft()


@dataclass(slots=True)
class Update:
    """What one refresh read, for `publish`."""

    began: float
    floor: int
    highest: int
    recent: set[int]
    issuers: dict[int, _Issuer] = field(default_factory=dict)
    too_many: set[int] = field(default_factory=set)
    places: dict[int, Place] = field(default_factory=dict)
    places_renewed: bool = False
    ended: float = 0.0


class CustodyIndex:
    """Per process: each issuer's shipping and receiving steps, loaded when one of its stamps
    is first scanned genuine, then kept up to date every REFRESH_SECONDS."""

    def __init__(
        self,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_steps: int = MAX_ISSUER_STEPS,
    ) -> None:
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self.max_steps = max_steps
        self._issuers: dict[int, _Issuer] = {}
        self._too_many: set[int] = set()
        # Ids above the window's mark already held: the window reads them again.
        self._recent: set[int] = set()
        self._places: dict[int, Place] = {}
        self._places_at = -math.inf
        self._window = _Window()

    # -- on the event loop ----------------------------------------------------------------

    def holds(self, issuer: int) -> bool:
        """Whether this index can answer for the issuer's stamps (too_many: not from memory)."""
        return issuer in self._issuers or issuer in self._too_many

    def stale(self, issuer: int) -> bool:
        """The issuer is not held yet, or a refresh is due."""
        due = self.clock() - self._window.began >= self.refresh_seconds
        return due or not self.holds(issuer)

    def too_many(self, issuer: int) -> bool:
        return issuer in self._too_many

    def steps(self, issuer: int, sequence: int) -> list[Row] | None:
        """The custody steps over one serial, in the journey's order: the first
        MAX_STAMP_EVENTS by id (as stamp_journey reads them), then by time, ties in recorded
        order. None when the issuer is not held."""
        held = self._issuers.get(issuer)
        if held is None:
            return None
        found = held.over(sequence)
        if len(found) > 1:
            found.sort(key=itemgetter(ID))
            del found[MAX_STAMP_EVENTS:]
            found.sort(key=itemgetter(AT))
        return found

    def place(self, org_id: int) -> Place:
        # Always held: a refresh reads the places of the rows it adds (foreign keys).
        return self._places.get(org_id) or Place("", None, None)

    def publish(self, update: Update) -> None:
        """Makes a refresh's reading current. Synchronous: nothing else runs meanwhile."""
        for issuer in update.too_many:
            self._issuers.pop(issuer, None)
            self._too_many.add(issuer)
        self._issuers.update(update.issuers)
        self._recent = update.recent
        if update.places_renewed:
            self._places, self._places_at = update.places, update.began
        else:
            self._places.update(update.places)
        self._window.floor = update.floor
        self._window.advance(update.began, update.ended, update.highest)

    # -- in the thread pool -----------------------------------------------------------------

    def read(self, sessions: sessionmaker[Session], issuer: int) -> Update:
        """The rows recorded since the mark for every held issuer, `issuer`'s whole custody if
        it is not held, and the places they name. Reads only; raises SQLAlchemyError."""
        began = self.clock()
        with sessions() as session:
            # Of any action: the mark must pass the other steps too, or they would be read
            # again and again.
            highest = session.scalar(_HIGHEST) or 0
            floor = self._window.floor
            if floor is None:
                floor = max(0, highest - BOOT_IDS)
            mark = max(floor, self._window.mark())
            fresh = [_row(found) for found in session.execute(_NEWER, {"mark": mark})]
            highest = max([highest, mark, *(row[ID] for _issuer, row in fresh)])
            update = Update(began, floor, highest, set())
            added = self._grow(update, fresh, mark)
            if not self.holds(issuer):
                limit = {"issuer": issuer, "limit": self.max_steps + 1}
                rows = [row for _i, row in map(_row, session.execute(_OF_ISSUER, limit))]
                added += self._load(update, issuer, rows, mark)
            self._read_places(session, update, added)
        update.ended = self.clock()
        return update

    def _grow(self, update: Update, fresh: list[tuple[int, Row]], mark: int) -> list[Row]:
        """The held issuers with their new rows (those not held already); returns the rows."""
        update.recent = {known for known in self._recent if known > mark}
        new: dict[int, list[Row]] = {}
        for issuer, row in fresh:
            if issuer in self._issuers and row[ID] not in update.recent:
                update.recent.add(row[ID])
                new.setdefault(issuer, []).append(row)
        for issuer, rows in new.items():
            held = self._issuers[issuer]
            if held.count + len(rows) > self.max_steps:
                update.too_many.add(issuer)
            else:
                update.issuers[issuer] = held.with_rows(rows)
        return [row for rows in new.values() for row in rows]

    def _load(self, update: Update, issuer: int, rows: list[Row], mark: int) -> list[Row]:
        """A newly scanned issuer's steps, or too_many; returns the rows held."""
        if len(rows) > self.max_steps:
            update.too_many.add(issuer)
            return []
        update.issuers[issuer] = _Issuer.of(rows)
        update.recent.update(row[ID] for row in rows if row[ID] > mark)
        update.highest = max([update.highest, *(row[ID] for row in rows)])
        return rows

    def _read_places(self, session: Session, update: Update, added: list[Row]) -> None:
        """The organizations the new rows name, and all held ones once they are
        PLACES_SECONDS old (a renamed distributor shows within that time)."""
        wanted = {row[ACTOR] for row in added} | {row[RECEIVER] for row in added}
        update.places_renewed = update.began - self._places_at >= PLACES_SECONDS
        if update.places_renewed:
            wanted |= self._places.keys()
        else:
            wanted -= self._places.keys()
        ids = sorted(wanted)
        for start in range(0, len(ids), _PLACES_AT_ONCE):
            chunk = {"ids": ids[start : start + _PLACES_AT_ONCE]}
            for org_id, name, address, gln in session.execute(_PLACES, chunk):
                update.places[org_id] = Place(name, address, gln)


def _row(found: Any) -> tuple[int, Row]:
    """(issuer, step) from a row of _STEPS."""
    issuer, event_id, first, last, at, actor, receiver, action = found
    return issuer, (event_id, first, last, micros(at), actor, receiver, int(action == "shipping"))
