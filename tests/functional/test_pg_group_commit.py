"""PostgreSQL's group commit on the event loop (scans/pg_writer.py) against the real server:
exact limits under a burst, one bad scan isolated from its batch, dead connections replaced,
nothing lost on close."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg.errors import DataError
from sqlalchemy import Engine, func, select, text

from chinhhang.alerts.models import AlertOutbox
from chinhhang.config import Settings
from chinhhang.db import make_engine, make_sessionmaker, upgrade_database, utcnow
from chinhhang.errors import Unavailable
from chinhhang.observability import metrics
from chinhhang.scans import pg_writer
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.pg_writer import in_cursor
from chinhhang.scans.sql import ScanContext, StaticView
from chinhhang.scans.steps import run_steps
from chinhhang.scans.store import ScanStore, _Scan
from chinhhang.stamps.models import Stamp
from tests.conftest import _reset_postgres, make_settings
from tests.factories import make_run
from tests.functional.test_concurrency import restart_connections

pytestmark = pytest.mark.postgres
PHONE = ScanContext("203.0.113.0/24", "phone")


@pytest.fixture
def pg(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    _reset_postgres(postgres_url)
    settings = make_settings(tmp_path, postgres_url)
    upgrade_database(settings)
    engine = make_engine(settings)
    yield settings, engine
    engine.dispose()


def _store(settings: Settings) -> ScanStore:
    return ScanStore(make_engine(settings, pool_pre_ping=False, pool_size=8, max_overflow=0))


def _scan(store: ScanStore, code: str, context: ScanContext = PHONE):  # type: ignore[no-untyped-def]
    return store.consume_soon(code, utcnow(), context)


def test_a_burst_on_the_loop_counts_exactly_the_limit(pg: tuple[Settings, Engine]) -> None:
    settings, engine = pg
    sessions = make_sessionmaker(engine)
    hot = make_run(settings, engine, sessions, quantity=1, scan_limit=5)
    others = make_run(settings, engine, sessions, quantity=40, scan_limit=1)
    store = _store(settings)

    async def burst() -> list[object]:
        scans = [_scan(store, hot.codes[0]) for _ in range(60)]
        scans += [_scan(store, code) for code in others.codes]
        return list(await asyncio.gather(*scans))

    try:
        results = asyncio.run(burst())
    finally:
        store.close()
        store.engine.dispose()
    outcomes = Counter(result[0] for result in results[:60])  # type: ignore[index]
    assert outcomes == {"genuine": 5, "over_limit": 55}
    assert {result[0] for result in results[60:]} == {"genuine"}  # type: ignore[index]
    with sessions() as session:
        numbers = session.scalars(
            select(ScanEvent.scan_number).where(
                ScanEvent.stamp_code == hot.codes[0], ScanEvent.outcome == "genuine"
            )
        ).all()
        assert sorted(numbers) == [1, 2, 3, 4, 5]
        assert session.scalar(select(Stamp.scan_count).where(Stamp.code == hot.codes[0])) == 5
        over = select(func.count()).select_from(AlertOutbox)
        assert session.scalar(over.where(AlertOutbox.stamp_code == hot.codes[0])) == 55
        assert session.scalar(select(func.count()).select_from(ScanEvent)) == 100


def test_one_bad_scan_does_not_fail_its_batch(pg: tuple[Settings, Engine]) -> None:
    """A row the database refuses (here a user agent longer than its column, which the web
    layer clips but the store does not) fails only its own scan, with a 503's error rather
    than the driver's (a 500); the batch around it counts."""
    settings, engine = pg
    sessions = make_sessionmaker(engine)
    run = make_run(settings, engine, sessions, quantity=20, scan_limit=1)
    bad = ScanContext(None, "x" * 400)
    store = _store(settings)

    async def batch() -> list[object]:
        scans = [_scan(store, code, bad if i == 7 else PHONE) for i, code in enumerate(run.codes)]
        return list(await asyncio.gather(*scans, return_exceptions=True))

    before = metrics.batch_totals()
    try:
        results = asyncio.run(batch())
    finally:
        store.close()
        store.engine.dispose()
    assert isinstance(results[7], Unavailable)
    assert isinstance(results[7].__cause__, DataError)
    assert all(r[0] == "genuine" for i, r in enumerate(results) if i != 7)  # type: ignore[index]
    # The failed batch is not measured; its 19 good scans were committed one by one.
    count, total = metrics.batch_totals()
    assert (count - before[0], total - before[1]) == (19, 19)
    with sessions() as session:
        rows = session.execute(select(Stamp.code, Stamp.scan_count)).all()
        counts = {row[0]: row[1] for row in rows}
        assert counts[run.codes[7]] == 0  # rolled back with its event, not counted
        assert sum(counts.values()) == 19
        assert session.scalar(select(func.count()).select_from(ScanEvent)) == 19


