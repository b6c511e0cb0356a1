"""Database work written once as a generator of statements, run by a thread or the event loop.

The scan's rules (scans/store.py: count what may be counted, look at what was refused, write
the events and the outbox rows) must be the same whether a thread runs one scan's on a DB-API
cursor or the event loop's writer runs a batch's on psycopg's asynchronous cursor. So they are
written as a generator that yields `(fetch, sql, params)` and is sent back what the statement
gave: a list of rows for ALL, one row or None for ONE, None for NONE and MANY (executemany).
Pure: no I/O here beyond the cursor handed in.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

T = TypeVar("T")
ALL, ONE, NONE, MANY = "all", "one", "none", "many"
Step = tuple[str, str, Any]
Steps = Generator[Step, Any, T]


def run_steps(cursor: Any, steps: Steps[T]) -> T:
    """Run `steps` on a DB-API cursor."""
    answer: Any = None
    try:
        while True:
            fetch, sql, params = steps.send(answer)
            if fetch == MANY:
                cursor.executemany(sql, params)
                answer = None
                continue
            cursor.execute(sql, params)
            answer = (
                cursor.fetchall() if fetch == ALL else cursor.fetchone() if fetch == ONE else None
            )
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_steps_async(cursor: Any, steps: Steps[T]) -> T:
    """Run `steps` on psycopg's AsyncCursor."""
    answer: Any = None
    try:
        while True:
            fetch, sql, params = steps.send(answer)
            if fetch == MANY:
                await cursor.executemany(sql, params)
                answer = None
                continue
            await cursor.execute(sql, params)
            if fetch == ALL:
                answer = await cursor.fetchall()
            elif fetch == ONE:
                answer = await cursor.fetchone()
            else:
                answer = None
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
