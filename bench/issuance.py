"""Stamp issuance rate against the raw bulk-insert rate of the same database, in one run.

Usage: python bench/issuance.py [--quantity 1000000] [--no-postgres] [--no-sqlite]

"ours" is `fill_run`: code generation (urandom + HMAC tag) and the chunked bulk insert
(executemany on SQLite, COPY on PostgreSQL), exactly what `chinhhang stamps issue` does.
"raw" inserts rows of the same shape, generated beforehand and not timed, through the same
database path in the same chunks: the ceiling of the database itself. Goal (issue "core"):
ours ≥ 50 % of raw.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from itertools import islice
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from sqlalchemy import Engine, text  # noqa: E402

from chinhhang.accounts.actor import Actor  # noqa: E402
from chinhhang.accounts.services import create_organization  # noqa: E402
from chinhhang.config import Settings  # noqa: E402
from chinhhang.db import make_engine, make_sessionmaker, session_scope, upgrade_database  # noqa: E402
from chinhhang.stamps import services  # noqa: E402
from chinhhang.stamps.models import StampRun  # noqa: E402
from chinhhang.stamps.services import runs  # noqa: E402
from common import fresh_dir, fresh_postgres, machine  # noqa: E402

SECRET = "bench-secret-" + "b" * 40


def fresh_database(database_url: str | None) -> tuple[Settings, Engine, StampRun, int]:
    settings = Settings(data_dir=fresh_dir(), database_url=database_url, secret_key=SECRET)
    upgrade_database(settings)
    engine = make_engine(settings)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE stamps, stamp_runs, organizations CASCADE"))
    with session_scope(make_sessionmaker(engine)) as session:
        org = create_organization(session, name="Bench", kind="manufacturer")
        return settings, engine, None, org.id  # type: ignore[return-value]


def new_run(engine: Engine, org_id: int, quantity: int) -> StampRun:
    with session_scope(make_sessionmaker(engine)) as session:
        return services.create_run(session, Actor.command_line(org_id), quantity=quantity)


def ours(database_url: str | None, quantity: int) -> float:
    settings, engine, _, org_id = fresh_database(database_url)
    run = new_run(engine, org_id, quantity)
    started = time.perf_counter()
    services.fill_run(engine, run, settings.keyring)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return quantity / elapsed


def raw(database_url: str | None, quantity: int) -> float:
    settings, engine, _, org_id = fresh_database(database_url)
    run = new_run(engine, org_id, quantity)
    writer = runs._copy_chunk if engine.dialect.name == "postgresql" else runs._insert_chunk
    rows = runs._stamp_rows(run, settings.keyring)
    timed = 0.0
    while chunk := list(islice(rows, runs.CHUNK)):  # generated outside the timer
        connection = engine.raw_connection()
        started = time.perf_counter()
        writer(connection, chunk)
        connection.commit()
        timed += time.perf_counter() - started
        connection.close()
    engine.dispose()
    return quantity / timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quantity", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    targets: list[tuple[str, str | None]] = [] if args.no_sqlite else [("SQLite (WAL)", None)]
    if not args.no_postgres and (url := fresh_postgres()):
        targets.append(("PostgreSQL (COPY)", url))
    print(f"Issuing {args.quantity:,} stamps per run; {machine()}")
    print(f"{'database':<20}{'ours stamps/s':>15}{'raw rows/s':>13}{'ratio':>8}")
    for label, url in targets:
        mine, ceiling = ours(url, args.quantity), raw(url, args.quantity)
        print(f"{label:<20}{mine:>15,.0f}{ceiling:>13,.0f}{mine / ceiling:>8.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this script: {peak:.0f} MB (chunks of {runs.CHUNK:,} rows)")


if __name__ == "__main__":
    main()
