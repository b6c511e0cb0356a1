"""The market-control dashboard at scale: raw GROUP BY over the rows against the rollups.

Usage: python bench/dashboard.py [--scans 10000000] [--stamps 10000000] [--repeat 3]

Builds a fresh PostgreSQL database: 20 manufacturers with 25 products each and a regulator;
one run per manufacturer (the stamps in total), 80 % of each run activated in 25 chunks (one
per product, each on its own day), 1 % of those voided, with their life-cycle events; the
scan events over the last 365 days in the order of their ids, as scans arrive (10 % static
product codes; dynamic: 90 % genuine, 5 % over limit, 2 % not activated, 1 % void, 2 %
unknown codes; popular products scanned more; a province for 15 %). Rows are written with
`generate_series` (foreign keys are not checked while loading: scans name no stamp code,
which no figure reads). `--database URL` measures a database an earlier run built.

Then: the raw figures (the dashboard's scan and stamp tables as plain GROUP BYs over
`scan_events` and `stamps`, as before the rollups), the rollup worker's fold of everything
(timed), and the dashboard service call on the rollups for the default filters and a few
filtered ones; each time is the best of --repeat runs. The figures of both are compared.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from chinhhang.accounts.actor import Actor  # noqa: E402
from chinhhang.accounts.services import create_organization  # noqa: E402
from chinhhang.catalog.services import create_product  # noqa: E402
from chinhhang.config import Settings  # noqa: E402
from chinhhang.db import (  # noqa: E402
    make_engine,
    make_read_sessionmaker,
    make_sessionmaker,
    session_scope,
    upgrade_database,
)
from chinhhang.localtime import local_day, vietnam_today  # noqa: E402
from chinhhang.provinces import all_provinces  # noqa: E402
from chinhhang.regulator.filters import Filters  # noqa: E402
from chinhhang.regulator.rollups import catch_up  # noqa: E402
from chinhhang.regulator.services import dashboard  # noqa: E402
from chinhhang.scans.models import ScanEvent  # noqa: E402
from chinhhang.stamps.models import Stamp  # noqa: E402
from chinhhang.stamps.services import create_run  # noqa: E402
from common import fresh_dir, fresh_postgres, machine  # noqa: E402

SECRET = "bench-secret-" + "b" * 40
ORGS, PRODUCTS = 20, 25
SUSPICIOUS = ("over_limit", "not_activated", "void")
OVERSEER = Actor(org_id=None, role=None, platform_admin=True)


def build(settings: Settings, scans: int, stamps: int) -> dict[str, Any]:
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        orgs = []
        for i in range(ORGS):
            org = create_organization(session, name=f"Nhà sản xuất {i}", kind="manufacturer")
            for j in range(PRODUCTS):
                create_product(session, Actor.command_line(org.id), name=f"Sản phẩm {i}-{j}")
            create_run(session, Actor.command_line(org.id), quantity=stamps // ORGS)
            orgs.append(org.id)
        create_organization(session, name="Quản lý thị trường", kind="regulator")
    chunk = stamps // ORGS * 8 // 10 // PRODUCTS
    provinces = [code for code, _ in all_provinces()]
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET session_replication_role = replica"))  # no FK checks
        conn.execute(
            text(
                """
CREATE TEMP TABLE chunks AS
SELECT r.id AS run_id, r.org_id, p.id AS product_id, p.k,
       r.first_sequence + p.k * :chunk AS first, r.first_sequence + (p.k + 1) * :chunk - 1 AS last,
       now() - ((p.k * 37 + r.org_id * 11) % 360 + 1) * interval '1 day' AS at
FROM stamp_runs r
JOIN (SELECT id, org_id, row_number() OVER (PARTITION BY org_id ORDER BY id) - 1 AS k
      FROM products) p ON p.org_id = r.org_id"""
            ),
            {"chunk": chunk},
        )
        conn.execute(
            text(
                """
INSERT INTO stamps (code, org_id, run_id, sequence, status, product_id, scan_limit, scan_count,
                    activated_at, voided_at)
SELECT 'B' || lpad(r.org_id::text, 4, '0') || lpad(s.seq::text, 16, '0'), r.org_id, r.id, s.seq,
       CASE WHEN c.k IS NULL THEN 'issued' WHEN s.seq - c.first < :void THEN 'void'
            ELSE 'active' END,
       c.product_id, 1, 0, c.at,
       CASE WHEN s.seq - c.first < :void THEN c.at + interval '3 days' END
