"""CPU per request of the scan routes without HTTP: the app called as ASGI in this process.

Usage: python bench/inprocess.py [--requests 20000] [--concurrency 32] [--rounds 2] [--postgres]

wrk's figures (bench/scale.py) mix the app's CPU with uvicorn's, the kernel's and wrk's own,
all on the same two cores. This script calls the benchmark app (bench_app.py: the real app's
middleware and routes, plus the no-op) from `--concurrency` tasks on one event loop and reads
this process's CPU time, so each figure is what the app's Python, psycopg and the kernel's
side of its database round trips spend per request:

- the raw no-op route, the genuine dynamic scan (each counted and committed through the scan
  writer; 20,000 stamps allowing 10^6 scans each) and a forged code (refused by its tag);
- with `--postgres`, also the CPU of one round trip to the database: through raw libpq,
  psycopg, psycopg's asynchronous connection, and a transaction (BEGIN, statement, COMMIT:
  the three round trips each batch of the scan writer makes).

CPU time depends less than requests per second on what else the machine is doing, but it is
not immune (caches, the VM's neighbours): the medians of `--rounds`, and compare figures of
one run. The genuine round also prints the mean batch of the scan writer (scans per COMMIT),
read from the `chinhhang_scan_batch_size` histogram.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

import psycopg  # noqa: E402
import uvloop  # noqa: E402
from starlette.types import ASGIApp, Message, Scope  # noqa: E402

from bench_app import create_bench_app  # noqa: E402
from chinhhang.observability.metrics import batch_totals  # noqa: E402
from common import FORGED, PHONE, env_for, fresh_dir, fresh_postgres, machine  # noqa: E402
from scan_throughput import prepare  # noqa: E402

# Each route's name in the report and what it must answer: anything else (a 429 from the
# guessing watch, a 503) would be measured as if it were the route's work.
ROUTES = {
    "noop": ("no-op (raw ASGI)", 200),
    "genuine": ("genuine scan", 200),
    "forged": ("forged code", 404),
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def scope(path: str, state: dict[str, Any]) -> Scope:
    """An HTTP GET as uvicorn would hand it over, from a phone on loopback (with its own copy
    of the lifespan state, as uvicorn gives each request)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"user-agent", PHONE.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": dict(state),
    }


async def call(app: ASGIApp, path: str, state: dict[str, Any]) -> int:
    """One request; its status."""
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope(path, state), receive, send)
    return status


async def cpu_per_request(
    app: ASGIApp, route: str, paths: list[str], concurrency: int, state: dict[str, Any]
) -> float:
    """µs of this process's CPU per request, `concurrency` requests in flight."""
    pending = iter(paths)
    statuses: list[int] = []

    async def client() -> None:
        for path in pending:
            statuses.append(await call(app, path, state))

    before = cpu_seconds()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    spent = cpu_seconds() - before
    expected = ROUTES[route][1]
    wrong = [status for status in statuses if status != expected]
    if wrong:
        raise SystemExit(f"{route}: {len(wrong)} answers were not {expected}: {wrong[:5]}")
    return spent / len(paths) * 1e6


