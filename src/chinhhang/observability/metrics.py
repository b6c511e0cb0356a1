"""The process's Prometheus metrics, and the one-call counters the domains use.

Counting sits on the scan hot path, so each call is a dictionary lookup and one increment:
labelled children are bound once and kept (prometheus_client's `labels()` costs more than the
increment). Label values are bounded by the code: outcomes and channels are constants, routes
are the route table's templates, methods a fixed set.

Several worker processes (`serve --workers N`): a scrape reaches one worker, so the values
must live where every worker can read them. prometheus_client's multiprocess mode does that:
with PROMETHEUS_MULTIPROC_DIR set before the library is imported, each process writes its
values to memory-mapped files in that folder and a scrape sums them (exposition.py).
`serve` sets the variable and empties the folder at start (`prepare_multiprocess_dir`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import Counter, Histogram, disable_created_metrics, values
from prometheus_client.metrics_core import Metric

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MULTIPROC_FOLDER = "chinhhang-metrics"
# Verdicts that are not a scan's outcome in the JSON contract, but what the request came to.
GRACE = "grace"  # the same browser again within its grace period: shown, not counted
THROTTLED = "throttled"  # too many scans from this client
GUESSING = "guessing"  # the client's unknown-code budget is spent
UNAVAILABLE = "unavailable"  # the database could not take the scan (503)
# From 1 ms (a forged code) to 10 s (a request that waited on the database's lock).
# No `_created` series: each would double the exposition for a figure nobody graphs.
disable_created_metrics()  # type: ignore[no-untyped-call]
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SCANS = Counter(
    "chinhhang_scans",
    "Dynamic-code scans (/v/{code}) by what they came to.",
    ["outcome"],
)
STATIC_SCANS = Counter("chinhhang_static_scans", "Counted scans of printed static codes.")
REQUESTS = Counter(
    "chinhhang_http_requests", "HTTP requests by route template.", ["route", "method", "status"]
)
LATENCY = Histogram(
    "chinhhang_http_request_duration_seconds",
    "Time from a request's arrival to its last byte, by route template.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
# Scans per COMMIT of the group commit: 1 when quiet, up to the writers' MAX_GROUP (256).
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
SCAN_BATCHES = Histogram(
    "chinhhang_scan_batch_size",
    "Writes per transaction committed by the scan writer's group commit (scans, page views).",
    buckets=BATCH_BUCKETS,
)
DELIVERIES = Counter(
    "chinhhang_alert_deliveries",
    "Alert delivery attempts made by the alert worker, by channel kind and result.",
    ["channel", "result"],
)

_scans: dict[str, Counter] = {}
_deliveries: dict[tuple[str, bool], Counter] = {}


def count_scan(outcome: str) -> None:
    """One dynamic-code request, by its outcome (scans.sql's, or one of the above)."""
    child = _scans.get(outcome)
    if child is None:
        child = _scans[outcome] = SCANS.labels(outcome)
    child.inc()


def count_batch(size: int) -> None:
    """One committed batch of the scan writer. Why: each COMMIT costs the database a WAL flush
    and the app its round trips, so scans per COMMIT (this histogram's sum over its count) is
    how well group commit is doing; docs/benchmarks.md measured about 62 with one worker at
    64 clients, 25 with two."""
    SCAN_BATCHES.observe(size)


def batch_totals(families: Iterable[Metric] | None = None) -> tuple[float, float]:
    """Committed batches and the scans in them so far: this process's, or those of a scrape's
    parsed families (a scrape sums every worker's). For the benchmarks and the tests that
    check group commit."""
    found = {
        sample.name: sample.value
        for family in (SCAN_BATCHES.collect() if families is None else families)
        for sample in family.samples
    }
    return found["chinhhang_scan_batch_size_count"], found["chinhhang_scan_batch_size_sum"]


def count_static_scan() -> None:
    STATIC_SCANS.inc()


def count_delivery(channel: str, ok: bool) -> None:
    """One delivery attempt to a channel of kind `channel` (webhook, email)."""
    child = _deliveries.get((channel, ok))
    if child is None:
        child = DELIVERIES.labels(channel, "delivered" if ok else "failed")
        _deliveries[(channel, ok)] = child
    child.inc()


def is_multiprocess() -> bool:
    """Whether this process's values live in the shared folder (decided when
    prometheus_client was imported, from the environment)."""
    return values.ValueClass is not values.MutexValue


def prepare_multiprocess_dir(port: int, workers: int, base: Path | None = None) -> Path | None:
    """For `serve`, before any worker starts: the folder the workers share, emptied.

    Several workers need one; a single worker uses it only when the operator set
    PROMETHEUS_MULTIPROC_DIR (the variable is then respected). Last run's files are removed:
    their counts belong to processes that are gone, and a counter that drops back at a
    restart is what Prometheus expects. The default folder is on this machine, named by the
    port (no two servers of one machine share a port), never in the data folder: that may be
    shared by several servers, and each would empty the others' live files.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if workers <= 1 and not given:
        return None
    local = base if base is not None else Path(tempfile.gettempdir())
    folder = Path(given) if given else local / f"{MULTIPROC_FOLDER}-{port}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not given and folder.stat().st_uid != os.getuid():  # a shared /tmp: someone else's
        raise RuntimeError(f"{folder} belongs to another user; set {MULTIPROC_ENV}")
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(folder.resolve())
    return folder