def test_waves_of_scans_are_written_on_one_connection(
    pg: tuple[Settings, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One flush writes at a time (fewer, bigger batches): scans arriving while a batch
    commits wait for the next batch on the same connection; the spare never opens. (The
    stall bound is raised so that a slow first connection on a busy machine is no stall.)"""
    monkeypatch.setattr(pg_writer, "STALL_SECONDS", 30.0)
    settings, engine = pg
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=60, scan_limit=1)
    store = _store(settings)

    async def waves() -> tuple[list[object], int]:
        scans = []
        for wave in range(6):  # each wave arrives while the one before is being written
            wave_codes = run.codes[wave * 10 : wave * 10 + 10]
            scans += [asyncio.ensure_future(_scan(store, code)) for code in wave_codes]
            await asyncio.sleep(0.002)
        results = list(await asyncio.gather(*scans))
        opened = sum(c is not None for c in store._pg_writer()._connections)
        return results, opened

    before = metrics.batch_totals()
    try:
        results, opened = asyncio.run(waves())
    finally:
        store.close()
        store.engine.dispose()
    assert {result[0] for result in results} == {"genuine"}  # type: ignore[index]
    assert opened == 1
    count, total = metrics.batch_totals()
    batches, scans = count - before[0], total - before[1]
    assert scans == 60  # every scan in a measured batch (/metrics: chinhhang_scan_batch_size)
    assert batches <= 6  # a batch per wave at most: written in groups, not a COMMIT per scan


def _clients_in_a_loop(store: ScanStore, codes: list[str], rounds: int) -> list[object]:
    """One client per code, each scanning it `rounds` times: the next scan after its answer
    and a pause of 0 to 3 turns of the loop (rendering the page, the next request arriving),
    as a load generator's connections do."""

    async def client(number: int, code: str) -> list[object]:
        answers = []
        for _ in range(rounds):
            answers.append(await _scan(store, code))
            for _ in range(number % 4):
                await asyncio.sleep(0)
        return answers

    async def clients() -> list[object]:
        found = await asyncio.gather(*(client(n, code) for n, code in enumerate(codes)))
        return [answer for answers in found for answer in answers]

    return asyncio.run(clients())


@pytest.mark.parametrize("fill", [True, False])
def test_clients_in_a_loop_share_their_commits(
    pg: tuple[Settings, Engine], monkeypatch: pytest.MonkeyPatch, fill: bool
) -> None:
    """16 clients, each scanning again once answered: a batch waits for the clients just
    answered to come back, so each COMMIT carries nearly all of them. Without that wait
    (FILL_FROM out of reach), the first to come back start a batch of their own and the
    others make the next: smaller batches, each with its own round trips and WAL flush."""
    if fill:  # a bound a busy test machine cannot reach: the wait ends on the clients' return
        monkeypatch.setattr(pg_writer, "FILL_SECONDS", 0.2)
    else:
        monkeypatch.setattr(pg_writer, "FILL_FROM", 10**6)
    settings, engine = pg
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=16, scan_limit=100)
    store = _store(settings)
    before = metrics.batch_totals()
    try:
        results = _clients_in_a_loop(store, run.codes, rounds=10)
    finally:
        store.close()
        store.engine.dispose()
    assert {result[0] for result in results} == {"genuine"}  # type: ignore[index]
    count, total = metrics.batch_totals()
    batches, scans = count - before[0], total - before[1]
    assert scans == 160
    if fill:
        assert scans / batches >= 12
    else:
        assert scans / batches < 12


def test_a_batch_waiting_to_fill_is_written_once_the_clients_are_back(
    pg: tuple[Settings, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait to fill ends when the answered clients' scans are waiting, not at its
    bound (raised here to a minute), and a server that stops does not wait it out."""
    monkeypatch.setattr(pg_writer, "FILL_SECONDS", 60.0)
    settings, engine = pg
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=16, scan_limit=100)
    store = _store(settings)

    async def twice_then_one() -> tuple[list[object], float, object]:
        started = time.monotonic()
        answers = await asyncio.gather(*(_scan(store, code) for code in run.codes[:8]))
        answers += await asyncio.gather(*(_scan(store, code) for code in run.codes[:8]))
        took = time.monotonic() - started
        # A lone scan now: the flush waits for 8 that never come, until the store closes.
        lone = asyncio.ensure_future(_scan(store, run.codes[8]))
        await asyncio.sleep(0.05)
        await store.aclose()
        return list(answers), took, await lone

    try:
        answers, took, lone = asyncio.run(twice_then_one())
    finally:
        store.close()
        store.engine.dispose()
    assert {answer[0] for answer in answers} == {"genuine"}  # type: ignore[index]
    assert took < 30  # not the minute's bound
    assert lone[0] == "genuine"  # type: ignore[index]


def test_a_stuck_batch_does_not_hold_up_the_scans_behind_it(pg: tuple[Settings, Engine]) -> None:
    """A portal transaction holds one stamp's row: its scan's batch waits for the lock, and
    after STALL_SECONDS the spare connection writes the scans that came behind it."""
    settings, engine = pg
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=3, scan_limit=1)
    store = _store(settings)
    holder = engine.connect()
    holder.execute(text("SELECT 1 FROM stamps WHERE code = :c FOR UPDATE"), {"c": run.codes[0]})

    async def behind_a_lock() -> tuple[tuple[object, ...], bool, object]:
        stuck = asyncio.ensure_future(_scan(store, run.codes[0]))
        await asyncio.sleep(0.01)  # its batch is waiting for the row lock
        others = await asyncio.wait_for(
            asyncio.gather(_scan(store, run.codes[1]), _scan(store, run.codes[2])), timeout=10
        )
        still_waiting = not stuck.done()
        await asyncio.to_thread(holder.rollback)
        return tuple(others), still_waiting, await stuck

    try:
        others, still_waiting, stuck = asyncio.run(behind_a_lock())
    finally:
        holder.close()
        store.close()
        store.engine.dispose()
    assert still_waiting  # the spare did not wait for the lock
    assert [result[0] for result in others] == ["genuine", "genuine"]  # type: ignore[index]
    assert stuck[0] == "genuine"  # type: ignore[index]


def test_scans_behind_a_second_stuck_batch_are_not_stranded(pg: tuple[Settings, Engine]) -> None:
    """Both connections stuck on locks, a scan waiting behind them; the first lock goes and
    its flush, seeing the other only just started, hands over to it. When that one stays
    stuck, the freed connection must still come back for the waiting scan (no new scan comes
    to ask), not leave it until the second lock goes."""
    settings, engine = pg
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=3, scan_limit=1)
    store = _store(settings)
    first, second = engine.connect(), engine.connect()
    lock = text("SELECT 1 FROM stamps WHERE code = :c FOR UPDATE")
    first.execute(lock, {"c": run.codes[0]})
    second.execute(lock, {"c": run.codes[1]})

    async def behind_two_locks() -> tuple[object, bool]:
        stuck = [asyncio.ensure_future(_scan(store, run.codes[0]))]
        await asyncio.sleep(0.06)  # the first batch is stuck: the spare takes the next
        stuck.append(asyncio.ensure_future(_scan(store, run.codes[1])))
        await asyncio.sleep(0.01)
        waiting = asyncio.ensure_future(_scan(store, run.codes[2]))  # no connection free
        await asyncio.sleep(0.01)
        await asyncio.to_thread(first.rollback)  # the first batch ends; the second is young
        found = await asyncio.wait_for(waiting, timeout=10)
        still_locked = not stuck[1].done()
        await asyncio.to_thread(second.rollback)
        await asyncio.gather(*stuck)
        return found, still_locked

    try:
        found, still_locked = asyncio.run(behind_two_locks())
    finally:
        first.close()
        second.close()
        store.close()
        store.engine.dispose()
    assert found[0] == "genuine"  # type: ignore[index]
    assert still_locked  # written while the second lock was still held


def test_connections_killed_between_batches_are_replaced(
    pg: tuple[Settings, Engine], postgres_url: str
) -> None:
    settings, engine = pg
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=2, scan_limit=1)
    store = _store(settings)

    async def two_scans() -> tuple[object, object]:
        first = await _scan(store, run.codes[0])
        await asyncio.to_thread(restart_connections, postgres_url)
        second = await _scan(store, run.codes[1])
        again = await _scan(store, run.codes[1])
        return first, (second, again)

    try:
        first, (second, again) = asyncio.run(two_scans())  # type: ignore[misc]
    finally:
        store.close()
        store.engine.dispose()
    assert first[0] == "genuine"
    assert second[0] == "genuine"
    assert second[1].scan_count == 1
    assert again[0] == "over_limit"


def test_closing_writes_every_queued_scan_first(pg: tuple[Settings, Engine]) -> None:
    """A server's shutdown closes the store after the last request: scans already handed to
    the writer are committed and answered, not dropped."""
    settings, engine = pg
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=50, scan_limit=1)
    store = _store(settings)

    async def scans_then_close() -> list[object]:
        pending = [asyncio.ensure_future(_scan(store, code)) for code in run.codes]
        await asyncio.sleep(0)  # every scan is queued
        await store.aclose()  # what the server's lifespan does after the last request
        return list(await asyncio.gather(*pending))

    try:
        results = asyncio.run(scans_then_close())
    finally:
        store.engine.dispose()
    assert [result[0] for result in results] == ["genuine"] * 50  # type: ignore[index]
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM scan_events")) == 50


def test_one_batch_of_every_outcome_answers_each_caller_its_own_stamp(
    pg: tuple[Settings, Engine],
) -> None:
    """One batch mixing counted, repeated, over-limit, not-activated, void and unknown codes
    (sql.PG_CONSUME_BATCH and the looks after it): each caller gets its own stamp's state,
    and each event row holds that scan's own time, client and agent."""
    settings, engine = pg
    sessions = make_sessionmaker(engine)
    twice = make_run(settings, engine, sessions, quantity=4, scan_limit=2)
    once = make_run(settings, engine, sessions, quantity=3, scan_limit=1)
    issued = make_run(settings, engine, sessions, quantity=2, state="issued")
    voided = make_run(settings, engine, sessions, quantity=2, state="void")
    base = utcnow()
    # (code, client) in the order they reach the writer; each scan a distinct microsecond.
    calls = [
        (twice.codes[0], ScanContext("203.0.113.0/24", "phone a")),
        (twice.codes[0], ScanContext(None, None)),
        (twice.codes[0], ScanContext("198.51.100.0/24", "phone c")),  # over its limit of 2
        (once.codes[1], ScanContext("192.0.2.0/24", "phone d")),
        (once.codes[1], ScanContext("192.0.2.0/24", "phone e")),  # over its limit of 1
        (issued.codes[0], ScanContext(None, "phone f")),
        (voided.codes[1], ScanContext("2001:db8::/64", "phone g")),
        ("X" * 24, ScanContext("203.0.113.0/24", "phone h")),  # no such stamp
        (twice.codes[3], ScanContext("203.0.113.0/24", "phone i")),
        (twice.codes[0], ScanContext("203.0.113.0/24", "phone j")),  # still over
    ]
    moments = [base.replace(microsecond=n) for n in range(len(calls))]
    items = [
        _Scan(code, moment, context) for (code, context), moment in zip(calls, moments, strict=True)
    ]
    store = _store(settings)
    pooled = store.engine.raw_connection()
    try:  # exactly one batch: its steps on a cursor (the writer may split a burst otherwise)
        connection = pooled.driver_connection
        results = in_cursor(connection, lambda cursor: run_steps(cursor, store._batch_steps(items)))
        connection.commit()
    finally:
        pooled.close()
        store.close()
        store.engine.dispose()
    sequences = {
        code: n for run in (twice, once, issued, voided) for n, code in enumerate(run.codes)
    }
    expected = [
        ("genuine", 1),
        ("genuine", 2),
        ("over_limit", 2),
        ("genuine", 1),
        ("over_limit", 1),
        ("not_activated", 0),
        ("void", 0),
        None,
        ("genuine", 1),
        ("over_limit", 2),
    ]
    for (code, _), result, wanted in zip(calls, results, expected, strict=True):
        if wanted is None:
            assert result is None
            continue
        outcome, state = result  # type: ignore[misc]
        assert (outcome, state.scan_count) == wanted, code
        # The caller's own stamp: its serial is its run's first plus its place in the run.
        same_run = next(run for run in (twice, once, issued, voided) if code in run.codes)
        assert state.sequence == _first_sequence(engine, same_run.run_id) + sequences[code]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT stamp_code, outcome, scan_number, scanned_at, client_net, user_agent,"
                " batch_id IS NOT NULL FROM scan_events ORDER BY scanned_at"
            )
        ).all()
        outbox = conn.scalar(text("SELECT count(*) FROM alert_outbox"))
    written = [(c, m) for c, m, w in zip(calls, moments, expected, strict=True) if w]
    assert len(rows) == len(written)
    for row, ((code, context), moment), want in zip(
        rows, written, [want for want in expected if want], strict=True
    ):
        assert row[0] == code
        assert row[1] == want[0]
        assert row[2] == (want[1] if want[0] == "genuine" else None)
        assert row[3] == moment
        assert (row[4], row[5]) == (context.client_net, context.user_agent)
        assert row[6] is (want[0] != "not_activated")  # issued stamps have no lot yet
    assert outbox == sum(1 for want in expected if want and want[0] != "genuine")


def _first_sequence(engine: Engine, run_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                text("SELECT first_sequence FROM stamp_runs WHERE id = :id"), {"id": run_id}
            )
        )


