"""`/metrics`: who may read it, and what a scrape returns.

Access (docs/observability.md, "Who may scrape"): a request with `Authorization: Bearer
<CHINHHANG_METRICS_TOKEN>` (compared in constant time), or, unless
CHINHHANG_METRICS_PRIVATE_ACCESS is off, a request from a loopback or private address that
carries no Forwarded / X-Forwarded-For header. Everyone else gets the same 404 as any unknown
path. The header rule matters because `serve` trusts a local proxy's X-Forwarded-For: behind
such a proxy the client's address is the shopper's (public, refused), but a proxy that is not
trusted makes every visitor look like the proxy's own, private, address; a proxy adds the
header, so a request relayed by it is refused either way.

A scrape: this process's registry, or with several workers the sum of every worker's files
(multiprocess mode) plus each live worker's process figures labelled by pid, and the queue
depths, read from the database at most every few seconds.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from chinhhang.config import Settings
from chinhhang.observability.metrics import MULTIPROC_ENV, is_multiprocess

log = logging.getLogger(__name__)
QUEUE_CACHE_SECONDS = 5.0
PROXY_HEADERS = (b"forwarded", b"x-forwarded-for")
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
# Each read is an indexed count or a scan of a table that stays small: the outbox is emptied
# every second, unfinished runs are few. Table names only: this package imports no domain.
QUEUE_QUERIES = (
    (
        "chinhhang_alert_outbox_rows",
        "Suspicious scans waiting to be grouped into alerts.",
        "SELECT count(*) FROM alert_outbox",
    ),
    (
        "chinhhang_alert_deliveries_pending",
        "Alert deliveries not yet delivered nor given up (due now or waiting to retry).",
        "SELECT count(*) FROM alert_deliveries WHERE status = 'pending'",
    ),
    (
        "chinhhang_stamp_runs_filling",
        "Stamp runs still being filled in the background.",
        "SELECT count(*) FROM stamp_runs WHERE status <> 'ready'",
    ),
    (
        "chinhhang_stamps_to_fill",
        "Stamps of those runs not written yet.",
        "SELECT coalesce(sum(quantity - filled), 0) FROM stamp_runs WHERE status <> 'ready'",
    ),
)


def may_scrape(request: Request, settings: Settings) -> bool:
    token = settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            return True
    if not settings.metrics_private_access:
        return False
    if any(name in PROXY_HEADERS for name, _ in request.scope["headers"]):
        return False
    return is_internal(request.client.host if request.client else None)


def is_internal(host: str | None) -> bool:
    """Loopback, or a private network's address (RFC 1918, IPv6 unique-local); never a name.

    An explicit list: Python's `is_private` also takes documentation, benchmarking and other
    reserved ranges, which no scraper of ours uses.
    """
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback or any(address in network for network in PRIVATE_NETWORKS)


class Exposition:
    """The registry a scrape reads, built once per app."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        if is_multiprocess():
            folder = Path(os.environ[MULTIPROC_ENV])
            MultiProcessCollector(self.registry, path=str(folder))  # type: ignore[no-untyped-call]
            self.registry.register(WorkerProcesses(folder))
        else:
            self.registry.register(_Default())
        self.queues = QueueDepths(engine)
        self.registry.register(self.queues)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Default(Collector):
    """This process's registry as it is (metrics, process, platform and GC figures)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class WorkerProcesses(Collector):
    """Each live worker's process figures (memory, CPU, open files), labelled by pid.

    prometheus_client's ProcessCollector reads /proc for one pid; the workers are found by
    their files in the multiprocess folder (`<kind>_<pid>.db`). A worker that is gone is
    skipped, and marked dead so that live-mode gauges (none yet) forget it; its counts stay
    in the sums.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def pids(self) -> list[int]:
        found = set()
        for path in self.folder.glob("*.db"):
            pid = path.stem.rsplit("_", 1)[-1]
            if pid.isdigit():
                found.add(int(pid))
        return sorted(found)

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for pid in self.pids():
            if not _alive(pid):
                mark_process_dead(pid, str(self.folder))  # type: ignore[no-untyped-call]
                continue
            reader = ProcessCollector(pid=lambda pid=pid: pid, registry=None)  # type: ignore[misc]
            for metric in reader.collect():
                family = families.get(metric.name)
                if family is None:
                    family = families[metric.name] = Metric(
                        metric.name, metric.documentation, metric.type
                    )
                for sample in metric.samples:
                    labels = {**sample.labels, "pid": str(pid)}
                    family.samples.append(Sample(sample.name, labels, sample.value))
        yield from families.values()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class QueueDepths(Collector):
    """Work waiting in the database, read at most every `max_age` seconds per process."""

    def __init__(self, engine: Engine, max_age: float = QUEUE_CACHE_SECONDS) -> None:
        self.engine = engine
        self.max_age = max_age
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._values: list[tuple[str, str, float]] = []

    def collect(self) -> Iterator[Metric]:
        for name, documentation, value in self.values():
            yield GaugeMetricFamily(name, documentation, value=value)

    def values(self) -> list[tuple[str, str, float]]:
        with self._lock:
            if time.monotonic() - self._read_at >= self.max_age:
                self._values = self._read()
                self._read_at = time.monotonic()
            return self._values

    def _read(self) -> list[tuple[str, str, float]]:
        try:
            with self.engine.connect() as connection:
                return [
                    (name, documentation, float(connection.execute(text(query)).scalar() or 0))
                    for name, documentation, query in QUEUE_QUERIES
                ]
        except Exception as error:  # a scrape without the depths, never a 500
            log.warning("queue depths unreadable: %s", type(error).__name__)
            return []


def metrics(request: Request) -> Response:
    if not may_scrape(request, request.app.state.settings):
        raise HTTPException(404)  # the app's own "no such page", as for any unknown path
    exposition: Exposition = request.app.state.exposition
    return Response(exposition.render(), media_type=CONTENT_TYPE_LATEST)
