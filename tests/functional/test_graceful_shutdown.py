"""`chinhhang serve` stops gracefully: a scan in flight when SIGTERM arrives is finished,
committed and answered before the process exits."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from chinhhang.config import Settings
from chinhhang.db import make_engine, make_sessionmaker
from chinhhang.scans.models import ScanEvent
from tests.conftest import DATABASE_FILE, PHONE, TEST_SECRET, free_port
from tests.factories import make_run


def _start(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
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
            [sys.executable, "-m", "chinhhang", "serve", "--port", str(port), "--workers", "1"],
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
