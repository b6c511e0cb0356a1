from __future__ import annotations

import pytest
from sqlalchemy import select

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import create_organization
from chinhhang.catalog.services import create_product
from chinhhang.db import session_scope
from chinhhang.errors import Conflict, Forbidden, InvalidInput, NotFound
from chinhhang.stamps.models import Stamp, StampRun
from chinhhang.stamps.serials import serial_for
from chinhhang.stamps.services import (
    Selection,
    activate,
    check_binding,
    count_by_status,
    create_run,
    fill_run,
    void,
)
from tests.factories import gtin, make_run


def test_a_run_gets_consecutive_serials_and_ready_status(settings, engine, sessions) -> None:
    first = make_run(settings, engine, sessions, quantity=5, state="issued")
    with session_scope(sessions) as session:
        run = session.get(StampRun, first.run_id)
        assert run.status == "ready"
        sequences = session.scalars(select(Stamp.sequence).where(Stamp.run_id == run.id)).all()
        second = create_run(session, Actor.command_line(first.org_id), quantity=3)
    assert sorted(sequences) == [1, 2, 3, 4, 5]
    assert second.first_sequence == 6


def test_activation_binds_only_issued_stamps(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, quantity=10, state="issued")
    with session_scope(sessions) as session:
        ranged = Selection.parse(serials=f"{serial_for(2)}-{serial_for(4)}")
        assert (
            activate(
                session, Actor.command_line(run.org_id), selection=ranged, product_id=run.product_id
            )
            == 3
        )
        listed = Selection.parse(serials=f"{serial_for(4)}, {serial_for(9)}")
        assert (
            activate(
                session, Actor.command_line(run.org_id), selection=listed, product_id=run.product_id
            )
            == 1
        )
        assert (
            void(session, Actor.command_line(run.org_id), selection=Selection(run_id=run.run_id))
            == 10
        )
        assert count_by_status(session, run.run_id) == {"void": 10}


def test_another_organization_cannot_touch_the_stamps(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, quantity=4, state="issued")
    with session_scope(sessions) as session:
        intruder = create_organization(session, name="Đối thủ", kind="manufacturer")
        theirs = create_product(session, Actor.command_line(intruder.id), name="Giả", gtin=gtin())
        with pytest.raises(NotFound):
            void(session, Actor.command_line(intruder.id), selection=Selection(run_id=run.run_id))
        by_serial = Selection.parse(serials=f"{serial_for(1)}-{serial_for(4)}")
        assert void(session, Actor.command_line(intruder.id), selection=by_serial) == 0
        with pytest.raises(NotFound):
            activate(
                session,
                Actor.command_line(intruder.id),
                selection=by_serial,
                product_id=run.product_id,
            )
        with pytest.raises(NotFound):  # nor can a maker put its stamps on another's product
            activate(
                session, Actor.command_line(run.org_id), selection=by_serial, product_id=theirs.id
            )
    with session_scope(sessions) as session:
        assert count_by_status(session, run.run_id) == {"issued": 4}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": 0}, "1 to 50,000,000"),
        ({"quantity": 50_000_001}, "1 to 50,000,000"),
        ({"quantity": 1, "scan_limit": 0}, "scan limit"),
        ({"quantity": 1, "grace_minutes": -1}, "grace period"),
    ],
)
def test_run_limits(sessions, kwargs, message) -> None:
    with session_scope(sessions) as session:
        org = create_organization(session, name="Org", kind="manufacturer")
        with pytest.raises(InvalidInput, match=message):
            create_run(session, Actor.command_line(org.id), **kwargs)


@pytest.mark.parametrize(
    ("run_id", "serials"),
    [(None, None), (1, "000000000013"), (None, "12-"), (None, "000000000021-000000000013")],
)
def test_bad_selections(run_id, serials) -> None:
    with pytest.raises(InvalidInput):
        Selection.parse(run_id=run_id, serials=serials)


def test_fill_run_reports_progress(settings, engine, sessions) -> None:
    with session_scope(sessions) as session:
        org = create_organization(session, name="P", kind="manufacturer")
        run = create_run(session, Actor.command_line(org.id), quantity=120_000)
    seen: list[int] = []
    fill_run(engine, run, settings.keyring, seen.append)
    assert sum(seen) == 120_000
    assert len(seen) == 3


@pytest.mark.parametrize("kind", ["distributor", "retailer", "regulator"])
def test_only_manufacturers_make_products_and_stamps(sessions, kind: str) -> None:
    with session_scope(sessions) as session:
        org = create_organization(session, name=f"Not a maker {kind}", kind=kind)
        with pytest.raises(Forbidden, match="cannot do this"):
            create_product(session, Actor.command_line(org.id), name="Giả", gtin=gtin())
        with pytest.raises(Forbidden, match="cannot do this"):
            create_run(session, Actor.command_line(org.id), quantity=5)


def test_organization_names_are_unique(sessions) -> None:
    with session_scope(sessions) as session:
        create_organization(session, name="Công ty A", kind="manufacturer")
        with pytest.raises(Conflict, match="already exists"):
            create_organization(session, name=" Công ty A ", kind="distributor")


def test_a_bad_serial_is_named_in_the_error() -> None:
    with pytest.raises(InvalidInput, match="000000000099"):
        Selection.parse(serials="000000000013-000000000099")


def test_actions_on_an_unknown_organization_fail(sessions) -> None:
    with session_scope(sessions) as session, pytest.raises(NotFound):
        void(session, Actor.command_line(999_999), selection=Selection.parse(serials=serial_for(1)))


def test_check_binding_refuses_a_bad_lot_before_anything_is_written(
    settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, quantity=1, state="issued")
    with session_scope(sessions) as session:
        with pytest.raises(InvalidInput, match="lot number"):
            check_binding(session, org_id=run.org_id, product_id=run.product_id, lot="bad lot")
        with pytest.raises(NotFound):
            check_binding(session, org_id=run.org_id, product_id=999_999, lot=None)


@pytest.mark.parametrize(
    "text",
    [
        f"{serial_for(1)}-{serial_for(120)}",
        f"{serial_for(1)}..{serial_for(120)}",
        "0000-0000-0013-0000-0000-1203",
        "0000 0000 0013 - 0000 0000 1203",
    ],
)
def test_serial_ranges_in_the_forms_people_write(text: str) -> None:
    assert Selection.parse(serials=text) == Selection(first=1, last=120)


def test_one_hyphenated_serial_is_not_a_range() -> None:
    assert Selection.parse(serials="0000-0000-0013") == Selection(sequences=(1,))


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"website": "javascript:alert(1)"}, "http"),
        ({"image_url": "ftp://example.com/x.png"}, "http"),
        # Pages show pictures from https addresses only (Content-Security-Policy img-src).
        ({"image_url": "http://example.com/x.png"}, "must start with https://"),
        ({"brand": "x" * 201}, "longer than"),
        ({"warranty_months": 999}, "240 months"),
        ({"colour": "red"}, "Unknown product fields"),
    ],
)
def test_product_details_are_checked(sessions, details: dict, message: str) -> None:
    with session_scope(sessions) as session:
        org = create_organization(session, name="Kiểm tra", kind="manufacturer")
        with pytest.raises(InvalidInput, match=message):
            create_product(session, Actor.command_line(org.id), name="X", **details)
