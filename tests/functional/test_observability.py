"""/metrics, the request id and JSON access lines, /healthz and /readyz (docs/observability.md).

Counters are process-wide (as in production), so each test reads a scrape before and after
and compares the difference.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from chinhhang.config import Settings
from chinhhang.db import make_engine, make_sessionmaker, upgrade_database
from chinhhang.observability.logs import ACCESS_LOGGER, JsonFormatter, RequestIdFilter
from chinhhang.web import create_app
from tests.conftest import PHONE, cli_env, free_port, make_settings, serve_command
from tests.factories import make_run

JSON = {"Accept": "application/json"}
LOOPBACK = ("127.0.0.1", 50000)
TOKEN = "scrape-" + "t" * 32
FORGED = "AAAAAAAAAAAAAAAAAAAA"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def scrape(client: TestClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture
def local(settings: Settings) -> Iterator[TestClient]:
    """A client on loopback (the default TestClient's address is "testclient")."""
    app = create_app(settings)
    app.state.exposition.queues.max_age = 0  # the queue depths as they are now
    with TestClient(app, headers={"User-Agent": PHONE}, client=LOOPBACK) as client:
        yield client


def test_scans_are_counted_by_outcome_and_timed_by_route_template(
    local: TestClient, settings: Settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    code = run.codes[0]
    before = scrape(local)
    assert local.get(f"/v/{code}", headers=JSON).json()["outcome"] == "genuine"
    local.cookies.clear()
    assert local.get(f"/v/{code}", headers=JSON).json()["outcome"] == "over_limit"
    assert local.get(f"/v/{FORGED}", headers=JSON).status_code == 404
    after = scrape(local)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("chinhhang_scans_total", outcome="genuine") == 1
    assert grew("chinhhang_scans_total", outcome="over_limit") == 1
    assert grew("chinhhang_scans_total", outcome="unknown") == 1
    route = {"route": "/v/{code}", "method": "GET"}
    assert grew("chinhhang_http_request_duration_seconds_count", **route) == 3
    assert grew("chinhhang_http_requests_total", status="200", **route) == 2
    assert grew("chinhhang_http_requests_total", status="404", **route) == 1
    # A scan is fast, and the histogram's buckets say so (under a second, surely).
    assert grew("chinhhang_http_request_duration_seconds_bucket", le="1.0", **route) == 3
    # Never a code, never a raw path.
    assert code not in after
    assert FORGED not in after
    assert value(after, "chinhhang_alert_outbox_rows") >= 1  # the over-limit scan's alert
    assert ("chinhhang_alert_deliveries_pending", frozenset()) in samples(after)
    assert ("chinhhang_stamps_to_fill", frozenset()) in samples(after)


def test_each_committed_scan_batch_is_measured(
    local: TestClient, settings: Settings, engine, sessions
) -> None:
    """One request at a time: each scan and page view is a batch of one, and the histogram
    says so (scans/writer.py and pg_writer.py count each COMMIT)."""
    run = make_run(settings, engine, sessions, scan_limit=1)
    before = scrape(local)
    assert local.get(f"/v/{run.codes[0]}", headers=JSON).json()["outcome"] == "genuine"
    local.cookies.clear()
    assert local.get(f"/v/{run.codes[0]}", headers=JSON).json()["outcome"] == "over_limit"
    assert local.get(f"/p/{run.product_id}").status_code == 200
    assert local.get(f"/v/{FORGED}", headers=JSON).status_code == 404  # nothing written
    after = scrape(local)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("chinhhang_scan_batch_size_count") == 3
    assert grew("chinhhang_scan_batch_size_sum") == 3
    assert grew("chinhhang_scan_batch_size_bucket", le="1.0") == 3


def test_every_kind_of_route_is_labelled_by_its_template(local: TestClient) -> None:
    before = scrape(local)
    local.get("/api/v1/products")  # an included router's route: its prefix is kept
    local.get("/static/app.css")  # a mount
    local.get("/V/SOMETHING-ELSE")  # the upper-case scan route shares /v/'s endpoint
    local.get("/no-such-page-4711")
    after = scrape(local)
    for route, method, status in (
        ("/api/v1/products", "GET", "401"),
        ("/static/{path}", "GET", "200"),
        ("/V/{code}", "GET", "404"),
        ("unmatched", "GET", "404"),
    ):
        labels = {"route": route, "method": method, "status": status}
        grown = value(after, "chinhhang_http_requests_total", **labels) - value(
            before, "chinhhang_http_requests_total", **labels
        )
        assert grown == 1, route
    assert "no-such-page" not in after
    assert "SOMETHING-ELSE" not in after


def test_static_scans_are_counted(local: TestClient, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    before = scrape(local)
    assert local.get(f"/p/{run.product_id}").status_code == 200
    after = scrape(local)
    assert (
        value(after, "chinhhang_static_scans_total") - value(before, "chinhhang_static_scans_total")
        == 1
    )


@pytest.mark.parametrize(
    ("address", "headers", "status"),
    [
        (("testclient", 50000), {}, 404),  # not an address at all
        (("203.0.113.9", 50000), {}, 404),  # public
        (("169.254.10.1", 50000), {}, 404),  # link-local
        (("10.1.2.3", 50000), {}, 200),  # private
        (("192.168.7.7", 50000), {}, 200),
        (("100.64.0.1", 50000), {}, 404),  # carrier-grade NAT: shoppers' phones
        (("::1", 50000), {}, 200),
        (("::ffff:127.0.0.1", 50000), {}, 200),
        # Relayed by a proxy: the address may be the proxy's own (docs/observability.md).
        (("127.0.0.1", 50000), {"X-Forwarded-For": "203.0.113.9"}, 404),
        (("127.0.0.1", 50000), {"Forwarded": "for=203.0.113.9"}, 404),
    ],
)
def test_metrics_are_answered_to_internal_clients_only(
    sqlite_settings: Settings, address: tuple[str, int], headers: dict[str, str], status: int
) -> None:
    with TestClient(create_app(sqlite_settings), client=address) as client:
        response = client.get("/metrics", headers={**JSON, **headers})
    assert response.status_code == status
    if status == 404:  # the same answer as any page that does not exist
        assert response.json() == client.get("/no-such-page", headers=JSON).json()
        assert "chinhhang_" not in response.text


def test_the_token_opens_metrics_to_anyone_and_only_the_right_one(tmp_path: Path) -> None:
    upgrade_database(make_settings(tmp_path))
    with_token = make_settings(tmp_path, metrics_token=TOKEN)
    with TestClient(create_app(with_token), client=("203.0.113.9", 50000)) as client:
        assert client.get("/metrics").status_code == 404
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get("/metrics", headers=bearer).status_code == 200
        # Through a proxy too: the token is the scraper's proof, not its address.
        proxied = {**bearer, "X-Forwarded-For": "198.51.100.7"}
        assert client.get("/metrics", headers=proxied).status_code == 200
        for wrong in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, ""):
            assert client.get("/metrics", headers={"Authorization": wrong}).status_code == 404
    token_only = make_settings(tmp_path, metrics_token=TOKEN, metrics_private_access=False)
    with TestClient(create_app(token_only), client=LOOPBACK) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers=bearer).status_code == 200


def test_a_short_metrics_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CHINHHANG_METRICS_TOKEN"):
        make_settings(tmp_path, metrics_token="short")
    assert make_settings(tmp_path, metrics_token="").metrics_token is None


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything `chinhhang` loggers write, as serve's JSON handler writes it; the logging
    configuration is put back afterwards."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("chinhhang")
    saved = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)