def test_page_views_from_threads_are_counted_beside_the_batches(
    pg: tuple[Settings, Engine],
) -> None:
    """Printed static codes counted from the thread pool (the GS1 resolver's redirects):
    each call returns after its own COMMIT, alongside the loop's batches of scans."""
    settings, engine = pg
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=30, scan_limit=1)
    store = _store(settings)

    def view() -> None:
        store.record_static(StaticView(run.product_id, None, run.org_id), utcnow(), PHONE)

    async def views_and_scans() -> list[object]:
        scans = [_scan(store, code) for code in run.codes]
        views = [asyncio.to_thread(view) for _ in range(30)]
        return list(await asyncio.gather(*scans, *views))

    try:
        results = asyncio.run(views_and_scans())
    finally:
        store.close()
        store.engine.dispose()
    assert [r[0] for r in results[:30]] == ["genuine"] * 30  # type: ignore[index]
    with engine.connect() as conn:
        kinds = dict(
            conn.execute(text("SELECT kind, count(*) FROM scan_events GROUP BY kind")).all()
        )
    assert kinds == {"dynamic": 30, "static": 30}


def test_page_views_from_the_loop_join_the_batches(pg: tuple[Settings, Engine]) -> None:
    """A static page served from memory is counted on the event loop (`record_static_soon`):
    each await returns after the COMMIT that wrote its view, in the scans' batches."""
    settings, engine = pg
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=20, scan_limit=1)
    store = _store(settings)

    async def views_and_scans() -> list[object]:
        scans = [_scan(store, code) for code in run.codes]
        views = [
            store.record_static_soon(StaticView(run.product_id, None, run.org_id), utcnow(), PHONE)
            for _ in range(40)
        ]
        return list(await asyncio.gather(*scans, *views))

    try:
        results = asyncio.run(views_and_scans())
        # Every await has returned: the rows are committed, seen from another connection.
        with engine.connect() as conn:
            kinds = dict(
                conn.execute(text("SELECT kind, count(*) FROM scan_events GROUP BY kind")).all()
            )
    finally:
        store.close()
        store.engine.dispose()
    assert [r[0] for r in results[:20]] == ["genuine"] * 20  # type: ignore[index]
    assert kinds == {"dynamic": 20, "static": 40}


def test_after_a_restart_every_dead_pooled_connection_is_replaced(
    pg: tuple[Settings, Engine], postgres_url: str
) -> None:
    """A database restart kills the writers' connections and every idle one in the pool: the
    next batches must not be retried on one dead connection after another (each retry a 503)."""
    settings, engine = pg
    run = make_run(settings, engine, make_sessionmaker(engine), quantity=12, scan_limit=1)
    store = _store(settings)

    async def warm_then_restart() -> list[object]:
        # Fill the pool: the writers' connections and idle ones from reads in threads.
        await asyncio.gather(*(asyncio.to_thread(store.peek, code) for code in run.codes))
        await _scan(store, run.codes[0])
        await asyncio.to_thread(restart_connections, postgres_url)
        return [await _scan(store, code) for code in run.codes[1:]]

    try:
        results = asyncio.run(warm_then_restart())
    finally:
        store.close()
        store.engine.dispose()
    assert [result[0] for result in results] == ["genuine"] * 11  # type: ignore[index]
