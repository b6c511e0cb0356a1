"""The scan limit is exact under concurrency (SPEC section 2), on SQLite and PostgreSQL.

Through the real HTTP stack: a uvicorn server with two worker processes sharing the database,
hit by 100 simultaneous clients with no cookies (100 different phones). And at the service
level: 100 threads, each with its own connection, released together by a barrier.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from chinhhang.catalog.models import Product
from chinhhang.config import Settings
from chinhhang.db import make_engine, make_sessionmaker, upgrade_database, utcnow
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.sql import ScanContext
from chinhhang.scans.store import ScanStore
from chinhhang.stamps.models import Stamp
from tests.conftest import (
    PHONE,
    TEST_SECRET,
    _reset_postgres,
    free_port,
    make_settings,
    serve_command,
)
from tests.factories import make_run

PHONES = 100


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "CHINHHANG_DATA_DIR": str(settings.data_dir),
        "CHINHHANG_DATABASE_URL": settings.database_url or "",
        "CHINHHANG_SECRET_KEY": TEST_SECRET,
        "CHINHHANG_SCAN_RATE_LIMIT": "0",
        # The resolver's redirects name pages under the base URL: this server's.
        "CHINHHANG_BASE_URL": f"http://127.0.0.1:{port}",
    }
    if not settings.database_url:
        env.pop("CHINHHANG_DATABASE_URL")
    log_path = settings.data_dir / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        serve_command(port, "--workers", "2"),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # two uvicorn workers starting on a busy machine
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server did not start: {log_path.read_text()}")
        time.sleep(1.0)  # let the second worker come up too
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


async def _phones(url: str) -> list[str]:
    async def one_phone() -> str:
        async with httpx.AsyncClient(timeout=60) as phone:
            response = await phone.get(url, headers={"Accept": "application/json"})
            return str(response.json()["outcome"])

    return list(await asyncio.gather(*(one_phone() for _ in range(PHONES))))


@pytest.mark.parametrize("limit", [1, 3])
def test_hundred_phones_over_http_see_exactly_limit_genuine(
    live_server: str, settings, engine, sessions, limit: int
) -> None:
    run = make_run(settings, engine, sessions, quantity=1, scan_limit=limit)
    outcomes = Counter(asyncio.run(_phones(f"{live_server}/v/{run.codes[0]}")))
    assert outcomes == {"genuine": limit, "over_limit": PHONES - limit}
    with Session(engine) as session:
        assert session.scalar(select(Stamp.scan_count).where(Stamp.code == run.codes[0])) == limit
        genuine_events = session.scalars(
            select(ScanEvent.scan_number).where(
                ScanEvent.stamp_code == run.codes[0], ScanEvent.outcome == "genuine"
            )
        ).all()
    assert sorted(genuine_events) == list(range(1, limit + 1))


@pytest.mark.parametrize("limit", [1, 3])
def test_hundred_threads_each_with_a_connection(settings, engine, sessions, limit: int) -> None:
    run = make_run(settings, engine, sessions, quantity=1, scan_limit=limit)
    barrier = threading.Barrier(PHONES)
    outcomes: list[str] = []
    lock = threading.Lock()

    def phone() -> None:
        store = ScanStore(engine)  # its own connection on SQLite, a pooled one on PostgreSQL
        barrier.wait()
        result = store.consume(run.codes[0], utcnow(), ScanContext(None, "test"))
        store.close()
        assert result is not None
        with lock:
            outcomes.append(result[0])

    threads = [threading.Thread(target=phone) for _ in range(PHONES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(outcomes) == {"genuine": limit, "over_limit": PHONES - limit}


def restart_connections(postgres_url: str) -> None:
    """What a PostgreSQL restart does to clients: every connection to the database dies."""
    killer = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with killer.begin() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    killer.dispose()


@pytest.mark.postgres
def test_a_dead_pooled_connection_does_not_lose_a_scan(postgres_url, tmp_path) -> None:
    """The server dropped the store's idle connections (restart, failover): the next scan
    still counts, on a fresh connection, and nothing is counted twice."""
    _reset_postgres(postgres_url)
    settings = make_settings(tmp_path, postgres_url)
    upgrade_database(settings)
    engine = make_engine(settings)
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=2, scan_limit=1)
    store = ScanStore(make_engine(settings, pool_pre_ping=False))
    assert store.consume(run.codes[0], utcnow(), ScanContext(None, "t"))[0] == "genuine"
    restart_connections(postgres_url)
    result = store.consume(run.codes[1], utcnow(), ScanContext(None, "t"))
    assert result is not None
    assert result[0] == "genuine"
    assert result[1].scan_count == 1
    store.close()
    store.engine.dispose()
    engine.dispose()


async def _mixed_load(base: str, codes: list[str], gtin: str) -> list[int]:
    # The static code's resolver redirects (307) to the product page: followed, as a phone does.
    async with httpx.AsyncClient(
        timeout=60, headers={"User-Agent": PHONE}, follow_redirects=True
    ) as browser:
        requests = [browser.get(f"{base}/01/{gtin}") for _ in range(40)]
        requests += [browser.get(f"{base}/v/{code}") for code in codes]
        return [r.status_code for r in await asyncio.gather(*requests)]


def test_product_pages_and_scans_together_never_fail(
    live_server: str, settings, engine, sessions
) -> None:
    """Page views (ORM sessions) and scans (the writer) at once: no lock-up, no error page."""
    run = make_run(settings, engine, sessions, quantity=80, scan_limit=1)
    with Session(engine) as session:
        gtin = session.get(Product, run.product_id).gtin
    statuses = asyncio.run(_mixed_load(live_server, run.codes, str(gtin)))
    assert statuses == [200] * 120
    with Session(engine) as session:
        counted = session.scalar(
            select(func.sum(Stamp.scan_count)).where(Stamp.run_id == run.run_id)
        )
    assert counted == 80


@pytest.mark.postgres
def test_after_a_server_restart_the_whole_pool_is_replaced(postgres_url, tmp_path) -> None:
    """Every idle pooled connection died: the next scans count, none is lost or doubled."""
    _reset_postgres(postgres_url)
    settings = make_settings(tmp_path, postgres_url)
    upgrade_database(settings)
    engine = make_engine(settings)
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=6, scan_limit=1)
    store = ScanStore(make_engine(settings, pool_pre_ping=False, pool_size=5, max_overflow=0))
    with ThreadPoolExecutor(5) as pool:  # fill the pool with five idle connections
        list(
            pool.map(
                lambda code: store.consume(code, utcnow(), ScanContext(None, "t")), run.codes[:5]
            )
        )
    restart_connections(postgres_url)
    result = store.consume(run.codes[5], utcnow(), ScanContext(None, "t"))
    assert result is not None
    assert result[0] == "genuine"
    again = store.consume(run.codes[5], utcnow(), ScanContext(None, "t"))
    assert again is not None
    assert again[0] == "over_limit"
    assert store.peek(run.codes[0]) is not None
    store.engine.dispose()
    engine.dispose()
