"""Code guessing: one client sending many unknown or forged codes (SPEC section 7).

A shopper mistypes a code now and then; someone trying codes sends dozens. Each unknown verdict
spends one unit of the client's guessing budget (CHINHHANG_GUESS_LIMIT, `limits` notation, in
Redis when configured so that every worker sees the same count). The unknown code that spends
the last unit raises one guessing alert (an outbox row; the alert worker groups them per client
network); from then until the window ends the client's scans are answered 429 before any other
work. Forged codes cost no database work, and neither does this, except that one row.

Which clients are blocked is kept in this process (a dictionary of "blocked until"): asking
Redis on every scan would put a second round trip on the genuine path. With several workers,
a client blocked in one is blocked in another at its next unknown code (the count is shared).
"""

from __future__ import annotations

import time

from chinhhang.scans.throttle import Throttle

_MAX_BLOCKED = 100_000


class GuessWatch:
    def __init__(self, rate: str, redis_url: str | None = None) -> None:
        self._budget = Throttle(rate, redis_url, name="guess")
        item = self._budget.item
        self.window_seconds = int(item.get_expiry()) if item is not None else 0
        self._blocked: dict[str, float] = {}

    def blocked(self, client: str | None) -> bool:
        """The client has guessed too much in this window: refuse before looking at the code."""
        if not self._blocked:
            return False
        until = self._blocked.get(client or "-")
        if until is None:
            return False
        if time.monotonic() < until:
            return True
        del self._blocked[client or "-"]
        return False

    def unknown(self, client: str | None) -> bool:
        """Note one unknown code; True when it was the one that used up the budget (raise the
        alert now, and refuse the client until the window ends)."""
        if not self._budget.spend(client):
            return False
        if len(self._blocked) >= _MAX_BLOCKED:
            self._blocked.clear()
        self._blocked[client or "-"] = time.monotonic() + self.window_seconds
        return True
