"""`chinhhang serve` stops gracefully: a scan in flight when SIGTERM arrives is finished,
committed and answered before the process exits, unless it outlasts `--graceful-timeout`; and
it runs one worker per core unless told otherwise."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import func, select

from chinhhang.config import Settings
from chinhhang.db import make_engine, make_sessionmaker
from chinhhang.scans.models import ScanEvent
from tests.conftest import DATABASE_FILE, PHONE, TEST_SECRET, free_port, serve_command
from tests.factories import make_run


def _start(settings: Settings, port: int, log: Path, *options: str) -> subprocess.Popen[bytes]:
    """`chinhhang serve` on `port`; one worker unless `options` say otherwise."""
    env = {
        **os.environ,
        "CHINHHANG_DATA_DIR": str(settings.data_dir),
        "CHINHHANG_SECRET_KEY": TEST_SECRET,
        "CHINHHANG_BASE_URL": f"http://127.0.0.1:{port}",
        "CHINHHANG_ALERT_WORKER": "0",
    }
    env.pop("CHINHHANG_DATABASE_URL", None)
    with log.open("wb") as out:
        server = subprocess.Popen(
            serve_command(port, *(options or ("--workers", "1"))),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError(f"server did not start: {log.read_text()}")


def test_a_scan_in_flight_at_sigterm_is_committed_and_answered(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    settings = sqlite_settings
    engine = make_engine(settings)
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=1, scan_limit=1)
    port = free_port()
    server = _start(settings, port, tmp_path / "serve.log")
    answers: list[httpx.Response] = []
    # Another writer holds SQLite's write lock, so the scan waits in the group commit.
    blocker = sqlite3.connect(settings.data_dir / DATABASE_FILE, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")

        def scan() -> None:
            answers.append(
                httpx.get(
                    f"http://127.0.0.1:{port}/v/{run.codes[0]}",
                    headers={"User-Agent": PHONE, "Accept": "application/json"},
                    timeout=30,
                )
            )

        phone = threading.Thread(target=scan)
        phone.start()
        time.sleep(1.0)  # the scan has arrived and waits for the lock
        assert not answers
        server.send_signal(signal.SIGTERM)
        time.sleep(1.0)  # the server is stopping, the scan still in flight
        assert server.poll() is None, "the server stopped before its scan was answered"
        blocker.execute("ROLLBACK")
        phone.join(timeout=30)
        # uvicorn re-raises the signal it handled once it has shut down, so the exit status
        # says "ended by SIGTERM" (as an init system expects), after the shutdown finished.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        blocker.close()
        if server.poll() is None:
            server.kill()
    assert len(answers) == 1
    assert answers[0].status_code == 200
    assert answers[0].json()["outcome"] == "genuine"
    with make_sessionmaker(engine)() as session:
        events = session.scalar(select(func.count()).where(ScanEvent.stamp_code == run.codes[0]))
    engine.dispose()
    assert events == 1
    with httpx.Client() as client:  # and it is gone: nothing answers on its port any more
        try:
            client.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        except httpx.TransportError:
            pass
        else:
            raise AssertionError("the server still answers after SIGTERM")


def test_a_scan_that_outlasts_the_graceful_timeout_does_not_hold_the_stop(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    """A request stuck longer than `--graceful-timeout` is cut off: the server stops on time
    (a hung client or database must not keep an old version running through a deploy)."""
    settings = sqlite_settings
    engine = make_engine(settings)
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=1, scan_limit=1)
    engine.dispose()
    port = free_port()
    server = _start(
        settings, port, tmp_path / "serve.log", "--workers", "1", "--graceful-timeout", "2"
    )
    blocker = sqlite3.connect(settings.data_dir / DATABASE_FILE, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # held until the end: the scan can never commit
        answers: list[httpx.Response] = []
        phone = threading.Thread(
            target=lambda: _quietly(
                lambda: answers.append(
                    httpx.get(
                        f"http://127.0.0.1:{port}/v/{run.codes[0]}",
                        headers={"User-Agent": PHONE, "Accept": "application/json"},
                        timeout=30,
                    )
                )
            )
        )
        phone.start()
        time.sleep(1.0)
        # The scan is in flight (waiting for the lock), or this test would prove nothing.
        assert phone.is_alive()
        assert not answers
        signalled = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) in (0, -signal.SIGTERM)
        stopped_after = time.monotonic() - signalled
        phone.join(timeout=30)
    finally:
        blocker.close()
        if server.poll() is None:
            server.kill()
    # 2 s of grace, then the stop itself; far less than the scan's 10 s of lock retries.
    assert stopped_after < 8, f"stopped {stopped_after:.1f} s after SIGTERM"
    # Cut off, it was never counted: no genuine answer (a 503 or a closed connection).
    assert not [answer for answer in answers if answer.status_code == 200]


def test_serve_runs_one_worker_per_core_by_default(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    server = _start(sqlite_settings, port, tmp_path / "serve.log", "--log-format", "text")
    try:
        cores = min(len(os.sched_getaffinity(0)), 64)
        deadline = time.monotonic() + 60
        while cores > 1 and len(_children(server.pid)) < cores and time.monotonic() < deadline:
            time.sleep(0.2)
        # One process serves alone; with several, uvicorn's supervisor has one child per
        # worker (multiprocessing's small resource tracker may be a child too).
        commands = [_command(pid) for pid in _children(server.pid)]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    serving = [command for command in commands if "resource_tracker" not in command]
    assert len(serving) == (cores if cores > 1 else 0), commands


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _quietly(call: Callable[[], object]) -> None:
    """A request whose connection the stopping server may close: its failure is expected."""
    with contextlib.suppress(httpx.HTTPError):
        call()
