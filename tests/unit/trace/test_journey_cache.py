"""The genuine page's journey from memory (trace/journey_cache.py, trace/journey_page.py): it
tells what the per-stamp reading (`stamp_journey`, the reference) tells, and learns of steps
recorded after it was loaded once the refresh interval has passed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import anyio
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.db import make_read_sessionmaker, session_scope, utcnow
from chinhhang.scans.services import Verdict
from chinhhang.scans.sql import GENUINE
from chinhhang.scans.store import ScanStore
from chinhhang.stamps.models import Shipment, StampEvent
from chinhhang.stamps.serials import serial_for
from chinhhang.stamps.services import Selection, receive, ship
from chinhhang.templating import Pages
from chinhhang.trace import journey_cache
from chinhhang.trace.journey import stamp_journey
from chinhhang.trace.journey_cache import REFRESH_SECONDS, SETTLE_SECONDS, CustodyIndex
from chinhhang.trace.journey_page import TEMPLATE, GenuineJourney
from tests.unit.trace.test_journey import Chain, first_scan, make_chain, org, ship_and_receive


class Clock:
    """The index's clock, moved by hand: no test sleeps through a refresh interval."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = REFRESH_SECONDS) -> None:
        self.now += seconds


def cached(engine, clock: Clock, **options) -> GenuineJourney:
    index = CustodyIndex(clock=clock, **options)
    return GenuineJourney(make_read_sessionmaker(engine), index)


def verdict_of(store: ScanStore, code: str) -> Verdict:
    """The genuine verdict a scan of `code` would carry, without counting one."""
    state, _grace = store.peek(code)
    described = store.describe(state.product_id, state.batch_id)
    serial = serial_for(state.sequence)
    return Verdict(
        GENUINE, code=code, serial=serial, first_scanned_at=state.first_scanned_at, **described
    )


def page_of(journey: GenuineJourney, verdict: Verdict, lang: str = "en") -> str | None:
    return anyio.run(journey.html, lang, verdict)


def reference_page(sessions, code: str, lang: str = "en") -> str:
    with sessions() as session:
        return Pages().html(lang, TEMPLATE, {"journey": stamp_journey(session, code)})


