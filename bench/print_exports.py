"""Print-house exports: CSV rows/s, PDF and SVG-ZIP labels/s, and the peak memory of each.

Usage: python bench/print_exports.py [--quantity 1000000] [--rounds 3]

One run of `--quantity` stamps is issued into a fresh SQLite database; every measurement then
exports a sub-range of it (sequences first .. first + count - 1) with `export_stream`, exactly
what `chinhhang stamps export` does, to a file in the temporary data folder. Each measurement
runs in its own child process (this script with `--measure`), so that the peak RSS it reports is
its own: the child's VmHWM, and the highest VmHWM of its descendants (the worker processes
drawing labels, for workers > 1), sampled while they run (see measure() for why not ru_maxrss).

Baselines, from the same run: the raw SELECT of (sequence, code) through the DB-API cursor,
without formatting (the ceiling of the CSV), and QR encoding alone on one core
(`chinhhang.printing.qr.encode`, the ceiling of one label-drawing worker).
Goals (issue "print"): CSV >= 200,000 rows/s for 1,000,000 stamps, PDF >= 1,000 labels/s for
10,000 stamps, peak memory under 200 MB whatever the run size.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing.forkserver
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from sqlalchemy import Engine, select  # noqa: E402
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
from chinhhang.printing.exports import export_stream  # noqa: E402
from chinhhang.printing.options import PrintOptions  # noqa: E402
from chinhhang.printing.qr import encode  # noqa: E402
from chinhhang.printing.urls import stamp_print_url  # noqa: E402
from chinhhang.stamps import services  # noqa: E402
from chinhhang.stamps.models import Stamp, StampRun  # noqa: E402
from common import fresh_dir, machine  # noqa: E402

SECRET = "bench-secret-" + "b" * 40
BASE_URL = "https://chinhhang.vn"  # printed as HTTPS://CHINHHANG.VN/V/{code}: 47 characters
CAPTION = "Nước mắm Phú Quốc"
PDF_OPTIONS = PrintOptions(template="a4-65", caption=CAPTION, scratch_off=True, crop_marks=True)
PER_PAGE = 65
GOALS = {"csv": 200_000, "pdf": 1_000}
MEMORY_GOAL_MB = 200
_FIRST_CHUNK: list[float] = []  # when the first kilobyte of the export came out
_PAGE_COUNT = re.compile(rb"/Type /Pages\s*/Count (\d+)|/Count (\d+)\s*/Kids")


@dataclass(frozen=True)
class Measure:
    """One row of the table, as the child process reported it."""

    kind: str  # csv | pdf | zip | read | encode
    count: int
    workers: int
    elapsed: float
    size: int
    rss_mb: float  # VmHWM of the process that reads the database and writes the file
    worker_rss_mb: float  # the highest VmHWM of its descendants (workers > 1)
    ru_maxrss_mb: float = 0.0  # for reference only: see measure()
    ru_children_mb: float = 0.0
    first_chunk: float = 0.0  # seconds to the first kilobyte: workers' start-up included

    @property
    def rate(self) -> float:
        return self.count / self.elapsed


# --- the child: one measurement, reported as JSON on stdout ------------------------------------


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, secret_key=SECRET, base_url=BASE_URL)


def _high_water_mb(pid: int | str = "self") -> float:
    """VmHWM, the peak resident set of the process's current memory image, in MB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # the process has just exited
        pass
    return 0.0


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


