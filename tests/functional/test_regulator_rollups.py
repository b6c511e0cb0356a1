"""The dashboard's rollups equal the raw counts (issue 8): after any sequence of scans, folds
(whole or in small batches), places shared and scans undone; folding again or by two folders
at once counts nothing twice; an id committed out of order on PostgreSQL is not skipped.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.config import Settings
from chinhhang.db import session_scope
from chinhhang.localtime import DISPLAY_ZONE, local_day, vietnam_today
from chinhhang.regulator.filters import Filters
from chinhhang.regulator.rollups import GAPS_PER_PASS, SOURCES, Pass, catch_up, fold
from chinhhang.regulator.services import dashboard, figures
from chinhhang.regulator.sql import Scope
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.place import record_place
from chinhhang.scans.rollups import RollupGap, RollupMark, ScanRollup
from chinhhang.scans.tokens import ScanToken
from chinhhang.stamps.services import Selection, activate, void
from tests.conftest import cli_env
from tests.factories import RunFixture, make_run
from tests.functional.regulator_world import build_market

SCAN_SOURCE, STAMP_SOURCE = SOURCES
OUTCOMES = ("genuine", "over_limit", "not_activated", "void", "unknown")
PROVINCES = (None, 1, 48, 79)
OVERSEER = Actor(org_id=None, role=None, platform_admin=True)


def _scan(run: RunFixture, spec: tuple[Any, ...], today: date) -> ScanEvent:
    static, outcome, days_ago, minute, micro, product, province, code = spec
    when = datetime.combine(today - timedelta(days=days_ago), time(0), DISPLAY_ZONE)
    when = (when + timedelta(minutes=minute, microseconds=micro)).astimezone(UTC)
    return ScanEvent(
        kind="static" if static else "dynamic",
        outcome="product" if static else outcome,
        stamp_code=None if static else run.codes[code],
        org_id=None if outcome == "unknown" and not static else run.org_id,
        product_id=run.product_id if product else None,
        scanned_at=when,
        province_code=province,
    )


SCANS = st.tuples(
    st.booleans(),
    st.sampled_from(OUTCOMES),
    st.integers(0, 40),
    # Minutes after midnight in Vietnam: around both ends of a day.
    st.sampled_from((0, 1, 6 * 60, 23 * 60 + 59)),
    st.integers(1, 999_999),
    st.booleans(),
    st.sampled_from(PROVINCES),
    st.integers(0, 2),
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("scans"), st.lists(SCANS, min_size=1, max_size=8)),
        st.tuples(st.just("fold"), st.integers(1, 5)),
        st.tuples(st.just("place"), st.integers(0, 10**6), st.sampled_from((1, 48, 79, 2))),
        st.tuples(st.just("undo"), st.integers(0, 10**6)),
    ),
    min_size=1,
    max_size=12,
)


def _raw_counts(session: Session) -> Counter[tuple[Any, ...]]:
    """Every scan event by rollup key, counted from the rows."""
    key = (
        local_day(ScanEvent.scanned_at),
        func.coalesce(ScanEvent.org_id, 0),
        func.coalesce(ScanEvent.product_id, 0),
        func.coalesce(ScanEvent.province_code, 0),
        ScanEvent.kind,
        ScanEvent.outcome,
    )
    rows = session.execute(select(*key, func.count()).group_by(*key))
    return Counter({tuple(row[:-1]): int(row[-1]) for row in rows})


def _rollup_counts(session: Session) -> Counter[tuple[Any, ...]]:
    rollup = ScanRollup
    rows = session.execute(
        select(
            rollup.day,
            rollup.org_id,
            rollup.product_id,
            rollup.province_code,
            rollup.kind,
            rollup.outcome,
            rollup.scans,
        ).where(rollup.scans != 0)
    )
    return Counter({tuple(row[:-1]): int(row[-1]) for row in rows})


def _dashboard_counts(session: Session, filters: Filters) -> Counter[tuple[Any, ...]]:
    """What the dashboard counts (rollups and the rows not folded yet), by key."""
    counts = figures._scan_counts(session, Scope(overseer=True), filters)
    keys = [counts.c[name] for name in ("day", "org_id", "product_id", "province_code")]
    keys += [counts.c.kind, counts.c.outcome]
    rows = session.execute(select(*keys, func.sum(counts.c.scans)).group_by(*keys))
    return Counter(
        {
            (row[0], *(value or 0 for value in row[1:4]), *row[4:6]): int(row[6])
            for row in rows
            if row[6]
        }
    )


def _in_period(counts: Counter[tuple[Any, ...]], filters: Filters) -> Counter[tuple[Any, ...]]:
    first, last = filters.first.isoformat(), filters.last.isoformat()
    return Counter({key: n for key, n in counts.items() if first <= key[0] <= last})


@pytest.fixture
def run(settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> RunFixture:
    return make_run(settings, engine, sessions)


@hypothesis_settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_rollups_equal_the_raw_counts_after_any_sequence(
    settings: Settings, sessions: sessionmaker[Session], run: RunFixture, steps: list[Any]
) -> None:
    # Examples share the database: the counts accumulate, and must stay equal throughout.
    today = vietnam_today()
    filters = Filters(today - timedelta(days=40), today)
    for step in steps:
        with session_scope(sessions) as session:
            if step[0] == "scans":
                session.add_all(_scan(run, spec, today) for spec in step[1])
            elif step[0] == "fold":
                fold(session, SCAN_SOURCE, gap_seconds=0, batch=step[1])
            elif step[0] == "place":
                _share_place(session, step[1], step[2])
            else:
                _undo(session, step[1])
        with sessions() as session:
            expected = _in_period(_raw_counts(session), filters)
            assert _dashboard_counts(session, filters) == expected
    catch_up(sessions, settings)
    with sessions() as session:
        assert _rollup_counts(session) == _raw_counts(session)
        assert session.scalar(select(func.count()).select_from(RollupGap)) == 0
    # Folding again adds nothing.
    with session_scope(sessions) as session:
        assert fold(session, SCAN_SOURCE, gap_seconds=0).folded == 0
    with sessions() as session:
        assert _rollup_counts(session) == _raw_counts(session)


def _nth_dynamic(session: Session, n: int) -> ScanEvent | None:
    events = session.scalars(
        select(ScanEvent).where(ScanEvent.kind == "dynamic").order_by(ScanEvent.id)
    ).all()
    return events[n % len(events)] if events else None


def _share_place(session: Session, n: int, province: int) -> None:
    event = _nth_dynamic(session, n)
    if event is not None and event.stamp_code is not None:
        token = ScanToken(event.stamp_code, event.outcome, event.scanned_at)
        record_place(session, token, province_code=province)


def _undo(session: Session, n: int) -> None:
    """Undoing marks the event (scans/corrections.py); an undone scan still counts."""
    event = _nth_dynamic(session, n)
    if event is not None:
        session.execute(
            update(ScanEvent).where(ScanEvent.id == event.id).values(undone_at=datetime.now(UTC))
        )


def test_a_place_shared_after_the_fold_moves_the_count(
    settings: Settings, sessions: sessionmaker[Session], run: RunFixture
) -> None:
    today = vietnam_today()
    spec = (False, "over_limit", 0, 6 * 60, 123, True, None, 0)
    with session_scope(sessions) as session:
        session.add(_scan(run, spec, today))
    catch_up(sessions, settings)
    with session_scope(sessions) as session:
        event = session.scalars(select(ScanEvent)).one()
        token = ScanToken(str(event.stamp_code), event.outcome, event.scanned_at)
        record_place(session, token, province_code=79)
    with sessions() as session:
        provinces = session.execute(
            select(ScanRollup.province_code, ScanRollup.scans).order_by(ScanRollup.province_code)
        ).all()
        assert [tuple(row) for row in provinces] == [(79, 1)]
        table = figures.suspicious_by_province(session, Scope(overseer=True), Filters(today, today))
        assert [(row[0], row[-1]) for row in table.rows] == [(79, 1)]


def test_two_folders_at_once_count_nothing_twice(
    settings: Settings, sessions: sessionmaker[Session], run: RunFixture
) -> None:
    today = vietnam_today()
    with session_scope(sessions) as session:
        session.add_all(
            _scan(
                run, (i % 5 == 0, OUTCOMES[i % 5], i % 9, 60, i + 1, i % 2 == 0, None, i % 3), today
            )
            for i in range(300)
        )
    errors: list[BaseException] = []
    shared = threading.Barrier(3)

    def folder() -> None:
        try:
            shared.wait()
            while True:
                with session_scope(sessions) as session:
                    if not fold(session, SCAN_SOURCE, gap_seconds=0, batch=7).more:
                        break
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    def placer() -> None:
        try:
            shared.wait()
            for n in range(0, 300, 7):
                with session_scope(sessions) as session:
                    _share_place(session, n, 48)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=target) for target in (folder, folder, placer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    catch_up(sessions, settings)
    with sessions() as session:
        assert _rollup_counts(session) == _raw_counts(session)
        assert sum(_rollup_counts(session).values()) == 300


@pytest.mark.postgres
def test_an_id_committed_out_of_order_is_not_skipped(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session], run: RunFixture
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL commits ids out of order")
    today = vietnam_today()
    spec = (False, "genuine", 1, 60, 5, True, 1, 0)
    late = sessions()
    late.add(_scan(run, spec, today))
    late.flush()  # holds the smaller id, uncommitted
    rolled_back = sessions()
    rolled_back.add(_scan(run, spec, today))
    rolled_back.flush()
    with session_scope(sessions) as session:
        session.add(_scan(run, spec, today))  # the larger id, committed first
    assert catch_up(sessions, settings)["scan_events"] == 1
    with sessions() as session:
        mark = session.scalar(
            select(RollupMark.folded_to).where(RollupMark.source == "scan_events")
        )
        gaps = session.scalar(select(func.count()).select_from(RollupGap))
        assert gaps == 1  # the two open ids, one run
        assert (
            sum(_dashboard_counts(session, Filters(today - timedelta(days=2), today)).values()) == 1
        )
    assert mark is not None
    late.commit()
    late.close()
    rolled_back.rollback()
    rolled_back.close()
    with sessions() as session:
        assert (
            sum(_dashboard_counts(session, Filters(today - timedelta(days=2), today)).values()) == 2
        )
    assert catch_up(sessions, settings)["scan_events"] == 1
    with sessions() as session:
        assert _rollup_counts(session) == _raw_counts(session)
        # The rolled-back id stays a gap while it is young...
        assert session.scalar(select(func.count()).select_from(RollupGap)) == 1
    # ...and is dropped once no transaction that old is open (and the minimum age passed).
    with session_scope(sessions) as session:
        fold(session, SCAN_SOURCE, gap_seconds=0)
    with session_scope(sessions) as session:
        fold(session, SCAN_SOURCE, gap_seconds=0)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RollupGap)) == 0
        assert _rollup_counts(session) == _raw_counts(session)


def _tables(session: Session, actor: Actor, filters: Filters) -> dict[str, Any]:
    board = dashboard(session, actor, filters)
    return {name: table.rows for name, table in board.tables.items()}


def test_the_dashboard_is_the_same_before_during_and_after_folding(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    market = build_market(settings, engine, sessions)
    today = market.today
    viewers = [
        OVERSEER,
        Actor(org_id=market.a.org_id, role="viewer"),
        Actor(org_id=market.d.org_id, role="viewer"),
    ]
    cases = [
        Filters(today - timedelta(days=29), today),
        Filters(today - timedelta(days=3), today, province=1),
        Filters(today - timedelta(days=365), today, product_id=market.a_products[0]),
        Filters(today, today, org_id=market.b.org_id),
    ]

    def everything() -> list[Any]:
        with sessions() as session:
            return [
                _tables(session, viewer, filters)
                for viewer in viewers
                for filters in cases
                if viewer is OVERSEER or (filters.org_id is None and _may(viewer, filters))
            ]

    def _may(viewer: Actor, filters: Filters) -> bool:
        # Only the maker filters by its own product.
        return filters.product_id is None or viewer.org_id == market.a.org_id

    before = everything()
    with session_scope(sessions) as session:
        fold(session, SCAN_SOURCE, gap_seconds=0, batch=3)
        fold(session, STAMP_SOURCE, gap_seconds=0, batch=2)
    assert everything() == before
    catch_up(sessions, settings)
    assert everything() == before
    # Stamps activated and voided after the fold are counted at once, and once folded.
    with session_scope(sessions) as session:
        maker = Actor.command_line(market.a.org_id)
        last = market.a_stamps[5][1]
        activate(
            session,
            maker,
            selection=Selection(first=last, last=last),
            product_id=market.a_products[0],
        )
        void(session, maker, selection=Selection(first=market.a_stamps[0][1], last=last))
    with sessions() as session:
        expected = figures._stamps_counted(session, Scope(overseer=True), cases[0])
        assert figures.stamps_by_organization(session, Scope(overseer=True), cases[0]) == expected
        product = cases[2]
        expected_product = figures._stamps_counted(session, Scope(overseer=True), product)
        assert (
            figures.stamps_by_organization(session, Scope(overseer=True), product)
            == expected_product
        )
    catch_up(sessions, settings)
    with sessions() as session:
        assert figures.stamps_by_organization(session, Scope(overseer=True), cases[0]) == expected
        assert (
            figures.stamps_by_organization(session, Scope(overseer=True), product)
            == expected_product
        )


@pytest.mark.usefixtures("run")
def test_the_cli_folds_everything_waiting(settings: Settings) -> None:
    extra = {"CHINHHANG_DATABASE_URL": settings.database_url} if settings.database_url else {}
    done = subprocess.run(
        [sys.executable, "-m", "chinhhang", "regulator", "rollup", "--once"],
        env=cli_env(settings.data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # make_run's run: its commissioning and its activation.
    assert "0 scan events and 2 stamp events folded" in done.stdout


@pytest.mark.postgres
def test_many_young_gaps_do_not_keep_the_folder_busy(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session], run: RunFixture
) -> None:
    """More rolled-back ids than a pass looks at, all too young to drop: a pass says nothing
    more waits (the worker pauses, the CLI returns) instead of looping on them for minutes."""
    if engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL leaves ids of rolled-back rows behind")
    today = vietnam_today()
    spec = (False, "genuine", 1, 60, 5, True, 1, 0)
    for _ in range(GAPS_PER_PASS + 30):
        lost = sessions()
        lost.add(_scan(run, spec, today))
        lost.flush()
        lost.rollback()
        lost.close()
        with session_scope(sessions) as session:
            session.add(_scan(run, spec, today))
    passes = []
    for _ in range(5):  # bounded: the folder before this fix looped here without end
        with session_scope(sessions) as session:
            passes.append(fold(session, SCAN_SOURCE, gap_seconds=settings.rollup_gap_seconds))
    assert passes[0] == Pass(GAPS_PER_PASS + 30, False)
    assert passes[1:] == [Pass(0, False)] * 4
    assert catch_up(sessions, settings)["scan_events"] == 0
    with sessions() as session:
        assert _rollup_counts(session) == _raw_counts(session)
