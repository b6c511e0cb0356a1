"""`kill -9` of a worker in the middle of the load; uvicorn's supervisor starts another.

CHINHHANG_CRASH_SECONDS of load (20 s by default; `make test-load` runs longer), one of the two
workers killed with SIGKILL a third of the way in: no cleanup of any kind, its open
transactions die with its connections, its in-flight requests get no answer (recorded as
unanswered, not errors). The load goes on against the other worker while the supervisor
notices and spawns a replacement, and for a few seconds more once it serves. Then, after a
graceful stop: every scan answered genuine has its event, every stamp's count matches its
events and lies between what was answered and what may have landed unanswered, and every
suspicious scan's alert is in the outbox or folded into an alert.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from tests.load.client import UNANSWERED, run_load
from tests.load.invariants import check, read_database
from tests.load.preparation import prepare_load
from tests.load.report import figures
from tests.load.server import Server, assert_clean_log
from tests.load.targets import LoadDatabase

pytestmark = [pytest.mark.load, pytest.mark.postgres, pytest.mark.usefixtures("load_slot")]
REPLACEMENT_SECONDS = 90.0
# Load kept on after the replacement worker has started, whatever the planned duration.
AFTER_REPLACEMENT_SECONDS = 5.0


class Crash:
    """The controller of the load: waits, kills one worker, waits for its replacement."""

    def __init__(self, server: Server, seconds: float) -> None:
        self.server = server
        self.seconds = seconds
        self.killed: int | None = None
        self.replacement: int | None = None
        self.killed_at = 0.0
        self.replaced_after = 0.0

    async def __call__(self, _stop: asyncio.Event) -> None:
        started = time.monotonic()
        await asyncio.sleep(self.seconds / 3)
        self.killed = self.server.workers()[0]
        self.killed_at = time.monotonic() - started
        startups = self.server.log().count("Application startup complete.")
        os.kill(self.killed, signal.SIGKILL)
        deadline = time.monotonic() + REPLACEMENT_SECONDS
        while time.monotonic() < deadline:
            workers = self.server.workers()
            started_again = self.server.log().count("Application startup complete.") > startups
            if len(workers) == 2 and self.killed not in workers and started_again:
                self.replacement = next(pid for pid in workers if pid != self.killed)
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"no replacement worker after {REPLACEMENT_SECONDS:.0f} s")
        self.replaced_after = time.monotonic() - started - self.killed_at
        left = self.seconds - (time.monotonic() - started)
        await asyncio.sleep(max(left, AFTER_REPLACEMENT_SECONDS))


def test_worker_killed_mid_load_loses_nothing(load_database: LoadDatabase) -> None:
    load = prepare_load(load_database, "CHINHHANG_CRASH_SECONDS")
    seconds, clients, server = load.seconds, load.clients, load.server
    before = server.workers()
    crash = Crash(server, seconds)
    try:
        result = run_load(
            server.base,
            load.targets,
            clients=clients,
            seconds=seconds,
            max_requests=int(seconds * 5000),
            controller=crash,
        )
        assert crash.replacement is not None
        after = server.workers()
        assert server.stop() == 0
    finally:
        server.kill()
    assert crash.killed in before
    assert crash.killed not in after
    assert crash.replacement in after
    assert len(after) == 2
    assert f"Child process [{crash.killed}] died" in server.log()
    # Each client has one connection; the kill can break each at most once, plus a request
    # sent on it before the client saw it closed.
    unanswered = result.count(UNANSWERED)
    assert unanswered <= 2 * clients, f"{unanswered} unanswered requests for {clients} clients"
    assert result.count("busy") == 0, "503s: the database was never down"
    served_after = [
        answer
        for answer in result.answers
        if answer.at > crash.killed_at + crash.replaced_after and answer.outcome != UNANSWERED
    ]
    assert len(served_after) > clients, "the load was not answered after the replacement"
    checked = check(read_database(load_database.engine), result.answers, exact=False)
    print(
        figures(
            f"crash, 2 workers, {clients} clients ({load.timings})",
            result,
            checked,
            extra=(
                f"\n  worker {crash.killed} killed at {crash.killed_at:.1f} s, replacement "
                f"{crash.replacement} serving {crash.replaced_after:.1f} s later"
            ),
        )
    )
    assert_clean_log(server.log())
