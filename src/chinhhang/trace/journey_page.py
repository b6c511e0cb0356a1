"""The genuine page's journey, answered from memory on the event loop.

web.py hands a GenuineJourney to scans as `app.state.journey_of_stamp` (scans may not import
trace); `scans/dynamic.py` awaits `html` for each genuine verdict's page. Why not read the
journey per scan as `stamp_journey_for_page` does: that cost twice the scan itself
(docs/benchmarks.md). Here:
- the stamp's custody steps come from the in-memory index (journey_cache.py): a lookup of a
  few microseconds on the event loop. When the index is due a refresh (every REFRESH_SECONDS,
  or an issuer not held yet), the refresh's queries run in the thread pool, one refresh at a
  time; scans arriving meanwhile answer from what is held. Not on the loop, even on SQLite:
  loading an issuer reads all its custody steps (up to MAX_ISSUER_STEPS rows), far from the
  one-row reads the scan store does there, and the thread hop, once per REFRESH_SECONDS, costs
  nothing per scan;
- the made stage and the item code come from what the verdict carries (product, batch and
  manufacturer from ScanStore.describe, cached 10 s), the serial and the first verification
  from the verdict itself;
- the HTML comes from a skeleton rendered once per language, product, batch, custody steps and
  place of the first verification among them, with holes for the serial and that date, kept
  10 s like the verdict pages' skeletons (so a renamed distributor shows within ~20 s).

An issuer with more than MAX_ISSUER_STEPS custody steps is not held: its stamps' journeys are
read one by one (stamp_journey_for_page), at most JOURNEY_READERS at once. A database failure
costs the page its timeline (or, while the issuer is held, only the latest steps), never the
verdict; it is logged without any stamp code and not retried for REFRESH_SECONDS.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_right
from datetime import datetime
from typing import Any, Protocol

from anyio import CapacityLimiter, Lock
from anyio.to_thread import run_sync
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.stamps.serials import grouped
from chinhhang.templating import Pages, hole, when
from chinhhang.trace.journey import (
    FIRST_VERIFIED,
    ItemCode,
    Journey,
    Stage,
    custody_stage,
    made_as_described,
    stamp_journey_for_page,
)
from chinhhang.trace.journey_cache import (
    ACTOR,
    AT,
    ID,
    RECEIVER,
    SHIPPING,
    CustodyIndex,
    Row,
    micros,
    moment,
)

log = logging.getLogger(__name__)

TEMPLATE = "trace/journey.html"
# Per-stamp reads at once, for issuers too large to hold. Under a burst a journey waits its turn
# (without holding a thread) rather than open connections the product pages' pool needs.
JOURNEY_READERS = 4
_MINUTE = 60_000_000  # µs
_MINUTES_KEPT = 1_000


class GenuineVerdict(Protocol):
    """What the journey reads of scans' Verdict (trace does not import scans)."""

    code: str | None
    serial: str | None
    first_scanned_at: datetime | None
    product: dict[str, Any] | None
    batch: dict[str, Any] | None
    manufacturer: dict[str, Any] | None


