"""Per-client throttling of the scan endpoints (SPEC section 9).

With CHINHHANG_REDIS_URL set, the `limits` library keeps one fixed-window budget per client in
Redis, shared by every worker. Without Redis the budget is per process, in a plain dictionary:
`limits`' memory storage starts a timer thread per new key to expire it, which on the scan path
cost more than the database write (docs/benchmarks.md). A rate of "0" turns throttling off.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse, storage, strategies

_MAX_TRACKED_CLIENTS = 100_000


class Throttle:
    def __init__(self, rate: str, redis_url: str | None = None) -> None:
        self.item: RateLimitItem | None = None if rate.strip() == "0" else parse(rate)
        self.shared = (
            strategies.FixedWindowRateLimiter(storage.storage_from_string(redis_url))
            if redis_url and self.item
            else None
        )
        self._window = -1
        self._counts: dict[str, int] = {}

    def allow(self, client: str | None) -> bool:
        if self.item is None:
            return True
        if self.shared is not None:
            return self.shared.hit(self.item, "scan", client or "-")
        window = int(time.monotonic() // self.item.get_expiry())
        if window != self._window or len(self._counts) > _MAX_TRACKED_CLIENTS:
            self._window, self._counts = window, {}
        key = client or "-"
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count <= self.item.amount