def parsed(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_access_lines_are_json_with_the_request_id_and_no_code(
    client: TestClient, settings, engine, sessions, log_lines: io.StringIO
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    code = run.codes[0]
    given = client.get(f"/v/{code}?lang=en", headers={"X-Request-ID": "shop-42.a_b"})
    made = client.get(f"/v/{code}", headers=JSON)  # over the limit: a warning, an alert
    insane = client.get(f"/v/{FORGED}", headers={"X-Request-ID": "two words"})
    assert given.headers["x-request-id"] == "shop-42.a_b"
    assert len(made.headers["x-request-id"]) == 16
    assert insane.headers["x-request-id"] not in ("two words", "")
    lines = parsed(log_lines)
    access = [line for line in lines if line["logger"] == ACCESS_LOGGER]
    assert [line["request_id"] for line in access] == [
        "shop-42.a_b",
        made.headers["x-request-id"],
        insane.headers["x-request-id"],
    ]
    first = access[0]
    assert first["route"] == "/v/{code}"
    assert (first["method"], first["status"], first["level"]) == ("GET", 200, "info")
    assert isinstance(first["duration_ms"], float)
    assert {"time", "message", "pid"} <= first.keys()
    text = log_lines.getvalue()
    assert code not in text
    assert FORGED not in text
    assert "lang=en" not in text
    assert "testclient" not in text


def test_a_log_line_inside_a_request_carries_its_id(
    sqlite_settings: Settings, log_lines: io.StringIO
) -> None:
    """The unexpected-error handler's line, written after the middleware has finished."""
    app = create_app(sqlite_settings)

    async def broken() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/broken/{code}", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(f"/broken/{FORGED}", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    lines = parsed(log_lines)
    error = next(line for line in lines if line["logger"] == "chinhhang")
    assert error["request_id"] == "req-500"
    assert error["message"] == "unexpected error on /broken/{code}"
    assert "RuntimeError: boom" in str(error["exception"])
    access = next(line for line in lines if line["logger"] == ACCESS_LOGGER)
    assert (access["status"], access["request_id"]) == (500, "req-500")
    assert FORGED not in log_lines.getvalue()


def test_access_lines_can_be_sampled(tmp_path: Path, log_lines: io.StringIO) -> None:
    upgrade_database(make_settings(tmp_path))
    with TestClient(create_app(make_settings(tmp_path, access_log_sample=0.0))) as client:
        for _ in range(5):
            assert client.get("/healthz").status_code == 200
    assert not [line for line in parsed(log_lines) if line["logger"] == ACCESS_LOGGER]


def test_healthz_and_readyz_on_a_working_server(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


def _unstarted(settings: Settings) -> TestClient:
    """A client without the app's start-up, which reads the database it cannot reach."""
    return TestClient(create_app(settings))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:1/nowhere",  # nothing listens on port 1
        "sqlite:///{tmp}/missing/folder/chinhhang.db",
    ],
)
def test_readyz_names_an_unreachable_database(tmp_path: Path, url: str) -> None:
    client = _unstarted(make_settings(tmp_path, url.format(tmp=tmp_path)))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"database": "unreachable", "migrations": "unknown"},
    }
    assert "nowhere" not in ready.text
    assert "missing" not in ready.text
    assert client.get("/healthz").status_code == 200  # alive, though not ready