@dataclass
class Custody:
    """The test's own model of who holds which stamp, so that every step it asks for is one
    the services accept."""

    sessions: sessionmaker
    chains: list[Chain]
    receivers: list[int]
    shippers: set[int]  # makers and distributors (retailers do not ship)
    rng: random.Random
    holder: dict[tuple[int, int], int] = field(default_factory=dict)
    travelling: list[tuple[int, int, list[tuple[int, int]]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for chain in self.chains:
            for sequence in range(chain.first, chain.first + len(chain.codes)):
                self.holder[(chain.maker, sequence)] = chain.maker

    def step(self) -> None:
        """Receive a travelling shipment, or ship a random range of stamps one holder has."""
        if self.travelling and self.rng.random() < 0.3:
            shipment, receiver, stamps = self.travelling.pop(
                self.rng.randrange(len(self.travelling))
            )
            self._receive(shipment, receiver, stamps)
            return
        chain = self.rng.choice(self.chains)
        first, last = self._range(chain)
        sender = self.holder[(chain.maker, first)]
        receiver = self.rng.choice([r for r in self.receivers if r != sender])
        with session_scope(self.sessions) as session:
            selection = Selection(first=first, last=last, issuer_org_id=chain.maker)
            shipment = ship(
                session, Actor.command_line(sender), to_org_id=receiver, selection=selection
            ).id
        stamps = [(chain.maker, s) for s in range(first, last + 1)]
        for stamp in stamps:
            self.holder[stamp] = 0  # travelling
        if self.rng.random() < 0.7:
            self._receive(shipment, receiver, stamps)
        else:
            self.travelling.append((shipment, receiver, stamps))

    def _range(self, chain: Chain) -> tuple[int, int]:
        """Stamps next to each other with one holder, not travelling: widths of 1 to a whole
        run, spread over every power of two."""
        end = chain.first + len(chain.codes) - 1
        held = [
            s for s in range(chain.first, end + 1) if self.holder[(chain.maker, s)] in self.shippers
        ]
        start = self.rng.choice(held)
        width = int(2 ** self.rng.uniform(0, 7))
        owner = self.holder[(chain.maker, start)]
        first = last = start
        while first > chain.first and self.holder[(chain.maker, first - 1)] == owner:
            if last - first + 1 >= width:
                break
            first -= 1
        while last < end and self.holder[(chain.maker, last + 1)] == owner:
            if last - first + 1 >= width:
                break
            last += 1
        return first, last

    def _receive(self, shipment: int, receiver: int, stamps: list[tuple[int, int]]) -> None:
        with session_scope(self.sessions) as session:
            receive(session, Actor.command_line(receiver), shipment)
        for stamp in stamps:
            self.holder[stamp] = receiver


def test_the_interval_index_finds_every_range_over_a_serial() -> None:
    """Pure: ranges of every width from one serial to a million, loaded at once and then
    added a few and many at a time (copied arrays, or sorted again), against a plain scan."""
    rng = random.Random(7)

    def ranges(count: int, start: int) -> list[tuple[int, ...]]:
        made = []
        for n in range(start, start + count):
            first = rng.randrange(1, 2_000_000)
            width = int(10 ** rng.uniform(0, 6))
            made.append((n, first, first + width - 1, n, 1, 2, n % 2))
        return made

    rows = ranges(3_000, 1)
    held = journey_cache._Issuer.of(list(rows))
    for count in (5, 64, 65, 1_000):
        added = ranges(count, len(rows) + 1)
        held, rows = held.with_rows(added), rows + added
    assert held.count == len(rows)
    for sequence in [rng.randrange(1, 3_000_000) for _ in range(300)]:
        expected = sorted(row for row in rows if row[1] <= sequence <= row[2])
        assert sorted(held.over(sequence)) == expected


@pytest.mark.parametrize("few_rows", [64, 0], ids=["copied", "sorted-again"])
def test_the_index_tells_every_stamp_what_stamp_journey_reads(
    settings, engine, sessions, monkeypatch, few_rows
) -> None:
    """Random shipments and receipts of random ranges of two makers' runs (the same serials
    under two issuers), some before the index is loaded and some after, some stamps verified
    in between: every stamp's journey from memory equals the one read from the database, as
    a Journey and as the page's HTML."""
    monkeypatch.setattr(journey_cache, "_FEW_ROWS", few_rows)
    chains = [make_chain(settings, engine, sessions, quantity=80) for _ in range(2)]
    distributors = [org(sessions, "distributor") for _ in range(2)]
    receivers = [*distributors, org(sessions, "retailer")]
    shippers = {*distributors, *(chain.maker for chain in chains)}
    custody = Custody(sessions, chains, receivers, shippers, random.Random(20261127))
    for _ in range(12):
        custody.step()
    clock = Clock()
    journey = cached(engine, clock)
    store = ScanStore(engine)
    try:
        for chain in chains:  # loads both issuers
            assert page_of(journey, verdict_of(store, chain.codes[0])) is not None
        for chain in chains:
            for code in chain.codes[::7]:
                first_scan(engine, code)
        for _ in range(24):
            custody.step()
        clock.advance()
        assert page_of(journey, verdict_of(store, chains[0].codes[1])) is not None  # refreshes
        for chain in chains:
            for code in chain.codes:
                verdict = verdict_of(store, code)
                with sessions() as session:
                    assert journey.journey_of(verdict) == stamp_journey(session, code)
        for code in chains[0].codes[::5]:
            verdict = verdict_of(store, code)
            assert page_of(journey, verdict, "vi") == reference_page(sessions, code, "vi")
    finally:
        store.close()


def test_a_step_recorded_after_loading_shows_once_the_interval_has_passed(
    settings, engine, sessions
) -> None:
    chain = make_chain(settings, engine, sessions)
    distributor = org(sessions, "distributor")
    clock, store = Clock(), ScanStore(engine)
    journey = cached(engine, clock)
    try:
        verdict = verdict_of(store, chain.codes[0])
        assert [s.kind for s in page_journey(journey, verdict).stages] == ["made"]
        ship_and_receive(sessions, chain.maker, distributor, chain.maker, chain.first, chain.first)
        clock.advance(REFRESH_SECONDS - 0.1)
        assert [s.kind for s in page_journey(journey, verdict).stages] == ["made"]
        clock.advance(0.1)
        stages = page_journey(journey, verdict).stages
        assert [s.kind for s in stages] == ["made", "shipped", "received"]
        with sessions() as session:
            assert stamp_journey(session, chain.codes[0]).stages == stages
    finally:
        store.close()


def page_journey(journey: GenuineJourney, verdict: Verdict):
    """The journey after the page asked for it (which refreshes when due)."""
    assert page_of(journey, verdict) is not None
    return journey.journey_of(verdict)


def test_a_step_committed_after_a_higher_id_is_still_read(settings, engine, sessions) -> None:
    """On PostgreSQL a row can become visible after rows with higher ids (its transaction
    commits later): the refresh reads again the ids of the last SETTLE_SECONDS."""
    chain = make_chain(settings, engine, sessions)
    distributor = org(sessions, "distributor")
    ship_and_receive(sessions, chain.maker, distributor, chain.maker, chain.first, chain.first)
    clock, store = Clock(), ScanStore(engine)
    journey = cached(engine, clock)
    try:
        verdict = verdict_of(store, chain.codes[1])
        for _ in range(3):  # long enough for the window's mark to trail the highest id
            page_journey(journey, verdict)
            clock.advance(SETTLE_SECONDS + 1)
        with sessions() as session:
            highest = session.scalar(select(func.max(StampEvent.id)))
        late_step(sessions, chain, distributor, event_id=highest + 10)
        clock.advance()
        assert [s.kind for s in page_journey(journey, verdict).stages] == ["made", "shipped"]
        late_step(sessions, chain, distributor, event_id=highest + 5, receiving=True)
        clock.advance()
        stages = page_journey(journey, verdict).stages
        assert [s.kind for s in stages] == ["made", "shipped", "received"]
    finally:
        store.close()


def late_step(sessions, chain: Chain, distributor: int, *, event_id: int, receiving=False):
    """A custody step of the run's second stamp with a chosen id, as a transaction that took
    its id before others and committed after them would leave it."""
    with session_scope(sessions) as session:
        shipment = session.scalar(select(Shipment).where(Shipment.to_org_id == distributor))
        session.add(
            StampEvent(
                id=event_id,
                at=utcnow(),
                action="receiving" if receiving else "shipping",
                org_id=distributor if receiving else chain.maker,
                issuer_org_id=chain.maker,
                first_sequence=chain.first + 1,
                last_sequence=chain.first + 1,
                quantity=1,
                shipment_id=shipment.id,
            )
        )


def test_an_issuer_with_too_many_steps_is_read_stamp_by_stamp(settings, engine, sessions) -> None:
    chain = make_chain(settings, engine, sessions)
    distributor, retailer = org(sessions, "distributor"), org(sessions, "retailer")
    ship_and_receive(sessions, chain.maker, distributor, chain.maker, chain.first, chain.first)
    clock, store = Clock(), ScanStore(engine)
    journey = cached(engine, clock, max_steps=2)
    try:
        verdict = verdict_of(store, chain.codes[0])
        assert page_of(journey, verdict) == reference_page(sessions, chain.codes[0])
        assert not journey.index.too_many(chain.maker)
        ship_and_receive(sessions, distributor, retailer, chain.maker, chain.first, chain.first)
        clock.advance()
        assert page_of(journey, verdict) == reference_page(sessions, chain.codes[0])
        assert journey.index.too_many(chain.maker)
        assert journey.journey_of(verdict) is None  # nothing of it held
    finally:
        store.close()


def test_a_database_failure_costs_the_timeline_only(settings, engine, sessions, tmp_path) -> None:
    chain = make_chain(settings, engine, sessions)
    clock, store = Clock(), ScanStore(engine)
    try:
        verdict = verdict_of(store, chain.codes[0])
    finally:
        store.close()
    broken = create_engine(f"sqlite:///{tmp_path}/missing/folder/db.sqlite")
    assert page_of(GenuineJourney(sessionmaker(broken), CustodyIndex(clock=clock)), verdict) is None
    held = cached(engine, clock)
    assert page_of(held, verdict) is not None
    held.sessions = sessionmaker(broken)
    clock.advance()
    # What is held still answers; the failure is not retried for a refresh interval.
    assert page_of(held, verdict) == reference_page(sessions, chain.codes[0])
    assert held.index.stale(chain.maker)
