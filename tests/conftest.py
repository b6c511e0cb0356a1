"""Shared fixtures: a fresh database built by the migrations, on SQLite and on real PostgreSQL.

PostgreSQL tests use the server at CHINHHANG_TEST_POSTGRES_URL (default: the local `test`
database with trust auth). Each test session creates its own database there and drops it at
the end. With CI=true a missing server fails the run; elsewhere those tests skip with a reason.
The migrations run once per session and per database; each test gets a copy of the result.

`make test` runs the suite on two pytest-xdist workers (processes). Each worker is a session
of its own: its own PostgreSQL databases (named after the worker, dropped at its end), its own
temporary folders, and its own slice of loopback ports for the servers tests start
(`free_port`). The browser tests keep to one worker (tests/browser/conftest.py).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts import passwords
from chinhhang.config import Settings
from chinhhang.db import make_engine, make_sessionmaker, upgrade_database
from chinhhang.printing.fonts import font_path
from chinhhang.web import create_app

POSTGRES_ADMIN_URL = os.environ.get(
    "CHINHHANG_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_SECRET = "test-secret-" + "k" * 40
# The SQLite database's file name in a data folder (config.Settings.sqlalchemy_url).
DATABASE_FILE = "chinhhang.db"
# This process's pytest-xdist worker ("gw0", "gw1", …), or "" when the suite runs serially.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# Ports for test servers start here and end below the kernel's ephemeral range.
FIRST_TEST_PORT = 20000


def _ephemeral_ports_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free loopback port for a server a test starts, from this worker's own slice of the
    ports below the kernel's ephemeral range. A port the kernel hands out (bind to port 0) is
    picked again for the other worker's servers and for every outgoing connection, such as the
    100 phones of test_concurrency, in the seconds before our server binds it; the slices make
    that impossible. The pick in a slice is random: other test runs on the machine pick too."""
    end = _ephemeral_ports_start()
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    span = (end - FIRST_TEST_PORT) // max(workers, 1)
    if span < 100:  # an unusual ephemeral range: let the kernel choose
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    index = int("".join(filter(str.isdigit, WORKER)) or 0) % max(workers, 1)
    first = FIRST_TEST_PORT + index * span
    for _ in range(500):
        port = first + secrets.randbelow(span)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # in use, or still in TIME_WAIT
                continue
            return port
    raise RuntimeError(f"no free loopback port in {first}-{first + span - 1}")


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashing() -> Iterator[None]:
    """argon2id with its smallest cost in this process: the production parameters (64 MiB,
    3 passes) cost ~50 ms a hash by design, and hundreds of test accounts would spend minutes
    on it. Same algorithm and code path; `test_passwords` checks the production parameters,
    and the CLI tests (subprocesses) hash with them for real."""
    saved = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    passwords._hasher = saved


@pytest.fixture
def label_font() -> None:
    """PDF labels need a Unicode font (`make test` installs Debian's DejaVu Sans). A missing
    font fails the run in CI and skips PDF tests on a laptop, saying how to get one."""
    if font_path() is None:
        message = "no label font: install fonts-dejavu-core or set CHINHHANG_LABEL_FONT"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def _admin_engine() -> Engine:
    url = POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A new, empty database on the real server for this test session (for this worker,
    under pytest-xdist: its name carries the worker's, and no other worker touches it)."""
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # no server: a failure in CI, a skip on a laptop
        admin.dispose()
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = f"chinhhang_test_{WORKER + '_' if WORKER else ''}{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def serve_command(port: int | str, *options: str) -> list[str]:
    """`chinhhang serve` on loopback `port`, with `options` (`--workers 2`, say)."""
    return [sys.executable, "-m", "chinhhang", "serve", "--port", str(port), *options]


def cli_env(data_dir: Path, *, secret: bool = True, **extra: str) -> dict[str, str]:
    """The environment for running `chinhhang` in a subprocess on `data_dir`'s SQLite."""
    env = {**os.environ, "CHINHHANG_DATA_DIR": str(data_dir)}
    env.pop("CHINHHANG_DATABASE_URL", None)
    env.pop("CHINHHANG_SECRET_KEY", None)
    if secret:
        env["CHINHHANG_SECRET_KEY"] = TEST_SECRET
    return {**env, **extra}


def make_settings(data_dir: Path, database_url: str | None = None, **extra: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "base_url": "http://testserver",
        # The alert worker's thread only where a test starts it (tests/functional/test_alert_*).
        "alert_worker": False,
        # Likewise the dashboard's rollup worker (tests/functional/test_regulator_rollups.py).
        "rollup_worker": False,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def _reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database built by the migrations, copied for each test: running the
    migrations per test cost ~0.1 s, a copy ~1 ms (the copy is the same file, byte for byte;
    tests/unit/test_migrations.py still runs them, down and up, on its own copy)."""
    folder = tmp_path_factory.mktemp("migrated-sqlite")
    upgrade_database(make_settings(folder))  # disposes its engine: the WAL is folded in
    return folder / DATABASE_FILE


@pytest.fixture(scope="session")
def _postgres_migrated(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database built by the migrations once, cloned for each test (CREATE DATABASE …
    TEMPLATE: ~0.14 s against ~0.25 s to rebuild the schema)."""
    template = f"{postgres_url.rsplit('/', 1)[1]}_migrated"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{template}"'))
    base = postgres_url.rsplit("/", 1)[0]
    upgrade_database(make_settings(tmp_path_factory.mktemp("pg"), f"{base}/{template}"))
    try:
        yield template
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()


def _clone_postgres(template: str, url: str) -> None:
    """The session's test database, replaced by a fresh copy of the migrated one."""
    name = url.rsplit("/", 1)[1]
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a freshly migrated database; every test runs on both databases."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        _clone_postgres(request.getfixturevalue("_postgres_migrated"), url)
        return make_settings(tmp_path, url)
    shutil.copyfile(request.getfixturevalue("_sqlite_migrated"), tmp_path / DATABASE_FILE)
    return make_settings(tmp_path)


@pytest.fixture
def sqlite_settings(tmp_path: Path, _sqlite_migrated: Path) -> Settings:
    shutil.copyfile(_sqlite_migrated, tmp_path / DATABASE_FILE)
    return make_settings(tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session
        session.rollback()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app, headers={"User-Agent": PHONE}) as test_client:
        yield test_client


PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
)