async def routes(codes: list[str], args: argparse.Namespace) -> tuple[dict[str, float], float]:
    """Median CPU per request of each route, and the genuine rounds' mean batch."""
    app: ASGIApp = create_bench_app()
    lifespan_messages: asyncio.Queue[Message] = asyncio.Queue()
    await lifespan_messages.put({"type": "lifespan.startup"})
    started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    state: dict[str, Any] = {}

    async def lifespan_send(message: Message) -> None:
        if message["type"].startswith("lifespan.startup") and not started.done():
            started.set_result(message["type"] + " " + message.get("message", ""))

    async def run_lifespan() -> None:
        lifespan_scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
        await app(lifespan_scope, lifespan_messages.get, lifespan_send)

    lifespan = asyncio.create_task(run_lifespan())
    answer = await started
    if not answer.startswith("lifespan.startup.complete"):
        raise SystemExit(f"the app did not start: {answer}")
    count = args.requests
    paths: dict[str, Callable[[], list[str]]] = {
        "noop": lambda: ["/_noop"] * count,
        "genuine": lambda: [f"/v/{random.choice(codes)}" for _ in range(count)],
        "forged": lambda: [f"/v/{FORGED}"] * count,
    }
    measured: dict[str, list[float]] = {route: [] for route in ROUTES}
    # Only genuine scans are written, so the whole run's batches are the genuine rounds'.
    before = batch_totals()
    try:
        await cpu_per_request(app, "noop", ["/_noop"] * 1000, args.concurrency, state)
        for _ in range(args.rounds):
            for route, made in paths.items():
                spent = await cpu_per_request(app, route, made(), args.concurrency, state)
                measured[route].append(spent)
        committed, scans = (now - then for now, then in zip(batch_totals(), before, strict=True))
    finally:
        await lifespan_messages.put({"type": "lifespan.shutdown"})
        await lifespan
    medians = {route: statistics.median(values) for route, values in measured.items()}
    return medians, scans / committed if committed else 0.0


async def round_trips(url: str, count: int) -> dict[str, float]:
    """µs of CPU per round trip to PostgreSQL, by way of sending it."""
    spent: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as connection:
        raw = connection.pgconn
        before = cpu_seconds()
        for _ in range(count):
            raw.send_query_params(b"SELECT $1::int", [b"1"])
            while raw.get_result() is not None:
                pass
        spent["raw libpq, blocking"] = cpu_seconds() - before
        before = cpu_seconds()
        for _ in range(count):
            connection.execute("SELECT %s::int", (1,)).fetchall()
        spent["psycopg"] = cpu_seconds() - before
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        before = cpu_seconds()
        for _ in range(count):
            await (await connection.execute("SELECT %s::int", (1,))).fetchall()
        spent["psycopg, asynchronous"] = cpu_seconds() - before
    async with await psycopg.AsyncConnection.connect(url) as connection:
        before = cpu_seconds()
        for _ in range(count):
            await (await connection.execute("SELECT %s::int", (1,))).fetchall()
            await connection.commit()
        spent["psycopg, asynchronous: BEGIN, statement, COMMIT"] = cpu_seconds() - before
    return {way: seconds / count * 1e6 for way, seconds in spent.items()}


def report(label: str, database_url: str | None, args: argparse.Namespace) -> None:
    data_dir = fresh_dir()
    codes = prepare(data_dir, database_url)
    os.environ.update(env_for(data_dir, database_url))
    if database_url is None:
        os.environ.pop("CHINHHANG_DATABASE_URL", None)
    if database_url:  # first: the app's threads would be counted with them afterwards
        trips = uvloop.run(round_trips(database_url, args.requests // 5))
        print(f"\nCPU per round trip to PostgreSQL ({args.requests // 5:,} each)")
        for way, micros in trips.items():
            print(f"{way:<52}{micros:>8.1f} µs")
    figures, mean_batch = uvloop.run(routes(codes, args))
    print(
        f"\n{label}: {args.requests:,} requests per route and round, "
        f"{args.concurrency} at once, medians of {args.rounds} rounds"
    )
    print(f"{'route':<20}{'CPU µs per request':>20}{'ratio to no-op':>16}")
    for route, (name, _) in ROUTES.items():
        print(f"{name:<20}{figures[route]:>20.1f}{figures['noop'] / figures[route]:>16.2f}")
    print(f"genuine rounds: {mean_batch:.1f} scans per COMMIT of the scan writer, on average")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="per route and round")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    if args.requests < 100 or args.concurrency < 1 or args.rounds < 1:
        parser.error("--requests must be at least 100, --concurrency and --rounds at least 1")
    print(f"In-process ASGI calls, uvloop; {machine()}")
    if args.postgres:
        url = fresh_postgres()
        if url is None:
            raise SystemExit("PostgreSQL is not reachable")
        report("PostgreSQL", url, args)
    else:
        report("SQLite (WAL)", None, args)


if __name__ == "__main__":
    main()
