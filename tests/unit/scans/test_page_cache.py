"""The static page cache builds a page once for everyone who asks while it is being built
(scans/page_cache.py): a burst on one printed code must not start one build per shopper."""

from __future__ import annotations

import asyncio
import threading

import pytest

from chinhhang.errors import NotFound
from chinhhang.scans.page_cache import PageCache, StaticPage
from chinhhang.scans.sql import StaticView

PAGE = StaticPage(StaticView(1, None, 1), None, b"<html>", ())


def test_concurrent_misses_build_once() -> None:
    cache = PageCache()
    builds: list[int] = []
    release = threading.Event()

    def build() -> StaticPage:
        builds.append(1)
        release.wait(5)
        return PAGE

    async def burst() -> list[StaticPage]:
        asks = [asyncio.ensure_future(cache.page("k", build)) for _ in range(50)]
        await asyncio.sleep(0.05)
        release.set()
        return list(await asyncio.gather(*asks))

    pages = asyncio.run(burst())
    assert builds == [1]
    assert all(page is PAGE for page in pages)


def test_a_failed_build_fails_for_all_and_is_not_kept() -> None:
    cache = PageCache()
    calls: list[int] = []

    def missing() -> StaticPage:
        calls.append(1)
        raise NotFound("No such product.")

    async def asks() -> list[object]:
        return list(
            await asyncio.gather(
                *(cache.page("k", missing) for _ in range(5)), return_exceptions=True
            )
        )

    results = asyncio.run(asks())
    assert all(isinstance(result, NotFound) for result in results)
    assert len(calls) == 1
    # Nothing was kept: the next request builds again (the product may exist by then).
    assert asyncio.run(cache.page("k", lambda: PAGE)) is PAGE


def test_when_the_builder_goes_away_a_waiter_builds() -> None:
    cache = PageCache()
    started = threading.Event()
    release = threading.Event()

    def slow() -> StaticPage:
        started.set()
        release.wait(5)
        return PAGE

    async def scenario() -> StaticPage:
        builder = asyncio.ensure_future(cache.page("k", slow))
        await asyncio.to_thread(started.wait, 5)
        waiter = asyncio.ensure_future(cache.page("k", lambda: PAGE))
        await asyncio.sleep(0)
        builder.cancel()  # the first shopper's connection closed mid-build
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await builder
        return await asyncio.wait_for(waiter, 5)

    assert asyncio.run(scenario()) is PAGE
