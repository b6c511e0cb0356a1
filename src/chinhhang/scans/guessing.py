"""Code guessing: one client sending many unknown or forged codes (SPEC section 7).

A shopper mistypes a code now and then; someone trying codes sends dozens. Each unknown verdict
spends one unit of the client's guessing budget (CHINHHANG_GUESS_LIMIT, `limits` notation, in
Redis when configured so that every worker sees the same count). The unknown code that spends
the last unit raises one guessing alert (an outbox row; the alert worker groups them per client
network); from then until the window ends the client's scans are answered 429 before any other
work. Forged codes cost no database work, and neither does this, except that one row.
"""

from __future__ import annotations

from chinhhang.scans.throttle import Throttle


class GuessWatch:
    def __init__(self, rate: str, redis_url: str | None = None) -> None:
        self._budget = Throttle(rate, redis_url, name="guess")

    def blocked(self, client: str | None) -> bool:
        """The client has guessed too much in this window: refuse before looking at the code."""
        return self._budget.spent(client)

    def unknown(self, client: str | None) -> bool:
        """Note one unknown code; True when it was the one that used up the budget (raise the
        alert now). Each worker may say so once per window: alerts group them."""
        if self._budget.item is None:
            return False
        self._budget.allow(client)
        return self._budget.spent(client)