def test_readyz_names_a_schema_without_migrations(tmp_path: Path) -> None:
    ready = _unstarted(make_settings(tmp_path)).get("/readyz")  # an empty SQLite file
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "migrations": "not applied"}


def test_readyz_names_an_old_schema(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    upgrade_database(settings, "0001")
    ready = _unstarted(settings).get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "migrations": "behind"}


def test_readyz_checks_redis_when_configured(sqlite_settings: Settings) -> None:
    folder = sqlite_settings.data_dir
    dead = make_settings(folder, redis_url="redis://127.0.0.1:1/0")
    ready = _unstarted(dead).get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"] == "unreachable"
    url = os.environ.get("CHINHHANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    live = make_settings(folder, redis_url=url)
    ready = _unstarted(live).get("/readyz")
    if ready.json()["checks"]["redis"] != "ok" and os.environ.get("CI") != "true":
        pytest.skip(f"Redis is not reachable at {url}")
    assert ready.status_code == 200


def _app_routes(app: FastAPI) -> list[str]:
    return [getattr(route, "path", "") for route in app.router.routes]


def test_the_probes_are_not_in_the_api_schema(sqlite_settings: Settings) -> None:
    app = create_app(sqlite_settings)
    assert {"/healthz", "/readyz", "/metrics"} <= set(_app_routes(app))
    schema = TestClient(app).get("/api/v1/openapi.json").json()
    assert not {"/healthz", "/readyz", "/metrics"} & set(schema["paths"])


def test_serve_with_two_workers_sums_their_metrics(tmp_path: Path) -> None:
    """`serve --workers 2`: a scrape reaches one worker and reports both workers' counts."""
    settings = make_settings(tmp_path)
    upgrade_database(settings)
    engine = make_engine(settings)
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=60)
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = tmp_path / "serve.log"
    with log_file.open("wb") as log:
        server = subprocess.Popen(
            serve_command(port, "--workers", "2"),
            env=cli_env(tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(f"{base}/healthz")
            _wait_for_workers(log_file, 2)

            def scan(code: str) -> str:
                # A connection each, so that the kernel hands them to either worker.
                answer = httpx.get(f"{base}/v/{code}", headers={**JSON, "User-Agent": PHONE})
                return str(answer.json().get("outcome") or answer.json()["error"]["code"])

            # Rounds until both workers have served scans, else the sums below would prove
            # nothing (a worker busy with a request leaves the next connections to the other).
            outcomes: list[str] = []
            with ThreadPoolExecutor(4) as pool:
                for first in range(0, len(run.codes), 6):
                    outcomes += pool.map(scan, [*run.codes[first : first + 6], FORGED])
                    if len(_scan_pids(log_file)) == 2:
                        break
                    time.sleep(0.3)
            scrapes = [httpx.get(f"{base}/metrics").text for _ in range(6)]
            ready = httpx.get(f"{base}/readyz")
        finally:
            server.terminate()
            server.wait(timeout=60)
    assert len(_scan_pids(log_file)) == 2
    genuine, forged = outcomes.count("genuine"), outcomes.count("unknown")
    assert genuine + forged == len(outcomes)
    assert ready.status_code == 200
    for text in scrapes:  # whichever worker answered
        assert value(text, "chinhhang_scans_total", outcome="genuine") == genuine
        assert value(text, "chinhhang_scans_total", outcome="unknown") == forged
        route = {"route": "/v/{code}", "method": "GET"}
        assert value(text, "chinhhang_http_request_duration_seconds_count", **route) == len(
            outcomes
        )
        pids = {
            labels for (name, labels) in samples(text) if name == "process_resident_memory_bytes"
        }
        assert len(pids) == 2  # each live worker's own figures
        assert not any(code in text for code in run.codes)
    text = log_file.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert len([line for line in lines if line.get("route") == "/v/{code}"]) == len(outcomes)
    assert not any(code in text for code in run.codes)
    # The workers' files are in this machine's own folder for the port, not the data folder.
    assert list(Path(tempfile.gettempdir(), f"chinhhang-metrics-{port}").glob("counter_*.db"))
    assert not (tmp_path / "metrics").exists()


def _scan_pids(log_file: Path) -> set[int]:
    """The workers that wrote an access line for a scan so far."""
    pids = set()
    for line in log_file.read_text().splitlines():
        if '"/v/{code}"' in line:
            pids.add(json.loads(line)["pid"])
    return pids


def _wait_for_workers(log_file: Path, count: int) -> None:
    """Until `count` workers have said that their start-up is complete (in their JSON lines)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        started = {
            json.loads(line)["pid"]
            for line in log_file.read_text().splitlines()
            if "Application startup complete" in line
        }
        if len(started) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} workers started")


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")