FROM stamp_runs r
CROSS JOIN LATERAL generate_series(r.first_sequence, r.first_sequence + r.quantity - 1) s(seq)
LEFT JOIN chunks c ON c.run_id = r.id AND s.seq BETWEEN c.first AND c.last"""
            ),
            {"void": max(chunk // 100, 1)},
        )
        conn.execute(text("UPDATE stamp_runs SET filled = quantity, status = 'ready'"))
        conn.execute(
            text(
                """
INSERT INTO stamp_events (at, action, org_id, issuer_org_id, first_sequence, last_sequence,
                          quantity, run_id, product_id)
SELECT at, 'activating', org_id, org_id, first, last, last - first + 1, run_id, product_id
FROM chunks
UNION ALL
SELECT at + interval '3 days', 'voiding', org_id, org_id, first, first + :void - 1, :void,
       run_id, NULL
FROM chunks ORDER BY 1"""
            ),
            {"void": max(chunk // 100, 1)},
        )
    stamps_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET session_replication_role = replica"))
        conn.execute(
            text(
                """
CREATE TEMP TABLE ranked AS
SELECT id, org_id, row_number() OVER (ORDER BY id) AS rn FROM products"""
            )
        )
        conn.execute(
            text(
                f"""
INSERT INTO scan_events (kind, outcome, product_id, org_id, scan_number, scanned_at,
                         client_net, province_code)
SELECT CASE WHEN g.r1 < 0.1 THEN 'static' ELSE 'dynamic' END,
       CASE WHEN g.r1 < 0.1 THEN 'product' WHEN g.r2 < 0.90 THEN 'genuine'
            WHEN g.r2 < 0.95 THEN 'over_limit' WHEN g.r2 < 0.97 THEN 'not_activated'
            WHEN g.r2 < 0.98 THEN 'void' ELSE 'unknown' END,
       CASE WHEN g.r1 >= 0.1 AND g.r2 >= 0.95 THEN NULL ELSE p.id END,
       CASE WHEN g.r1 >= 0.1 AND g.r2 >= 0.98 THEN NULL ELSE p.org_id END,
       1, now() - (1 - g.i::float / :scans) * interval '365 days' - g.r4 * interval '1 hour',
       '203.0.113.0/24',
       CASE WHEN g.r3 < 0.15 THEN (ARRAY{provinces})[1 + floor(g.r3 / 0.15 * {len(provinces)})::int]
       END
FROM (SELECT i, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
             1 + floor(:products * power(random(), 2))::int AS rn
      FROM generate_series(1, :scans) i) g