class GenuineJourney:
    """The journey part of genuine pages, for one app (one process)."""

    def __init__(self, sessions: sessionmaker[Session], index: CustodyIndex | None = None) -> None:
        self.sessions = sessions
        self.index = index or CustodyIndex()
        # A Pages of its own: its skeleton cache (bounded, 10 s) holds journeys only, so that
        # many journeys never push the verdict pages' skeletons out. Templates are shared.
        self.pages = Pages()
        # Made on first use, inside the app's event loop.
        self._lock: Lock | None = None
        self._limiter: CapacityLimiter | None = None
        self._failed_at = -math.inf
        self._minutes: dict[int, str] = {}

    async def html(self, lang: str, verdict: GenuineVerdict) -> str | None:
        """The journey's HTML for a genuine verdict's page, or None when there is none to
        show. Never raises for a database failure."""
        about = _issuer_and_sequence(verdict)
        if about is None:
            return None
        issuer, sequence = about
        index = self.index
        if index.stale(issuer) and not await self._refreshed(issuer):
            return None
        if index.too_many(issuer):
            return await self._one_by_one(lang, verdict)
        steps = index.steps(issuer, sequence)
        return None if steps is None else self._fill(lang, verdict, steps)

    async def _refreshed(self, issuer: int) -> bool:
        """Refreshes the index (reading the issuer in if new) unless another scan is doing it
        or the database failed a moment ago; True when the index can answer for the issuer."""
        index = self.index
        if self._lock is None:
            self._lock = Lock()
        if (self._lock.locked() and index.holds(issuer)) or self._failed_recently():
            return index.holds(issuer)
        async with self._lock:
            if not index.stale(issuer) or self._failed_recently():
                return index.holds(issuer)
            try:
                update = await run_sync(index.read, self.sessions, issuer)
            except SQLAlchemyError:
                log.warning("the custody steps of journeys could not be read", exc_info=True)
                self._failed_at = index.clock()
                return index.holds(issuer)
            index.publish(update)
        return True

    def _failed_recently(self) -> bool:
        return self.index.clock() - self._failed_at < self.index.refresh_seconds

    async def _one_by_one(self, lang: str, verdict: GenuineVerdict) -> str | None:
        if verdict.code is None:
            return None
        if self._limiter is None:
            self._limiter = CapacityLimiter(JOURNEY_READERS)
        journey = await run_sync(
            stamp_journey_for_page, self.sessions, verdict.code, limiter=self._limiter
        )
        return None if journey is None else self.pages.html(lang, TEMPLATE, {"journey": journey})

    def journey_of(self, verdict: GenuineVerdict) -> Journey | None:
        """The journey as held in memory, without refreshing: what `stamp_journey` reads from
        the database (the tests hold the two equal). None when the issuer is not held."""
        about = _issuer_and_sequence(verdict)
        steps = None if about is None else self.index.steps(*about)
        if steps is None:
            return None
        first = verdict.first_scanned_at
        serial = grouped(verdict.serial or "")
        return self._journey(verdict, steps, _verified(steps, first), serial, first)

    def _fill(self, lang: str, verdict: GenuineVerdict, steps: list[Row]) -> str:
        """The skeleton of this path (rendered if not kept), with the stamp's own values."""
        first = verdict.first_scanned_at
        verified = _verified(steps, first)
        product, batch = verdict.product or {}, verdict.batch
        key = (
            product.get("id"),
            batch["id"] if batch else None,
            tuple([row[ID] for row in steps]),
            verified,
        )

        def skeleton() -> dict[str, Any]:
            holes = (hole("serial"), hole("first"))
            return {"journey": self._journey(verdict, steps, verified, *holes)}

        fills = {"serial": grouped(verdict.serial or ""), "first": self._shown(first)}
        return self.pages.skeleton(lang, TEMPLATE, key, skeleton, fills)

    def _shown(self, first: datetime | None) -> str:
        """`when(first)`, kept per minute (the text shows minutes; Vietnam's offset is whole
        hours): most genuine scans are first scans, made this minute, and the conversion to
        Vietnam's clock cost a quarter of the journey's time per scan."""
        if first is None:
            return ""
        minute = micros(first) // _MINUTE
        text = self._minutes.get(minute)
        if text is None:
            if len(self._minutes) >= _MINUTES_KEPT:
                self._minutes.clear()
            text = self._minutes[minute] = when(first)
        return text

    def _journey(
        self,
        verdict: GenuineVerdict,
        steps: list[Row],
        verified: int | None,
        serial: str,
        first: datetime | str | None,
    ) -> Journey:
        """The stamp's journey; in a skeleton, the serial and the first verification's date
        are holes, the same for every stamp of this product and batch that took these steps."""
        product, batch = verdict.product or {}, verdict.batch
        stages = [self._stage(row) for row in steps]
        if verified is not None:
            stages.insert(verified, Stage(FIRST_VERIFIED, first))  # type: ignore[arg-type]
        made = made_as_described(product, batch, verdict.manufacturer or {})
        item = ItemCode(product.get("gtin"), batch["lot"] if batch else None, serial)
        return Journey(item, (made, *stages))

    def _stage(self, row: Row) -> Stage:
        actor = self.index.place(row[ACTOR])
        receiver = self.index.place(row[RECEIVER]).name
        return custody_stage(
            bool(row[SHIPPING]), moment(row[AT]), actor.name, actor.address, actor.gln, receiver
        )


def _verified(steps: list[Row], first: datetime | None) -> int | None:
    """Where the first verification goes among the steps: after those of the same moment or
    earlier, where stamp_journey's stable sort puts it."""
    return None if first is None else bisect_right([row[AT] for row in steps], micros(first))


def _issuer_and_sequence(verdict: GenuineVerdict) -> tuple[int, int] | None:
    """The stamp's issuer and sequence, from the verdict. Only an issuer's own products can be
    bound to its stamps (stamps.services.runs.check_binding), so the product's maker is the
    issuer; the serial is the sequence followed by a check digit."""
    if not verdict.serial or verdict.product is None or verdict.manufacturer is None:
        return None
    return int(verdict.manufacturer["id"]), int(verdict.serial[:-1])
