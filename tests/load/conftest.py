"""Fixtures of the load tests: a fresh PostgreSQL database of their own for each test.

It is created on the server the `postgres_url` fixture checked (with CI=true a missing server
fails, elsewhere the tests skip with the reason), migrated, and dropped after the test.
"""

from __future__ import annotations

import fcntl
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from chinhhang.db import make_engine, upgrade_database
from tests.conftest import POSTGRES_ADMIN_URL, make_settings
from tests.load.targets import LoadDatabase

# One load test at a time on this machine, whichever pytest process (or pytest-xdist worker)
# runs it: each loads a two-worker server as hard as it can, and two at once would only
# measure each other.
LOCK_FILE = Path(tempfile.gettempdir()) / "chinhhang-load-tests.lock"
LOCK_WAIT_SECONDS = 1800


@pytest.fixture
def load_slot() -> Iterator[None]:
    with LOCK_FILE.open("a") as lock:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another load test held {LOCK_FILE} for {LOCK_WAIT_SECONDS} s")
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def load_database(postgres_url: str, tmp_path: Path) -> Iterator[LoadDatabase]:
    """A new, migrated PostgreSQL database for one load test; dropped afterwards."""
    admin = create_engine(
        POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    name = f"chinhhang_load_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{postgres_url.rsplit('/', 1)[0]}/{name}"
    settings = make_settings(tmp_path, url)
    upgrade_database(settings)
    engine = make_engine(settings)
    try:
        yield LoadDatabase(url, engine, tmp_path)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