JOIN ranked p ON p.rn = g.rn"""
            ),
            {"scans": scans, "products": ORGS * PRODUCTS},
        )
    scans_seconds = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return {"orgs": orgs, "stamps_s": stamps_seconds, "scans_s": scans_seconds}


def raw_figures(session: Session, filters: Filters) -> dict[str, Any]:
    """The scan and stamp tables as before the rollups: GROUP BY over the rows."""
    period = [ScanEvent.scanned_at >= filters.since, ScanEvent.scanned_at < filters.until]
    if filters.province is not None:
        period.append(ScanEvent.province_code == filters.province)
    if filters.product_id is not None:
        period.append(ScanEvent.product_id == filters.product_id)
    if filters.org_id is not None:
        period.append(ScanEvent.org_id == filters.org_id)
    day = local_day(ScanEvent.scanned_at)
    suspicious = [ScanEvent.outcome.in_(SUSPICIOUS), *period]
    by = [func.count().filter(ScanEvent.outcome == o) for o in SUSPICIOUS]
    tables: dict[str, Any] = {
        "scans_per_day": select(day, ScanEvent.kind, func.count()).where(*period),
        "suspicious_per_day": select(day, *by).where(*suspicious).group_by(day),
        "by_province": select(ScanEvent.province_code, *by).where(*suspicious),
        "by_product": select(ScanEvent.org_id, ScanEvent.product_id, *by).where(*suspicious),
        "by_org": select(ScanEvent.org_id, *by).where(*suspicious),
    }
    tables["scans_per_day"] = tables["scans_per_day"].group_by(day, ScanEvent.kind)
    tables["by_province"] = tables["by_province"].group_by(ScanEvent.province_code)
    tables["by_product"] = tables["by_product"].group_by(ScanEvent.org_id, ScanEvent.product_id)
    tables["by_org"] = tables["by_org"].group_by(ScanEvent.org_id)
    stamp_conditions = []
    if filters.org_id is not None:
        stamp_conditions.append(Stamp.org_id == filters.org_id)
    if filters.product_id is not None:
        stamp_conditions.append(Stamp.product_id == filters.product_id)
    in_period = (Stamp.activated_at >= filters.since) & (Stamp.activated_at < filters.until)
    tables["stamps"] = (
        select(
            Stamp.org_id,
            func.count(),
            func.count().filter(Stamp.activated_at.is_not(None)),
            func.count().filter(in_period),
            func.count().filter(Stamp.status == "void"),
        )
        .where(*stamp_conditions)
        .group_by(Stamp.org_id)
    )
    return {name: session.execute(query).all() for name, query in tables.items()}


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def totals_of_raw(raw: dict[str, Any]) -> dict[str, int]:
    return {
        "scans": sum(row[2] for row in raw["scans_per_day"]),
        "suspicious": sum(sum(row[1:]) for row in raw["suspicious_per_day"]),
        "stamps_issued": sum(row[1] for row in raw["stamps"]),
        "stamps_activated": sum(row[2] for row in raw["stamps"]),
        "stamps_activated_in_period": sum(row[3] for row in raw["stamps"]),
        "stamps_void": sum(row[4] for row in raw["stamps"]),
    }


def totals_of_dashboard(totals: dict[str, int]) -> dict[str, int]:
    return {
        "scans": totals["scans"],
        "suspicious": totals["suspicious_scans"],
        "stamps_issued": totals["stamps_issued"],
        "stamps_activated": totals["stamps_activated"],
        "stamps_activated_in_period": totals["stamps_activated_in_period"],
        "stamps_void": totals["stamps_void"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=10_000_000)
    parser.add_argument("--stamps", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--database", help="measure this database, built by an earlier run, instead of a new one"
    )
    args = parser.parse_args()
    url = args.database or fresh_postgres()
    if url is None:
        sys.exit("PostgreSQL is needed")
    settings = Settings(data_dir=fresh_dir(), database_url=url, secret_key=SECRET)
    print(f"# dashboard at scale — {machine()}")
    if args.database is None:
        upgrade_database(settings)
        built = build(settings, args.scans, args.stamps)
        print(f"loaded {args.stamps:,} stamps in {built['stamps_s']:.0f} s, "
              f"{args.scans:,} scan events in {built['scans_s']:.0f} s")  # fmt: skip
    engine = make_engine(settings)
    with engine.connect() as conn:
        orgs = conn.execute(text("SELECT id FROM organizations WHERE kind = 'manufacturer'"))
        built = {"orgs": sorted(row[0] for row in orgs)}
    reads = make_read_sessionmaker(engine)
    today = vietnam_today()
    org, product = built["orgs"][0], None
    with reads() as session:
        product = session.scalar(text("SELECT min(id) FROM products WHERE org_id = :o"), {"o": org})
    cases = {
        "default (30 days, all)": Filters(today - timedelta(days=29), today),
        "365 days, all": Filters(today - timedelta(days=364), today),
        "30 days, Hà Nội": Filters(today - timedelta(days=29), today, province=1),
        "30 days, one org": Filters(today - timedelta(days=29), today, org_id=org),
        "365 days, one product": Filters(today - timedelta(days=364), today, product_id=product),
    }
    raw: dict[str, tuple[float, Any]] = {}
    for name, filters in cases.items():
        with reads() as session:
            raw[name] = best(args.repeat, lambda f=filters, s=session: raw_figures(s, f))
    started = time.perf_counter()
    folded = catch_up(make_sessionmaker(engine), settings)
    fold_seconds = time.perf_counter() - started
    print(f"rollup fold: {folded['scan_events']:,} scan events, {folded['stamp_events']:,} stamp "
          f"events in {fold_seconds:.1f} s")  # fmt: skip
    with reads() as session:
        sizes = session.execute(
            text("SELECT (SELECT count(*) FROM scan_rollups), (SELECT count(*) FROM stamp_rollups)")
        ).one()
    print(f"rollup rows: {sizes[0]:,} scan, {sizes[1]:,} stamp")
    print()
    print("| filters | raw GROUP BY (s) | dashboard() on rollups (s) | same totals |")
    print("| --- | ---: | ---: | --- |")
    for name, filters in cases.items():
        with reads() as session:
            seconds, board = best(
                args.repeat, lambda f=filters, s=session: dashboard(s, OVERSEER, f)
            )
        same = totals_of_raw(raw[name][1]) == totals_of_dashboard(board.totals)
        print(f"| {name} | {raw[name][0]:.3f} | {seconds:.3f} | {'yes' if same else 'NO'} |")
    engine.dispose()


if __name__ == "__main__":
    main()
