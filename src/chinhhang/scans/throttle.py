"""Per-client throttling of the scan endpoints (SPEC section 9).

With CHINHHANG_REDIS_URL set, the `limits` library keeps one fixed-window budget per client in
Redis, shared by every worker. Without Redis the budget is per process, in a plain dictionary:
`limits`' memory storage starts a timer thread per new key to expire it, which on the scan path
cost more than the database write (docs/benchmarks.md). A rate of "0" turns throttling off.
"""

from __future__ import annotations

import ipaddress
import logging
import time

from limits import RateLimitItem, parse, storage, strategies

_MAX_TRACKED_CLIENTS = 100_000
_WARN_EVERY_SECONDS = 60.0
log = logging.getLogger(__name__)


def _ipv6_prefix(address: str) -> str:
    try:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    except ValueError:
        return address


class Throttle:
    def __init__(self, rate: str, redis_url: str | None = None, name: str = "scan") -> None:
        self.name = name
        self.item: RateLimitItem | None = None if rate.strip() == "0" else parse(rate)
        self.shared = (
            strategies.FixedWindowRateLimiter(
                # Short timeouts: this runs on the event loop, and a dead Redis must not stall it.
                storage.storage_from_string(
                    redis_url, socket_timeout=0.2, socket_connect_timeout=0.2
                )
            )
            if redis_url and self.item
            else None
        )
        # The window's length, asked of `limits` once: every scan computes its window.
        self._expiry = self.item.get_expiry() if self.item is not None else 60
        # Fixed windows on this clock (a test holds it still: a window can end mid-test).
        self.clock = time.monotonic
        self._window = -1
        self._counts: dict[str, int] = {}
        self._warned_at = -_WARN_EVERY_SECONDS

    def _warn_shared_down(self) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("scan throttle: Redis unreachable, letting scans through", exc_info=True)

    def allow(self, client: str | None) -> bool:
        """Count one hit for `client`; False once it has spent its budget for the window."""
        if self.item is None:
            return True
        key = _key(client)
        if self.shared is not None:
            try:
                return self.shared.hit(self.item, self.name, key)
            except Exception:  # Redis down: throttling is a guard, scans must go on
                self._warn_shared_down()
                return True
        return self._count_one(key) <= self.item.amount

    def spend(self, client: str | None) -> bool:
        """Count one hit; True when the client has no budget left after it (one dictionary
        update without Redis: the guessing watch calls this for every unknown code)."""
        if self.item is None:
            return False
        if self.shared is not None:
            self.allow(client)
            return self.spent(client)
        return self._count_one(_key(client)) >= self.item.amount

    def spent(self, client: str | None) -> bool:
        """Whether `client` has no budget left in this window (counts nothing)."""
        if self.item is None:
            return False
        key = _key(client)
        if self.shared is not None:
            try:
                return not self.shared.test(self.item, self.name, key)
            except Exception:  # as in allow: a guard, never a reason to refuse
                self._warn_shared_down()
                return False
        return self._current().get(key, 0) >= self.item.amount

    def _count_one(self, key: str) -> int:
        """This window's count for `key` after one more hit (memory only)."""
        counts = self._current()
        count = counts.get(key, 0) + 1
        counts[key] = count
        return count

    def _current(self) -> dict[str, int]:
        window = int(self.clock() // self._expiry)
        if window != self._window or len(self._counts) > _MAX_TRACKED_CLIENTS:
            self._window, self._counts = window, {}
        return self._counts


def _key(client: str | None) -> str:
    if client and ":" in client:  # IPv6: one subscriber gets a whole /64
        return _ipv6_prefix(client)
    return client or "-"
