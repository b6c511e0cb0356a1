"""Scans as the table and the load grow: throughput, latency and memory, against a no-op route.

Usage: python bench/scale.py [--sizes 1000000,10000000] [--databases postgres,sqlite]
                             [--workers 1,2] [--seconds 5] [--rounds 3] [--markdown FILE]

For each database kind, one fresh database per size is filled: runs of stamps are issued
(`fill_run`, what `chinhhang stamps issue` does) and activated up to the size. Then, for each
number of workers, one server per size runs at once and wrk (64 connections, one thread,
loopback) measures them in interleaved rounds (size A's routes, size B's, then A's again…),
medians, so that the sizes are compared under the same machine speed. The codes scanned are
20,000 drawn at random from every active stamp, so lookups land all over the table and its
index. For each size:

- the raw no-op route of the same server (bench/bench_app.py): the ceiling of the stack;
- genuine dynamic scans (each one counted and committed: every stamp allows 10^6 scans),
  after a 3-second warm-up that is not counted (the other sizes' rounds share PostgreSQL's
  buffers);
- forged codes (refused by the HMAC tag, no database);
- a mixed load: 70 % static product pages (`/p/{id}`, each a counted static scan), 25 %
  genuine dynamic scans, 5 % forged codes.

Memory per worker is the resident size (VmRSS) and its peak (VmHWM) of every worker process
after the rounds. A last genuine run per size gives the CPU each scan costs the app and
PostgreSQL, and how many scans each COMMIT carried (the `chinhhang_scan_batch_size`
histogram; the servers share their workers' metrics as `chinhhang serve` does).

Goals (issue "scale"): genuine on PostgreSQL with 2 workers ≥ 25 % of the no-op, p99 ≤ 100 ms
at 64 clients, the same at 10M stamps as at 1M; forged ≥ 80 % of no-op.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

from chinhhang.accounts.actor import Actor  # noqa: E402
from chinhhang.accounts.services import create_organization  # noqa: E402
from chinhhang.catalog.services import create_product  # noqa: E402
from chinhhang.config import Settings  # noqa: E402
from chinhhang.db import make_engine, make_sessionmaker, session_scope, upgrade_database  # noqa: E402
from chinhhang.stamps import services  # noqa: E402
from common import (  # noqa: E402
    FORGED,
    PHONE,
    Server,
    WrkResult,
    cpu_seconds,
    env_for,
    fresh_dir,
    fresh_postgres,
    machine,
    median_result,
    postgres_pids,
    scan_batches,
    start_server,
    worker_memory,
    worker_pids,
    wrk,
)

HOT_CODES = 20_000
CONNECTIONS = 64
SCAN_LIMIT = 1_000_000
WARM_SECONDS = 3
# One request of each kind per call, drawn with the mixed load's weights.
LUA = """
local codes = {}
for line in io.lines("%(codes)s") do codes[#codes + 1] = line end
local products = {%(products)s}
local mixed = %(mixed)s
math.randomseed(os.time())
wrk.headers["User-Agent"] = "%(phone)s"
request = function()
  local r = math.random()
  if mixed and r < 0.70 then
    return wrk.format("GET", "/p/" .. products[math.random(#products)])
  elseif mixed and r >= 0.95 then
    return wrk.format("GET", "/v/%(forged)s")
  end
  return wrk.format("GET", "/v/" .. codes[math.random(#codes)])
end
"""


@dataclass
class Row:
    database: str
    stamps: int
    workers: int
    route: str
    result: WrkResult
    noop: float


class Grower:
    """One database that grows: issue and activate stamps up to a size, sample hot codes."""

    def __init__(self, database_url: str | None) -> None:
        self.data_dir = fresh_dir()
        self.database_url = database_url
        env = env_for(self.data_dir, database_url)
        self.settings = Settings(
            data_dir=self.data_dir,
            database_url=database_url,
            secret_key=env["CHINHHANG_SECRET_KEY"],
        )
        upgrade_database(self.settings)
        self.engine: Engine = make_engine(self.settings)
        self.sessions = make_sessionmaker(self.engine)
        with session_scope(self.sessions) as session:
            org = create_organization(session, name="Bench", kind="manufacturer")
            actor = Actor.command_line(org.id)
            self.products = [
                create_product(session, actor, name=f"Sản phẩm {n}", gtin=_gtin(n)).id
                for n in range(1, 21)
            ]
            self.org_id = org.id
        self.stamps = 0
        self.issue_seconds = 0.0
        # (database, stamps, workers, app CPU µs per genuine scan, PostgreSQL CPU µs per scan,
        # scans per COMMIT of the scan writer)
        self.cpu: list[tuple[str, int, int, float, float | None, float]] = []

    def sizes(self) -> str:
        """Bytes per stamp and per scan event as stored, indexes included."""
        if self.engine.dialect.name != "postgresql":
            size = (self.data_dir / "chinhhang.db").stat().st_size
            return f"database file {size / 2**20:,.0f} MB"
        with self.engine.connect() as conn:
            stamps = conn.scalar(text("SELECT pg_total_relation_size('stamps')"))
            events = conn.scalar(text("SELECT pg_total_relation_size('scan_events')"))
            count = conn.scalar(text("SELECT count(*) FROM scan_events"))
        per_event = f", {events / count:,.0f} B per scan event" if count else ""
        return f"{stamps / self.stamps:,.0f} B per stamp{per_event} (indexes included)"

    def grow_to(self, size: int) -> None:
        started = time.perf_counter()
        while self.stamps < size:
            quantity = min(size - self.stamps, 10_000_000)
            with session_scope(self.sessions) as session:
                run = services.create_run(
                    session,
                    Actor.command_line(self.org_id),
                    quantity=quantity,
                    scan_limit=SCAN_LIMIT,
                    product_id=random.choice(self.products),
                )
            services.fill_run(self.engine, run, self.settings.keyring)
            with session_scope(self.sessions) as session:
                services.complete_run(session, run.id)
            self.stamps += quantity
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE stamps"))
                # Issuing 10M stamps leaves gigabytes of dirty buffers and WAL behind: written
                # out now, so that the scan rounds measure scans, not the issuance's aftermath
                # (a superuser's command; the benchmark's database role usually is one).
                with contextlib.suppress(DBAPIError):
                    conn.execute(text("CHECKPOINT"))
        self.issue_seconds += time.perf_counter() - started

    def hot_codes(self) -> list[str]:
        """Codes of random active stamps, drawn by serial over the whole table."""
        sequences = random.sample(range(1, self.stamps + 1), min(HOT_CODES, self.stamps))
        codes: list[str] = []
        with self.engine.connect() as conn:
            for start in range(0, len(sequences), 1000):
                part = sequences[start : start + 1000]
                codes += conn.execute(
                    text(
                        "SELECT code FROM stamps WHERE org_id = :org AND sequence IN "
                        f"({', '.join(str(s) for s in part)}) AND status = 'active'"
                    ),
                    {"org": self.org_id},
                ).scalars()
        return codes

    def close(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.data_dir, ignore_errors=True)  # SQLite at 10M is 1.5 GB


def _gtin(n: int) -> str:
    body = f"893{n:09d}"
    digits = [int(d) for d in reversed(body)]
    check = (10 - sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits)) % 10) % 10
    return body + str(check)


def _script(codes_file: Path, products: list[int], mixed: bool) -> Path:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(
        LUA
        % {
            "codes": codes_file,
            "products": ", ".join(str(p) for p in products),
            "mixed": "true" if mixed else "false",
            "phone": PHONE,
            "forged": FORGED,
        }
    )
    return script


def measure(
    label: str, growers: list[Grower], workers: int, seconds: int, rounds: int
) -> tuple[list[Row], list[list[tuple[int, int]]]]:
    """One server per size, all up at once, measured in interleaved rounds: each size's
    ratios are its medians over its own no-op's median, and a change in the machine's speed
    (this VM's varies 2x within an hour) falls on every size alike. The servers share
    PostgreSQL's buffers and the OS page cache, so each size's rounds would start cold after
    the other's; each genuine round follows WARM_SECONDS of genuine scans that are not
    counted (without them, this VM measured genuine scans at 0.19-0.21 of the no-op, with
    PostgreSQL at 133-145 µs a scan, against 0.26 and 70 µs for one size alone)."""
    servers = []
    scripts = []
    try:
        for grower in growers:
            codes_file = grower.data_dir / "codes.txt"
            codes_file.write_text("\n".join(grower.hot_codes()))
            scripts.append(
                (
                    _script(codes_file, grower.products, mixed=False),
                    _script(codes_file, grower.products, mixed=True),
                )
            )
            env = env_for(grower.data_dir, grower.database_url)
            servers.append(start_server(env, workers=workers))
        runs: list[dict[str, list[WrkResult]]] = []
        for server, (_, mixed_script) in zip(servers, scripts, strict=True):
            wrk(f"{server.base}/_noop", seconds=2, connections=CONNECTIONS)  # warm-up
            wrk(server.base, seconds=2, connections=CONNECTIONS, script=mixed_script)
            runs.append({"noop": [], "genuine": [], "forged": [], "mixed": []})
        for _ in range(rounds):
            for server, (genuine_script, mixed_script), run in zip(
                servers, scripts, runs, strict=True
            ):
                run["noop"].append(wrk(f"{server.base}/_noop", seconds, CONNECTIONS))
                # The other sizes' rounds pushed this database's pages out of PostgreSQL's
                # buffers (one server holds every size's database): scanned back in first,
                # so that the round measures a database serving its own scans.
                wrk(server.base, WARM_SECONDS, CONNECTIONS, genuine_script)
                run["genuine"].append(wrk(server.base, seconds, CONNECTIONS, genuine_script))
                run["forged"].append(wrk(f"{server.base}/v/{FORGED}", seconds, CONNECTIONS))
                run["mixed"].append(wrk(server.base, seconds, CONNECTIONS, mixed_script))
        memory = [worker_memory(server) for server in servers]
        for grower, server, (genuine_script, _) in zip(growers, servers, scripts, strict=True):
            _cost(label, grower, server, workers, seconds, genuine_script)
    finally:
        for server in servers:
            server.stop()
    rows: list[Row] = []
    for grower, run in zip(growers, runs, strict=True):
        noop = median_result(run["noop"]).requests_per_second
        rows += [
            Row(label, grower.stamps, workers, route, median_result(results), noop)
            for route, results in run.items()
        ]
    return rows, memory


def _cost(
    label: str, grower: Grower, server: Server, workers: int, seconds: int, script: Path
) -> None:
    """One more genuine run, for the CPU time each scan costs the app and the database, and
    how many scans each COMMIT carried (after a warm-up, as the rounds)."""
    wrk(server.base, WARM_SECONDS, CONNECTIONS, script)
    app_pids, database_pids = worker_pids(server), postgres_pids()
    batches_before = scan_batches(server)
    app_before, database_before = cpu_seconds(app_pids), cpu_seconds(database_pids)
    costed = wrk(server.base, seconds, CONNECTIONS, script)
    app_after, database_after = cpu_seconds(app_pids), cpu_seconds(database_pids)
    commits, written = (
        after - before for after, before in zip(scan_batches(server), batches_before, strict=True)
    )
    scans = costed.requests_per_second * seconds
    grower.cpu.append(
        (
            label,
            grower.stamps,
            workers,
            (app_after - app_before) / scans * 1e6,
            (database_after - database_before) / scans * 1e6 if grower.database_url else None,
            written / commits if commits else 0.0,
        )
    )


ROUTES = {
    "noop": "no-op (raw ASGI)",
    "genuine": "genuine scan",
    "forged": "forged code",
    "mixed": "mixed 70/25/5",
}


def markdown(rows: list[Row], memory: list[str], notes: list[str]) -> str:
    lines = [
        f"wrk -t1 -c{CONNECTIONS} on loopback, interleaved rounds, medians; {machine()}",
        "",
        "| database | stamps | workers | route | req/s | ratio to no-op | p50 ms | p99 ms |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        r = row.result
        lines.append(
            f"| {row.database} | {row.stamps:,} | {row.workers} | {ROUTES[row.route]} | "
            f"{r.requests_per_second:,.0f} | {r.requests_per_second / row.noop:.2f} | "
            f"{r.p50_ms:.1f} | {r.p99_ms:.1f} |"
        )
    lines += ["", "| database | stamps | workers | memory per worker (RSS / peak, MB) |"]
    lines += ["| --- | ---: | ---: | --- |", *memory, "", *notes]
    return "\n".join(lines) + "\n"


def _database(
    database: str, sizes: list[int], workers: list[int], args: argparse.Namespace
) -> tuple[list[Row], list[str], list[str]]:
    """One database per size, grown side by side, then every size measured together."""
    rows: list[Row] = []
    memory: list[str] = []
    notes: list[str] = []
    growers: list[Grower] = []
    label = "SQLite (WAL)" if database == "sqlite" else "PostgreSQL"
    try:
        for size in sizes:
            url = fresh_postgres() if database == "postgres" else None
            if database == "postgres" and url is None:
                return rows, memory, ["PostgreSQL was not reachable: its rows are missing."]
            grower = Grower(url)
            growers.append(grower)
            grower.grow_to(size)
            notes.append(
                f"{label}: {grower.stamps:,} stamps issued and activated in "
                f"{grower.issue_seconds:,.0f} s."
            )
            print(notes[-1], file=sys.stderr, flush=True)  # progress; the report is stdout
        for count in workers:
            measured, sizes_mb = measure(label, growers, count, args.seconds, args.rounds)
            rows += measured
            for grower, worker_sizes in zip(growers, sizes_mb, strict=True):
                memory.append(
                    f"| {label} | {grower.stamps:,} | {count} | "
                    + ", ".join(f"{rss} / {peak}" for rss, peak in worker_sizes)
                    + " |"
                )
            print(markdown(measured, memory[-len(growers) :], []), file=sys.stderr, flush=True)
        for grower in growers:
            notes.append(f"{label} at {grower.stamps:,} stamps after the scans: {grower.sizes()}.")
            for name, stamps, count, app_us, database_us, per_commit in grower.cpu:
                on_db = f", PostgreSQL {database_us:,.0f} µs" if database_us is not None else ""
                notes.append(
                    f"CPU per genuine scan, {name}, {stamps:,} stamps, {count} worker(s): "
                    f"app {app_us:,.0f} µs{on_db}; {per_commit:.1f} scans per COMMIT."
                )
    finally:
        for grower in growers:
            grower.close()
    return rows, memory, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--databases", default="postgres,sqlite")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    workers = [int(count) for count in args.workers.split(",")]
    rows: list[Row] = []
    memory: list[str] = []
    notes: list[str] = []
    for database in args.databases.split(","):
        rows_of, memory_of, notes_of = _database(database, sizes, workers, args)
        rows += rows_of
        memory += memory_of
        notes += notes_of
    report = markdown(rows, memory, notes)
    print(report)
    if args.markdown:
        args.markdown.write_text(report)


if __name__ == "__main__":
    main()
