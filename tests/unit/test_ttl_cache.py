"""The hot paths' cache (ttl_cache.py): entries expire, a younger age or another generation
misses, and a full cache starts again rather than growing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chinhhang import ttl_cache
from chinhhang.ttl_cache import TtlCache


def test_an_entry_is_kept_for_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(ttl_cache, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    cache: TtlCache[str] = TtlCache(10.0)
    cache.put("k", "v")
    clock[0] = 109.9
    assert cache.get("k") == "v"
    assert cache.get("k", max_age=5.0) is None  # a reader may want it younger
    clock[0] = 110.0
    assert cache.get("k") is None
    assert cache.get("missing") is None


def test_a_generation_other_than_the_entrys_misses() -> None:
    cache: TtlCache[str] = TtlCache(10.0)
    cache.put("k", "v", generation=3)
    assert cache.get("k", generation=3) == "v"
    assert cache.get("k", generation=4) is None
    assert cache.get("k") == "v"  # no generation asked: age alone


def test_a_full_cache_is_cleared_not_grown() -> None:
    cache: TtlCache[int] = TtlCache(10.0, size=3)
    for n in range(3):
        cache.put(n, n)
    cache.put("fourth", 4)
    assert [cache.get(n) for n in range(3)] == [None, None, None]
    assert cache.get("fourth") == 4
