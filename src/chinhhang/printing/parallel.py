"""Both cores for label artwork, in order and in bounded memory.

Batches go to worker processes through a window of at most `2 x workers` batches in flight, and
results come back in submission order: the output file grows page after page while the next
batches render, and a slow consumer (a download over a phone network) holds back the producer
instead of piling rendered pages up in memory. Workers come from a fork server, not a fork of
this process: a forked worker would inherit the database connection and the web server's
threads.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(function: Callable[[T], R], items: Iterable[T], workers: int = 1) -> Iterator[R]:
    """`map(function, items)`, in `workers` processes when more than one."""
    if workers <= 1:
        yield from map(function, items)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["chinhhang.printing.sheets"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        window: deque[Future[R]] = deque()
        try:
            for item in items:
                window.append(pool.submit(function, item))
                if len(window) >= 2 * workers:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            for future in window:
                future.cancel()
