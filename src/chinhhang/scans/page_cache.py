"""Shopper pages that are the same for everyone, rendered once and kept a few seconds.

A printed static code is scanned by many shoppers at once (a promotion, a news report): each
scan must be counted, but the page it shows is the same for all of them. Building it costs an
ORM session, several queries and a template render, several times what counting costs, so the
finished response is kept PAGE_TTL_SECONDS per page key, as the verdict pages' skeletons are
(docs/architecture.md). An edit made through this process (a committed ORM write to a table
the page shows) shows at once; one made through another worker or server, within that time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from chinhhang.db import table_writes
from chinhhang.scans.sql import StaticView
from chinhhang.ttl_cache import TtlCache

PAGE_TTL_SECONDS = 10.0
# What a product page shows: the product and its maker, lot, links, promotions, and the lot's
# journey (custody and activation steps). Writes elsewhere (scans' rollups, alerts) keep it.
PAGE_TABLES = frozenset(
    {
        "products",
        "batches",
        "product_links",
        "promotions",
        "promotion_products",
        "organizations",
        "stamp_events",
    }
)
_MAX_PAGES = 10_000


@dataclass(frozen=True, slots=True)
class StaticPage:
    view: StaticView
    redirect_to: str | None
    body: bytes
    headers: tuple[tuple[str, str], ...]


class PageCache:
    """Used on the event loop only (the pages are built in the thread pool)."""

    def __init__(self, ttl: float = PAGE_TTL_SECONDS) -> None:
        self._pages: TtlCache[StaticPage] = TtlCache(ttl, _MAX_PAGES)
        # Pages being built, by key: under a burst, the page expires for every waiting shopper
        # at once, and 64 builds in the thread pool at once held them all ~100 ms (the p99).
        self._building: dict[Hashable, asyncio.Future[StaticPage]] = {}

    async def page(self, key: Hashable, build: Callable[[], StaticPage]) -> StaticPage:
        """The kept page, or `build()` run in the thread pool once for all who ask meanwhile.
        A build that fails fails for each of them (a missing product is missing for all)."""
        while True:
            found = self.get(key)
            if found is not None:
                return found
            pending = self._building.get(key)
            if pending is None:
                break
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise
                # The request building it went away mid-build: the next one builds it. (The
                # first build's thread runs on to its end, and its page is dropped.)
        writes = page_writes()
        future: asyncio.Future[StaticPage] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        try:
            built = await run_in_threadpool(build)
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: with nobody waiting, nothing to log twice
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._building[key]
        self.put(key, built, writes)
        future.set_result(built)
        return built

    def get(self, key: Hashable) -> StaticPage | None:
        return self._pages.get(key, generation=page_writes())

    def put(self, key: Hashable, page: StaticPage, writes: int) -> None:
        """`writes` is `page_writes()` read before the page was built."""
        self._pages.put(key, page, writes)


def page_writes() -> int:
    return table_writes(PAGE_TABLES)
