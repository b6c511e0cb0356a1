"""Runs while they are written, the activation they were issued with, and racing shipments."""

from __future__ import annotations

import threading
import time
from threading import Event

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import create_organization
from chinhhang.catalog.services import create_product
from chinhhang.db import session_scope
from chinhhang.errors import Conflict, InvalidInput, NotFound
from chinhhang.stamps.models import Stamp, StampEvent, StampRun
from chinhhang.stamps.serials import serial_for
from chinhhang.stamps.services import (
    Selection,
    activate,
    complete_run,
    count_by_status,
    create_run,
    fill_run,
    serials_in_run,
    ship,
    void,
)
from chinhhang.web import create_app
from tests.factories import gtin, make_run


def _maker(sessions):
    with session_scope(sessions) as session:
        org = create_organization(session, name="Xưởng", kind="manufacturer")
        actor = Actor.command_line(org.id)
        product = create_product(session, actor, name="Bánh", gtin=gtin())
        return actor, product.id


def test_a_run_being_written_cannot_be_acted_on_as_a_whole(settings, engine, sessions) -> None:
    actor, product_id = _maker(sessions)
    with session_scope(sessions) as session:
        run = create_run(session, actor, quantity=5)
    whole = Selection(run_id=run.id)
    with session_scope(sessions) as session:
        with pytest.raises(Conflict, match="still being issued"):
            void(session, actor, selection=whole)
        with pytest.raises(Conflict, match="still being issued"):
            activate(session, actor, selection=whole, product_id=product_id)
    stop = Event()
    stop.set()
    fill_run(engine, run, settings.keyring, stop=stop)  # a shutdown: nothing written
    with session_scope(sessions) as session:
        assert session.get(StampRun, run.id).status == "issuing"
    fill_run(engine, run, settings.keyring)
    with session_scope(sessions) as session:
        assert void(session, actor, selection=whole) == 5


def test_the_activation_asked_at_issue_happens_once_when_filled(settings, engine, sessions) -> None:
    actor, product_id = _maker(sessions)
    with session_scope(sessions) as session:
        run = create_run(session, actor, quantity=4, product_id=product_id, lot="L9")
    with session_scope(sessions) as session:
        assert complete_run(session, run.id) == 0  # not filled yet
    fill_run(engine, run, settings.keyring)
    with session_scope(sessions) as session:
        assert complete_run(session, run.id) == 4
        assert complete_run(session, run.id) == 0
        assert count_by_status(session, run.id) == {"active": 4}


def test_a_restart_resumes_the_fill_and_the_activation(settings, sessions) -> None:
    actor, product_id = _maker(sessions)
    with session_scope(sessions) as session:
        run = create_run(session, actor, quantity=3, product_id=product_id)
    with TestClient(create_app(settings)):  # start-up resumes unfinished runs
        for _ in range(200):
            with session_scope(sessions) as session:
                if count_by_status(session, run.id) == {"active": 3}:
                    break
            time.sleep(0.05)
    with session_scope(sessions) as session:
        assert count_by_status(session, run.id) == {"active": 3}
        assert session.get(StampRun, run.id).status == "ready"


def test_events_cover_only_the_stamps_that_changed(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, quantity=6, state="issued")
    actor = Actor.command_line(run.org_id)
    with session_scope(sessions) as session:
        void(session, actor, selection=Selection.parse(serials=serial_for(3)))
        activate(session, actor, selection=Selection(run_id=run.run_id), product_id=run.product_id)
        spans = session.execute(
            select(StampEvent.first_sequence, StampEvent.last_sequence)
            .where(StampEvent.action == "activating")
            .order_by(StampEvent.first_sequence)
        ).all()
    assert [tuple(s) for s in spans] == [(1, 2), (4, 6)]


def test_serials_typed_on_a_run_page_must_belong_to_it(settings, engine, sessions) -> None:
    first = make_run(settings, engine, sessions, quantity=3)
    actor = Actor.command_line(first.org_id)
    with session_scope(sessions) as session:
        second = create_run(session, actor, quantity=3)  # serials 4 to 6
        assert serials_in_run(session, actor, second.id, serial_for(5)).sequences == (5,)
        with pytest.raises(InvalidInput, match="not in this run"):
            serials_in_run(session, actor, second.id, f"{serial_for(2)}-{serial_for(5)}")


def test_ranges_wider_than_any_run_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at most 50,000,000"):
        Selection.parse(serials=f"{serial_for(1)}-{serial_for(99_999_999_999)}")


def test_a_distributor_cannot_probe_a_makers_serials_or_runs(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, quantity=3)
    with session_scope(sessions) as session:
        nosy = create_organization(session, name="Tò mò", kind="distributor")
        other = create_organization(session, name="Khác", kind="retailer")
        nosy_actor, target = Actor.command_line(nosy.id), other.id
    with session_scope(sessions) as session:
        for serials in (serial_for(1), serial_for(2000)):  # one issued, one never issued
            with pytest.raises(NotFound, match="No stamps match"):
                ship(
                    session,
                    nosy_actor,
                    to_org_id=target,
                    selection=Selection.parse(serials=serials, issuer_org_id=run.org_id),
                )
        with pytest.raises(InvalidInput, match="run belongs"):
            ship(
                session,
                nosy_actor,
                to_org_id=target,
                selection=Selection(run_id=run.run_id, issuer_org_id=run.org_id),
            )


def test_two_shipments_of_the_same_stamps_at_once_ship_them_once(
    settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, quantity=10)
    maker = Actor.command_line(run.org_id)
    with session_scope(sessions) as session:
        ids = [create_organization(session, name=f"Kho {n}", kind="distributor").id for n in (1, 2)]
    everything = Selection(run_id=run.run_id)
    outcomes: list[str] = []
    first_shipped = threading.Event()

    def second() -> None:
        first_shipped.wait(10)
        try:
            with session_scope(sessions) as session:
                ship(session, maker, to_org_id=ids[1], selection=everything)
            outcomes.append("shipped")
        except (Conflict, NotFound):
            outcomes.append("refused")

    racer = threading.Thread(target=second)
    racer.start()
    with session_scope(sessions) as session:
        ship(session, maker, to_org_id=ids[0], selection=everything)
        session.flush()
        first_shipped.set()
        time.sleep(0.3)  # the second shipment is now waiting on our rows (or our write lock)
    racer.join(30)
    assert outcomes == ["refused"]
    with session_scope(sessions) as session:
        travelling = session.scalar(
            select(func.count()).select_from(Stamp).where(Stamp.shipment_id.is_not(None))
        )
        assert travelling == 10
