"""Scan throughput and latency against a raw no-op route on the same server, in one run.

Usage: python bench/scan_throughput.py [--seconds 5] [--rounds 3] [--postgres]

Measures, with wrk on loopback (1 thread, 32 connections) against one uvicorn worker:
  - a raw Starlette no-op route (the ceiling of this server on this machine),
  - a genuine dynamic scan (one UPDATE … RETURNING + one INSERT, committed, HTML page),
  - a forged code (rejected by its HMAC tag, no database),
and prints each as a ratio of the no-op. Goals (issue "core"): genuine ≥ 35 % of no-op with
p99 ≤ 50 ms on SQLite; forged ≥ 80 % of no-op.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from tests.factories import make_run  # noqa: E402

from chinhhang.config import Settings  # noqa: E402
from chinhhang.db import make_engine, make_sessionmaker, session_scope, upgrade_database  # noqa: E402
from chinhhang.stamps.services import codes_of_run  # noqa: E402
from common import (  # noqa: E402
    FORGED,
    PHONE,
    WrkResult,
    env_for,
    fresh_dir,
    fresh_postgres,
    machine,
    median_result,
    start_server,
    wrk,
)

LUA = """
local codes = {}
for line in io.lines("%s") do codes[#codes + 1] = line end
math.randomseed(os.time())
wrk.headers["User-Agent"] = "%s"
request = function()
  return wrk.format("GET", "/v/" .. codes[math.random(#codes)])
end
"""


def prepare(data_dir: Path, database_url: str | None) -> list[str]:
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=env_for(data_dir)["CHINHHANG_SECRET_KEY"],
    )
    upgrade_database(settings)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    # A huge scan limit keeps every request genuine: each one writes.
    run = make_run(settings, engine, sessions, quantity=20_000, scan_limit=1_000_000)
    with session_scope(sessions) as session:
        codes = [code for _, code in codes_of_run(session, run.run_id)]
    engine.dispose()
    return codes


def measure(label: str, database_url: str | None, seconds: int, rounds: int) -> None:
    data_dir = fresh_dir()
    codes = prepare(data_dir, database_url)
    codes_file = data_dir / "codes.txt"
    codes_file.write_text("\n".join(codes))
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(LUA % (codes_file, PHONE))
    server = start_server(env_for(data_dir, database_url))
    runs: dict[str, list[WrkResult]] = {"noop": [], "genuine": [], "forged": []}
    try:
        wrk(f"{server.base}/_noop", seconds=2)  # warm-up
        # Interleaved rounds, medians: the machine is shared and noisy, and a slow spell
        # should hit every route alike rather than one route's only measurement.
        for _ in range(rounds):
            runs["noop"].append(wrk(f"{server.base}/_noop", seconds))
            runs["genuine"].append(wrk(server.base, seconds, script=script))
            runs["forged"].append(wrk(f"{server.base}/v/{FORGED}", seconds))
    finally:
        server.stop()
    noop, genuine, forged = (median_result(runs[k]) for k in ("noop", "genuine", "forged"))
    print(
        f"\n{label}: 1 uvicorn worker, wrk -t1 -c32, {rounds} interleaved rounds of "
        f"{seconds}s, medians; {machine()}"
    )
    print(f"{'route':<22}{'req/s':>10}{'ratio':>9}{'p50 ms':>10}{'p99 ms':>10}")
    for name, result in (
        ("no-op (raw ASGI)", noop),
        ("genuine scan", genuine),
        ("forged code", forged),
    ):
        print(
            f"{name:<22}{result.requests_per_second:>10.0f}"
            f"{result.requests_per_second / noop.requests_per_second:>9.2f}"
            f"{result.p50_ms:>10.2f}{result.p99_ms:>10.2f}"
        )
    if genuine.non_2xx:
        print(f"!! {genuine.non_2xx} genuine-scan responses were not 2xx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--postgres", action="store_true", help="also measure PostgreSQL")
    args = parser.parse_args()
    measure("SQLite (WAL)", None, args.seconds, args.rounds)
    if args.postgres:
        url = fresh_postgres()
        if url:
            measure("PostgreSQL", url, args.seconds, args.rounds)


if __name__ == "__main__":
    main()