class DescendantPeak(threading.Thread):
    """The highest VmHWM of any process below this one (the fork server, its workers, the
    resource tracker), read every 50 ms; the process list is refreshed every 250 ms. VmHWM
    only grows, so only growth in a worker's last 50 ms could be missed."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        pids: list[int] = []
        tick = 0
        while not self._done.wait(0.05):
            if tick % 5 == 0:
                pids = _descendants(os.getpid())
            tick += 1
            self.peak_mb = max([self.peak_mb, *(_high_water_mb(pid) for pid in pids)])

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak_mb


def _check(kind: str, path: Path, count: int) -> None:
    """The export holds what it should (after the timer and the memory reading)."""
    if kind == "csv":
        with path.open("rb") as file:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
        assert lines == count + 1, (lines, count)
    elif kind == "zip":
        with zipfile.ZipFile(path) as archive:
            assert len(archive.namelist()) == count
    elif kind == "pdf":
        with path.open("rb") as file:
            file.seek(max(0, path.stat().st_size - (1 << 20)))
            tail = file.read()
        pages = [int(a or b) for a, b in _PAGE_COUNT.findall(tail)]
        assert max(pages, default=0) == -(-count // PER_PAGE), (pages, count)


def _export(session: Session, run: StampRun, kind: str, count: int, workers: int, out: Path) -> int:
    written = 0
    chunks = export_stream(
        session,
        run.id,
        kind,
        base_url=BASE_URL,
        first=run.first_sequence,
        last=run.first_sequence + count - 1,
        options=PDF_OPTIONS if kind == "pdf" else PrintOptions(),
        workers=workers,
    )
    with out.open("wb") as file:
        for chunk in chunks:
            file.write(chunk)
            written += len(chunk)
            if not _FIRST_CHUNK and written > 1000:  # past the PDF joiner's header
                _FIRST_CHUNK.append(time.perf_counter())
    return written


def _raw_read(run: StampRun, engine: Engine, count: int) -> int:
    """SELECT sequence, code of the same rows through the DB-API cursor, in fetches of 10,000."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT sequence, code FROM stamps WHERE org_id = ? AND sequence BETWEEN ? AND ? "
            "ORDER BY sequence",
            (run.org_id, run.first_sequence, run.first_sequence + count - 1),
        )
        rows = 0
        while batch := cursor.fetchmany(10_000):
            rows += len(batch)
    finally:
        connection.close()
    assert rows == count, (rows, count)
    return 0


def measure(data_dir: Path, run_id: int, kind: str, count: int, workers: int) -> dict[str, float]:
    """Peaks are VmHWM, not `ru_maxrss`: on Linux a process started with fork and exec keeps
    in its ru_maxrss the resident size of the process it was forked from, so every child of
    the parent (which has just issued a million stamps) and the fork server would report at
    least their parent's size. Both ru_maxrss figures are in the report for reference."""
    engine = make_engine(_settings(data_dir))
    out = data_dir / f"export-{kind}-{count}-{workers}.{kind}"
    sampler = DescendantPeak()
    with session_scope(make_read_sessionmaker(engine)) as session:
        run = session.get(StampRun, run_id)
        assert run is not None
        urls: list[str] = []
        if kind == "encode":  # the same URLs the labels carry, read outside the timer
            codes = session.scalars(
                select(Stamp.code)
                .where(Stamp.run_id == run_id)
                .order_by(Stamp.sequence)
                .limit(count)
            )
            urls = [stamp_print_url(BASE_URL, code) for code in codes]
        if workers > 1:
            sampler.start()
        started = time.perf_counter()
        if kind == "encode":
            for url in urls:
                encode(url, PDF_OPTIONS.ec_level)
            size = 0
        elif kind == "read":
            size = _raw_read(run, engine, count)
        else:
            size = _export(session, run, kind, count, workers, out)
        elapsed = time.perf_counter() - started
    first_chunk = _FIRST_CHUNK[0] - started if _FIRST_CHUNK else 0.0
    workers_peak = sampler.stop() if workers > 1 else 0.0
    own = _high_water_mb()
    # For reference: reap the fork server (it reaped the workers) so RUSAGE_CHILDREN has them.
    server: Any = multiprocessing.forkserver._forkserver
    if server._forkserver_pid is not None:
        time.sleep(0.3)
        server._stop()
    ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ru_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if kind in ("csv", "pdf", "zip"):
        _check(kind, out, count)
        out.unlink()
    engine.dispose()
    return {
        "elapsed": elapsed,
        "first_chunk": first_chunk,
        "size": size,
        "rss_mb": own,
        "worker_rss_mb": workers_peak,
        "ru_maxrss_mb": ru_self,
        "ru_children_mb": ru_children,
    }


