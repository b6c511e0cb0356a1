"""Shopper pages that are the same for everyone, rendered once and kept a few seconds.

A printed static code is scanned by many shoppers at once (a promotion, a news report): each
scan must be counted, but the page it shows is the same for all of them. Building it costs an
ORM session, several queries and a template render, several times what counting costs, so the
finished response is kept PAGE_TTL_SECONDS per page key, as the verdict pages' skeletons are
(docs/architecture.md). An edit made through this process (a committed ORM write to a table
the page shows) shows at once; one made through another worker or server, within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass

from chinhhang.db import table_writes
from chinhhang.scans.services import StaticView

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
    def __init__(self, ttl: float = PAGE_TTL_SECONDS) -> None:
        self._ttl = ttl
        self._pages: dict[Hashable, tuple[float, int, StaticPage]] = {}
        self._lock = threading.Lock()  # the pages are built in the thread pool

    def get(self, key: Hashable) -> StaticPage | None:
        hit = self._pages.get(key)
        if hit is None or time.monotonic() - hit[0] >= self._ttl or hit[1] != page_writes():
            return None
        return hit[2]

    def put(self, key: Hashable, page: StaticPage, writes: int) -> None:
        """`writes` is `page_writes()` read before the page was built."""
        with self._lock:
            if len(self._pages) >= _MAX_PAGES:  # any query string makes a key: stay bounded
                self._pages.clear()
            self._pages[key] = (time.monotonic(), writes, page)


def page_writes() -> int:
    return table_writes(PAGE_TABLES)
