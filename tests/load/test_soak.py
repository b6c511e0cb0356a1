"""A bounded soak: `chinhhang serve --workers 2` on PostgreSQL under a mixed scan load.

CHINHHANG_SOAK_SECONDS long (20 s by default, the short version every `make test` runs;
`make test-load` runs it for minutes). Nothing crashes here, so every request must be answered,
none with a 5xx or a throttle, and every count in the database must match the answers exactly.
"""

from __future__ import annotations

import pytest

from tests.load.client import UNANSWERED, run_load
from tests.load.invariants import check, read_database
from tests.load.preparation import prepare_load
from tests.load.report import figures
from tests.load.server import assert_clean_log
from tests.load.targets import LoadDatabase

pytestmark = [pytest.mark.load, pytest.mark.postgres, pytest.mark.usefixtures("load_slot")]


def test_soak_answers_match_the_database(load_database: LoadDatabase) -> None:
    load = prepare_load(load_database, "CHINHHANG_SOAK_SECONDS")
    seconds, clients, server = load.seconds, load.clients, load.server
    try:
        result = run_load(
            server.base,
            load.targets,
            clients=clients,
            seconds=seconds,
            max_requests=int(seconds * 5000),
        )
        assert server.process.poll() is None, "the server died under load"
        assert len(server.workers()) == 2, "a worker died under load"
        assert server.stop() == 0
    finally:
        server.kill()
    assert result.requests > seconds * 10, f"only {result.requests} requests in {seconds} s"
    assert result.count(UNANSWERED) == 0
    assert result.count("busy") == 0, "503s from a healthy PostgreSQL"
    checked = check(read_database(load_database.engine), result.answers, exact=True)
    assert result.count("genuine") == checked.genuine_events
    assert checked.suspicious_events == sum(
        result.count(outcome) for outcome in ("over_limit", "not_activated", "void")
    )
    # The mix reached every path: genuine, over the limit (so outbox rows), blocked, forged.
    for outcome in ("genuine", "over_limit", "not_activated", "void", "unknown"):
        assert result.count(outcome), f"no {outcome} answer in the run"
    print(figures(f"soak, 2 workers, {clients} clients ({load.timings})", result, checked))
    assert_clean_log(server.log())
