"""Per-client throttling of the scan endpoints (SPEC section 9), with the `limits` library.

Memory storage by default (per process); Redis when CHINHHANG_REDIS_URL is set, so all workers
share one budget per client. A rate of "0" turns throttling off (benchmarks of the raw path).
"""

from __future__ import annotations

from limits import RateLimitItem, parse, storage, strategies


class Throttle:
    def __init__(self, rate: str, redis_url: str | None = None) -> None:
        self.item: RateLimitItem | None = None if rate.strip() == "0" else parse(rate)
        backend = storage.storage_from_string(redis_url) if redis_url else storage.MemoryStorage()
        self.limiter = strategies.FixedWindowRateLimiter(backend)

    def allow(self, client: str | None) -> bool:
        if self.item is None:
            return True
        return self.limiter.hit(self.item, "scan", client or "-")
