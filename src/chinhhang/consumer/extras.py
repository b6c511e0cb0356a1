"""What the genuine page shows beyond the verdict: the warranty and the current promotions.

web.py hands a GenuineExtras to scans as `app.state.verdict_extras` (scans may not import the
domains above it); `scans/dynamic.py` awaits `html` for every genuine verdict's page and puts
the answer in the page's `extras` hole. The scan is the hot path, so (as the journey does,
trace/journey_page.py):
- promotions are kept per product for PROMOTIONS_TTL_SECONDS: most genuine scans read nothing;
- the warranty's state needs a read only for a product with a warranty, and not on a stamp's
  first genuine scan (no genuine page, hence no registration link, existed before it; should an
  undone scan let one through, the form itself answers "already registered"); what is read is
  kept per stamp for REGISTRATION_TTL_SECONDS;
- reads run in the thread pool, at most READERS at once, never on the event loop;
- the HTML is a skeleton per language, product, warranty state and promotions, with holes for
  the scan token and the end date.
A database failure costs the page its promotions (for the TTL) or shows the registration link
(the form tells the truth); it never fails the verdict. Logged without any stamp code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol, TypeVar

from anyio import CapacityLimiter
from anyio.to_thread import run_sync
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.catalog.promotions import PromotionCard, current_promotions
from chinhhang.consumer.services import registered_until
from chinhhang.templating import Pages, day, hole

log = logging.getLogger(__name__)

TEMPLATE = "consumer/extras.html"
PROMOTIONS_TTL_SECONDS = 10.0
REGISTRATION_TTL_SECONDS = 5.0
READERS = 4
_CACHE_SIZE = 10_000
T = TypeVar("T")


class GenuineVerdict(Protocol):
    """What the extras read of scans' Verdict."""

    code: str | None
    scan_count: int | None
    seen_at: Any
    product: dict[str, Any] | None
    scan_token: str | None


class _Ttl:
    """A bounded dictionary whose entries are good for `seconds`."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds, self.clock = seconds, clock
        self.entries: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> tuple[bool, Any]:
        hit = self.entries.get(key)
        if hit is None or self.clock() - hit[0] >= self.seconds:
            return False, None
        return True, hit[1]

    def put(self, key: Any, value: Any) -> None:
        if len(self.entries) >= _CACHE_SIZE:
            self.entries.clear()
        self.entries[key] = (self.clock(), value)


class GenuineExtras:
    """The extras part of genuine pages, for one app (one process)."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.sessions = sessions
        # Its own Pages: a skeleton cache of extras only (templates are shared).
        self.pages = Pages()
        self.promotions = _Ttl(PROMOTIONS_TTL_SECONDS, clock)
        self.registrations = _Ttl(REGISTRATION_TTL_SECONDS, clock)
        self._loading: dict[int, asyncio.Future[tuple[PromotionCard, ...]]] = {}
        self._limiter: CapacityLimiter | None = None

    async def html(self, lang: str, verdict: GenuineVerdict) -> str | None:
        """Escaped HTML, or None when there is nothing to offer. Never raises for a database
        failure."""
        product = verdict.product
        if product is None or verdict.code is None:
            return None
        months = int(product.get("warranty_months") or 0)
        promotions = await self._promotions(int(product["id"]))
        until = await self._registered_until(verdict) if months else None
        if not promotions and not months:
            return None
        key = (product["id"], months, until is not None, verdict.scan_token is not None, promotions)

        def skeleton() -> dict[str, Any]:
            return {
                "months": months,
                "registered": until is not None,
                "until": hole("until"),
                "token": hole("token") if verdict.scan_token else None,
                "promotions": promotions,
            }

        fills = {"until": day(until) if until else "", "token": verdict.scan_token or ""}
        return self.pages.skeleton(lang, TEMPLATE, key, skeleton, fills)

    async def _promotions(self, product_id: int) -> tuple[PromotionCard, ...]:
        found, cards = self.promotions.get(product_id)
        if found:
            return tuple(cards)
        # One read per product at a time: when the cached entry expires under load, the scans
        # in flight wait for the same read instead of queueing one each behind the limiter.
        loading = self._loading.get(product_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load_promotions(product_id))
            self._loading[product_id] = loading
            loading.add_done_callback(lambda _done: self._loading.pop(product_id, None))
        return await asyncio.shield(loading)

    async def _load_promotions(self, product_id: int) -> tuple[PromotionCard, ...]:
        try:
            cards = await self._read(current_promotions, product_id)
        except SQLAlchemyError:
            log.warning("the current promotions could not be read", exc_info=True)
            cards = ()  # kept for the TTL too: a failing database is not asked per scan
        self.promotions.put(product_id, cards)
        return tuple(cards)

    async def _registered_until(self, verdict: GenuineVerdict) -> date | None:
        code = verdict.code
        if code is None or (verdict.scan_count == 1 and verdict.seen_at is None):
            return None
        found, until = self.registrations.get(code)
        if found:
            return until  # type: ignore[no-any-return]
        try:
            until = await self._read(registered_until, code)
        except SQLAlchemyError:
            log.warning("a warranty registration could not be read", exc_info=True)
            return None
        self.registrations.put(code, until)
        return until  # type: ignore[no-any-return]

    async def _read(self, query: Callable[[Session, Any], T], argument: Any) -> T:
        if self._limiter is None:
            self._limiter = CapacityLimiter(READERS)

        def work() -> T:
            with self.sessions() as session:
                return query(session, argument)

        return await run_sync(work, limiter=self._limiter)
