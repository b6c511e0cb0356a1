"""Shared helpers for the benchmark scripts: a fresh database, a server, wrk."""

from __future__ import annotations

import atexit
import itertools
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from chinhhang.observability.metrics import batch_totals

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN = os.environ.get(
    "CHINHHANG_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
# What every scan benchmark sends: a phone's browser, and a code whose HMAC tag fails.
PHONE = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
FORGED = "0" * 24
# The same server through SQLAlchemy's psycopg (3) dialect.
ADMIN_ENGINE_URL = POSTGRES_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1)


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    described = f"{os.cpu_count()} cores, {cpu}, {memory:.0f} GiB, Python {python}"
    server = postgres_server()
    return f"{described}, {server}" if server else described


def postgres_server() -> str | None:
    """The local PostgreSQL's version and the settings that move the scan figures, or None
    when there is none: the same code measures differently with Debian's 128 MB of
    `shared_buffers` than with the quarter of RAM docs/deploy.md asks for."""
    engine = create_engine(
        ADMIN_ENGINE_URL,
        connect_args={"connect_timeout": 2},
    )
    try:
        with engine.connect() as conn:
            version = conn.scalar(text("SHOW server_version"))
            settings: dict[str, str] = dict(
                conn.execute(
                    text(
                        "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                        "('shared_buffers', 'synchronous_commit', 'max_wal_size')"
                    )
                ).all()
            )
    except Exception:  # no server: the scripts say so where they need one
        return None
    finally:
        engine.dispose()
    listed = ", ".join(f"{name} {settings[name]}" for name in sorted(settings))
    return f"PostgreSQL {str(version).split()[0]} ({listed})"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="chinhhang-bench-"))


_DATABASES = itertools.count(1)


def fresh_postgres() -> str | None:
    """A new empty database on the local server, or None when there is no server."""
    admin = create_engine(
        ADMIN_ENGINE_URL,
        isolation_level="AUTOCOMMIT",
    )
    # One script may hold several (bench/scale.py: one per size): each its own name.
    name = f"chinhhang_bench_{os.getpid()}_{next(_DATABASES)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        print(f"(PostgreSQL skipped: {error})")
        return None
    finally:
        admin.dispose()
    # A benchmark's database can hold gigabytes: dropped when the script ends.
    atexit.register(_drop_database, name)
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name


def _drop_database(name: str) -> None:
    admin = create_engine(
        ADMIN_ENGINE_URL,
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except Exception as error:
        print(f"(could not drop {name}: {error})")
    finally:
        admin.dispose()


def env_for(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "CHINHHANG_DATA_DIR": str(data_dir),
        "CHINHHANG_SECRET_KEY": "bench-secret-" + "b" * 40,
        # Throttling stays on, with a budget no benchmark reaches, so its cost is measured.
        "CHINHHANG_SCAN_RATE_LIMIT": "1000000000/minute",
        # Likewise the guessing budget: the forged-code route sends only unknown codes, from
        # one client, and must keep answering 404 (not 429) to measure the tag check.
        "CHINHHANG_GUESS_LIMIT": "1000000000/minute",
    }
    env.pop("CHINHHANG_DATABASE_URL", None)
    if database_url:
        env["CHINHHANG_DATABASE_URL"] = database_url
    return env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    metrics_dir: Path | None = None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        if self.metrics_dir is not None:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)


def start_server(env: dict[str, str], workers: int = 1) -> Server:
    port = free_port()
    # As `chinhhang serve` does: the workers' metrics in one folder, so that a scrape of
    # /metrics sums them (without it, each scrape reaches one worker's alone).
    metrics_dir = Path(tempfile.mkdtemp(prefix="chinhhang-bench-metrics-"))
    env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    process = subprocess.Popen(
        [sys.executable, "bench_app.py", str(port), str(workers)],
        cwd=Path(__file__).parent,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                time.sleep(0.5)
                return Server(process, base, metrics_dir)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    shutil.rmtree(metrics_dir, ignore_errors=True)
    raise RuntimeError("server did not start")


def scan_batches(server: Server) -> tuple[float, float]:
    """The server's committed scan batches and the scans in them so far, all workers (its
    /metrics, which answers loopback)."""
    scraped = httpx.get(f"{server.base}/metrics").text
    return batch_totals(text_string_to_metric_families(scraped))


def worker_memory(server: Server) -> list[tuple[int, int]]:
    """(VmRSS, VmHWM) in MB of each worker process: the server's children when it has
    several workers, else the server process itself."""
    sizes: list[tuple[int, int]] = []
    for worker in worker_pids(server):
        status = dict(
            line.split(":", 1)
            for line in Path(f"/proc/{worker}/status").read_text().splitlines()
            if ":" in line
        )
        # Multiprocessing's resource tracker is a child too, and small: workers import the app.
        rss, peak = (int(status[key].split()[0]) // 1024 for key in ("VmRSS", "VmHWM"))
        if rss >= 40:
            sizes.append((rss, peak))
    return sizes


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (those that have gone count 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process on this machine (the server is local in benchmarks)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def worker_pids(server: Server) -> list[int]:
    pid = server.process.pid
    children_file = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(c) for c in children_file.read_text().split()] if children_file.exists() else []
    return children or [pid]


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def median_result(results: list[WrkResult]) -> WrkResult:
    """Interleaved rounds, medians: a slow spell on a shared machine hits every route alike."""
    return WrkResult(
        statistics.median(r.requests_per_second for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.non_2xx for r in results),
    )


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str, seconds: int = 10, connections: int = 32, script: Path | None = None
) -> WrkResult:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (make bench does it)")
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(rps, p50, p99, int(bad.group(1)) if bad else 0)
