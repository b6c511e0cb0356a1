"""Custody: shipping and receiving stamps, and what each organization then sees."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import create_organization
from chinhhang.db import session_scope
from chinhhang.errors import Conflict, Forbidden, InvalidInput, NotFound
from chinhhang.stamps.models import StampEvent
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import (
    Selection,
    get_shipment,
    list_shipments,
    list_stamps,
    receive,
    ship,
    stamp_counts,
)
from tests.factories import make_run


def _chain(settings, engine, sessions, quantity: int = 10):
    run = make_run(settings, engine, sessions, quantity=quantity)
    with session_scope(sessions) as session:
        distributor = create_organization(session, name="Phân phối", kind="distributor")
        retailer = create_organization(session, name="Bán lẻ", kind="retailer")
        ids = (distributor.id, retailer.id)
    return (
        run,
        Actor.command_line(run.org_id),
        Actor.command_line(ids[0]),
        Actor.command_line(ids[1]),
    )


def _serials(rows) -> list[str]:
    return [row.serial for row in rows]


def test_a_range_travels_maker_to_distributor_to_retailer(settings, engine, sessions) -> None:
    run, maker, distributor, retailer = _chain(settings, engine, sessions)
    with session_scope(sessions) as session:
        shipment = ship(
            session,
            maker,
            to_org_id=distributor.org_id,
            selection=Selection.parse(serials=f"{serial_for(3)}-{serial_for(7)}"),
            reference="PX1",
        )
        assert (shipment.quantity, shipment.status) == (5, "in_transit")
        assert list_stamps(session, distributor) == []  # not received yet
        incoming = list_stamps(session, distributor, shipment_id=shipment.id)
        assert _serials(incoming) == [grouped(serial_for(n)) for n in range(3, 8)]
        assert all(row.in_transit for row in incoming)
        receive(session, distributor, shipment.id)
    with session_scope(sessions) as session:
        assert _serials(list_stamps(session, distributor)) == [
            grouped(serial_for(n)) for n in range(3, 8)
        ]
        assert get_shipment(session, maker, shipment.id).status == "received"
        assert stamp_counts(session, distributor)["total"] == 5
        onward = ship(
            session,
            distributor,
            to_org_id=retailer.org_id,
            selection=Selection.parse(
                serials=f"{serial_for(3)},{serial_for(4)}", issuer_org_id=run.org_id
            ),
        )
        receive(session, retailer, onward.id)
    with session_scope(sessions) as session:
        assert len(list_stamps(session, distributor)) == 3
        assert _serials(list_stamps(session, retailer)) == [
            grouped(serial_for(3)),
            grouped(serial_for(4)),
        ]
        actions = session.scalars(select(StampEvent.action).order_by(StampEvent.id)).all()
        assert actions == [
            "commissioning",
            "activating",
            "shipping",
            "receiving",
            "shipping",
            "receiving",
        ]
        assert [s.id for s in list_shipments(session, distributor, direction="incoming")] == [
            shipment.id
        ]


def test_nothing_ships_unless_every_stamp_is_active_and_held(settings, engine, sessions) -> None:
    run, maker, distributor, retailer = _chain(settings, engine, sessions, quantity=4)
    everything = Selection(run_id=run.run_id)
    with session_scope(sessions) as session:
        ship(
            session,
            maker,
            to_org_id=distributor.org_id,
            selection=Selection.parse(serials=serial_for(1)),
        )
    with session_scope(sessions) as session:
        with pytest.raises(Conflict, match="1 of the 4"):
            ship(session, maker, to_org_id=distributor.org_id, selection=everything)
        with pytest.raises(Conflict):  # serial 9 was never issued
            ship(
                session,
                maker,
                to_org_id=distributor.org_id,
                selection=Selection.parse(serials=f"{serial_for(2)}-{serial_for(9)}"),
            )
        with pytest.raises(NotFound):  # the distributor does not hold serial 2
            ship(
                session,
                distributor,
                to_org_id=retailer.org_id,
                selection=Selection.parse(serials=serial_for(2), issuer_org_id=run.org_id),
            )
    with session_scope(sessions) as session:
        assert len(list_stamps(session, distributor, shipment_id=1)) == 1


def test_receivers_must_exist_be_approved_and_receive(settings, engine, sessions) -> None:
    run, maker, distributor, retailer = _chain(settings, engine, sessions, quantity=2)
    one = Selection.parse(serials=serial_for(1))
    with session_scope(sessions) as session:
        regulator = create_organization(session, name="QLTT", kind="regulator")
        waiting = create_organization(session, name="Chờ", kind="distributor", approved=False)
        for target in (regulator.id, waiting.id, 999_999):
            with pytest.raises(NotFound):
                ship(session, maker, to_org_id=target, selection=one)
        with pytest.raises(InvalidInput):
            ship(
                session,
                Actor.command_line(distributor.org_id),
                to_org_id=distributor.org_id,
                selection=one,
            )
        shipment = ship(session, maker, to_org_id=distributor.org_id, selection=one)
        with pytest.raises(NotFound):  # only the receiver receives
            receive(session, retailer, shipment.id)
        with pytest.raises(Forbidden):  # a manufacturer does not receive
            receive(session, maker, shipment.id)
        receive(session, distributor, shipment.id)
        with pytest.raises(Conflict):
            receive(session, distributor, shipment.id)
        with pytest.raises(NotFound):  # strangers cannot see it
            get_shipment(session, retailer, shipment.id)
        with pytest.raises(Forbidden):
            ship(
                session,
                Actor(org_id=run.org_id, role="viewer"),
                to_org_id=distributor.org_id,
                selection=Selection.parse(serials=serial_for(2)),
            )
