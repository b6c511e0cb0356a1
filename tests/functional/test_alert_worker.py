"""The alert worker as it runs: inside the app, and as `chinhhang alerts worker`, killed with
SIGKILL in the middle of a delivery and restarted without losing or doubling anything."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from chinhhang.alerts.models import Alert, AlertDelivery
from chinhhang.db import make_engine, make_sessionmaker, session_scope, utcnow
from chinhhang.stamps.serials import serial_for
from chinhhang.web import create_app
from tests.conftest import PHONE, cli_env
from tests.factories import make_run
from tests.functional.alert_receivers import webhook_receiver
from tests.functional.test_alert_delivery import add, allowing, make_scene, queue
from tests.portal_helpers import wait_until


def test_the_app_delivers_in_the_background(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    app_settings = allowing(settings, alert_worker=True, alert_poll_seconds=0.1)
    with webhook_receiver() as receiver:
        receiver.secret = add(sessions, run.org_id, "webhook", receiver.url).secret or ""
        with TestClient(create_app(app_settings), headers={"User-Agent": PHONE}) as client:
            for _ in range(2):
                client.cookies.clear()
                client.get(f"/v/{run.codes[0]}", headers={"Accept": "application/json"})
            wait_until(lambda: receiver.requests, seconds=15)
        # The app has shut down, and its worker with it.
    (request,) = receiver.requests
    assert request.verified
    assert json.loads(request.body)["alert"]["serial"] == serial_for(1)


def _worker(data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = cli_env(
        data_dir,
        CHINHHANG_ALLOW_PRIVATE_WEBHOOKS="1",
        CHINHHANG_ALERT_LEASE_SECONDS="2",
        CHINHHANG_ALERT_POLL_SECONDS="0.2",
    )
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "chinhhang", "alerts", "worker"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def _running(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _more_alerts(sessions, org_id: int, count: int) -> list[int]:
    now = utcnow()
    with session_scope(sessions) as session:
        alerts = [
            Alert(
                org_id=org_id,
                reason="void",
                category="voided_stamp",
                status="open",
                serial=serial_for(10 + n),
                scan_count=1,
                first_at=now,
                last_at=now,
            )
            for n in range(count)
        ]
        session.add_all(alerts)
        session.flush()
        return [alert.id for alert in alerts]


def _deliveries(sessions) -> list[AlertDelivery]:
    with sessions() as session:
        rows = list(session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))
        session.expunge_all()
        return rows


def test_a_worker_killed_mid_delivery_loses_and_doubles_nothing(sqlite_settings, tmp_path) -> None:
    engine = make_engine(sqlite_settings)
    sessions = make_sessionmaker(engine)
    scene = make_scene(sessions)
    log = tmp_path / "worker.log"
    with webhook_receiver(stall_first=True) as receiver:
        channel = add(sessions, scene.org_id, "webhook", receiver.url)
        receiver.secret = channel.secret or ""
        now = utcnow() - timedelta(seconds=1)
        for alert_id in [scene.alert_id, *_more_alerts(sessions, scene.org_id, 2)]:
            queue(sessions, alert_id, channel.id, now)
        with _running(_worker(tmp_path, log)) as first:
            assert receiver.stalled.wait(20), log.read_text()
            first.send_signal(signal.SIGKILL)  # mid-request: sent, answer never read
            first.wait(10)
        assert any(row.locked_until for row in _deliveries(sessions))  # a lease left behind
        with _running(_worker(tmp_path, log)) as second:
            done = wait_until(
                lambda: all(row.status == "delivered" for row in _deliveries(sessions)), 20
            )
            assert done, log.read_text()
            second.send_signal(signal.SIGTERM)
            assert second.wait(10) == 0, log.read_text()  # stops cleanly on SIGTERM
    rows = _deliveries(sessions)
    keys = {row.idempotency_key for row in rows}
    assert len(rows) == 3
    assert all(row.locked_until is None for row in rows)
    assert all(request.verified for request in receiver.requests)
    assert set(receiver.accepted) == keys
    assert set(receiver.accepted.values()) == {1}  # each accepted exactly once
    # The stalled one came again with the same key (so may others whose answers the first
    # worker got but had no time to record before it was killed).
    stalled_key = receiver.requests[0].headers["idempotency-key"]
    assert receiver.seen[stalled_key] == 2
    assert set(receiver.seen.values()) <= {1, 2}
    engine.dispose()


def test_once_does_one_pass_and_exits(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chinhhang", "alerts", "worker", "--once"],
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 outbox rows grouped, 0 deliveries attempted"
