"""A per-process cache whose entries are kept a fixed time: the hot paths' one cache.

The verdict pages' product data (scans/store.py), their rendered skeletons (templating.py) and
the static product pages (scans/page_cache.py) are the same for many requests and may show an
edit a few seconds late. Each entry keeps the moment it was stored and, optionally, a
generation (a write counter read before the value was built), so a reader can ask for a
younger entry than the default or drop one built before a write it knows about. When full it
is cleared rather than evicted entry by entry: the keys are few in normal use, and a flood of
distinct keys (any query string makes a page key) must not grow memory or cost per request.
Not locked: a dict's get and set are atomic under the GIL, and a lost race only builds a value
twice. Pure module.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    __slots__ = ("_entries", "_size", "_ttl")

    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self._ttl = ttl
        self._size = size
        self._entries: dict[Hashable, tuple[float, int, V]] = {}

    def get(
        self, key: Hashable, max_age: float | None = None, generation: int | None = None
    ) -> V | None:
        """The value if younger than `max_age` (default: the cache's time) and, when
        `generation` is given, stored under that generation."""
        hit = self._entries.get(key)
        if hit is None:
            return None
        stored, made_in, value = hit
        if time.monotonic() - stored >= (self._ttl if max_age is None else max_age):
            return None
        if generation is not None and made_in != generation:
            return None
        return value

    def put(self, key: Hashable, value: V, generation: int = 0) -> None:
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), generation, value)

    def clear(self) -> None:
        self._entries.clear()