# --- the parent: issue the run, start one child per measurement, print the table ---------------


def issue(data_dir: Path, quantity: int) -> tuple[int, float]:
    settings = _settings(data_dir)
    upgrade_database(settings)
    engine = make_engine(settings)
    with session_scope(make_sessionmaker(engine)) as session:
        org = create_organization(session, name="Bench", kind="manufacturer")
        actor = Actor.command_line(org.id)
        create_product(session, actor, name=CAPTION, gtin=None, brand="Bench")
        run = services.create_run(session, actor, quantity=quantity)
    started = time.perf_counter()
    services.fill_run(engine, run, settings.keyring)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return run.id, elapsed


def run_child(data_dir: Path, run_id: int, kind: str, count: int, workers: int) -> Measure:
    args = [sys.executable, __file__, "--measure", kind, "--count", str(count)]
    args += ["--workers", str(workers), "--data-dir", str(data_dir), "--run-id", str(run_id)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"measurement {kind} {count} x{workers} failed")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    measured = Measure(kind, count, workers, **report)
    print(
        f"  {kind:<6} {count:>9,} x{workers}: {measured.elapsed:6.1f} s, "
        f"{measured.rate:>9,.0f}/s, {measured.size / 1e6:6.1f} MB written, first kB after "
        f"{measured.first_chunk:.2f} s; peak RSS {measured.rss_mb:.0f} MB, "
        f"worker {measured.worker_rss_mb:.0f} MB",
        flush=True,
    )
    return measured


def combined(rounds: list[Measure]) -> Measure:
    """The round with the median time, with the highest peaks of any round."""
    middle = statistics.median_low([row.elapsed for row in rounds])
    return replace(
        next(row for row in rounds if row.elapsed == middle),
        rss_mb=max(row.rss_mb for row in rounds),
        worker_rss_mb=max(row.worker_rss_mb for row in rounds),
        ru_maxrss_mb=max(row.ru_maxrss_mb for row in rounds),
        ru_children_mb=max(row.ru_children_mb for row in rounds),
    )


def _mb(value: float) -> str:
    return f"{value:.0f}" if value else "–"


def table(rows: list[Measure]) -> None:
    names = {"csv": "CSV", "pdf": "PDF (a4-65)", "zip": "ZIP of SVG"}
    units = {"csv": "rows/s", "pdf": "labels/s", "zip": "labels/s"}
    print()
    print(
        "| format | stamps | workers | elapsed s | per second | goal "
        "| peak RSS main MB | peak RSS of a worker MB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        goal = GOALS.get(row.kind)
        goal_text = f"≥ {goal:,} {units[row.kind]}" if goal else "–"
        print(
            f"| {names[row.kind]} | {row.count:,} | {row.workers} | {row.elapsed:.1f} "
            f"| {row.rate:,.0f} {units[row.kind]} | {goal_text} | {row.rss_mb:.0f} "
            f"| {_mb(row.worker_rss_mb)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quantity", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--measure", choices=("csv", "pdf", "zip", "read", "encode"))
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--run-id", type=int)
    args = parser.parse_args()
    if args.measure:
        report = measure(args.data_dir, args.run_id, args.measure, args.count, args.workers)
        print(json.dumps(report))
        return

    quantity, rounds = args.quantity, args.rounds
    small, labels = min(100_000, quantity), min(10_000, quantity)
    repeated = [  # the rates with a goal or a ratio: interleaved rounds, medians
        ("read", quantity, 1),
        ("csv", small, 1),
        ("csv", quantity, 1),
        ("encode", labels, 1),
        ("pdf", labels, 1),
        ("pdf", labels, 2),
    ]
    # Long ones, for their memory: a 100,000-label PDF, and the largest ZIP an export allows.
    once = [("zip", labels, 2), ("zip", small, 2), ("pdf", small, 2)]
    data_dir = fresh_dir()
    print(f"Print-house exports from one run of {quantity:,} stamps; {machine()}")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    try:
        run_id, issued = issue(data_dir, quantity)
        print(f"issuing {quantity:,} stamps took {issued:.1f} s ({quantity / issued:,.0f}/s)")
        results: dict[tuple[str, int, int], list[Measure]] = {}
        for number in range(rounds):
            print(f"round {number + 1} of {rounds}", flush=True)
            for key in repeated:
                results.setdefault(key, []).append(run_child(data_dir, run_id, *key))
        print("once", flush=True)
        for key in once:
            results[key] = [run_child(data_dir, run_id, *key)]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    measured = {key: combined(rows) for key, rows in results.items()}
    order = [("csv", small, 1), ("csv", quantity, 1), ("pdf", labels, 1), ("pdf", labels, 2)]
    order += [("pdf", small, 2), ("zip", labels, 2), ("zip", small, 2)]
    table([measured[key] for key in dict.fromkeys(order)])
    print(
        f"(median time of {rounds} interleaved rounds, highest peak of any round; "
        "the 100,000-label PDF and the ZIPs: one round)"
    )

    read, encoded = measured["read", quantity, 1], measured["encode", labels, 1]
    csv_small, csv_big = measured["csv", small, 1], measured["csv", quantity, 1]
    pdf_one, pdf_two = measured["pdf", labels, 1], measured["pdf", labels, 2]
    pdf_big = measured["pdf", small, 2]
    print()
    print(
        f"CSV {quantity:,}: {csv_big.rate:,.0f} rows/s against the raw SELECT of the same rows "
        f"at {read.rate:,.0f} rows/s (peak RSS {read.rss_mb:.0f} MB): "
        f"ratio to raw read {csv_big.rate / read.rate:.2f}"
    )
    print(
        f"PDF {pdf_one.count:,}: {pdf_one.rate:,.0f} labels/s with 1 worker, "
        f"{pdf_two.rate:,.0f} with 2, against QR encoding alone on one core at "
        f"{encoded.rate:,.0f} codes/s: ratio to encoding {pdf_one.rate / encoded.rate:.2f} "
        f"(1 worker), {pdf_two.rate / encoded.rate:.2f} (2 workers); "
        f"2 workers / 1 worker {pdf_two.rate / pdf_one.rate:.2f}"
    )
    worker_growth = (
        f"{pdf_big.worker_rss_mb / pdf_two.worker_rss_mb:.2f}" if pdf_two.worker_rss_mb else "–"
    )
    print(
        f"Peak memory growth: CSV {small:,} -> {quantity:,}: "
        f"{csv_big.rss_mb / csv_small.rss_mb:.2f}x ({csv_small.rss_mb:.0f} -> "
        f"{csv_big.rss_mb:.0f} MB); PDF {pdf_two.count:,} -> {pdf_big.count:,} (2 workers): "
        f"main {pdf_big.rss_mb / pdf_two.rss_mb:.2f}x ({pdf_two.rss_mb:.0f} -> "
        f"{pdf_big.rss_mb:.0f} MB), worker {worker_growth}x ({pdf_two.worker_rss_mb:.0f} -> "
        f"{pdf_big.worker_rss_mb:.0f} MB)"
    )
    peak = max(max(row.rss_mb, row.worker_rss_mb) for row in measured.values())
    verdict = "under" if peak < MEMORY_GOAL_MB else "OVER"
    print(
        f"Largest peak RSS of any process: {peak:.0f} MB ({verdict} the {MEMORY_GOAL_MB} MB goal)"
    )
    print(f"Issuing the run took {issued:.1f} s (orientation only).")


if __name__ == "__main__":
    main()
