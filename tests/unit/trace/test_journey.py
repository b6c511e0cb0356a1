"""The shopper's journey built from the life-cycle events (trace/journey.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import create_engine, delete, select
from sqlalchemy.orm import sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import create_organization
from chinhhang.catalog.gtin import check_digit
from chinhhang.catalog.services import create_product, save_batch
from chinhhang.db import session_scope, utcnow
from chinhhang.scans.sql import ScanContext
from chinhhang.scans.store import ScanStore
from chinhhang.stamps.models import Stamp, StampEvent
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import (
    Selection,
    activate,
    codes_of_run,
    create_run,
    fill_run,
    receive,
    ship,
    void,
)
from chinhhang.trace.journey import lot_journey, stamp_journey, stamp_journey_for_page
from tests.factories import gtin

_counter = iter(range(1, 10**9))
MADE_ON = date(2026, 11, 12)


def gln(n: int) -> str:
    body = f"893{n:09d}"
    return body + str(check_digit(body))


@dataclass
class Chain:
    maker: int
    product: int
    batch: int
    first: int  # the run's first sequence
    codes: list[str]
    gtin: str


def make_chain(
    settings, engine, sessions, *, production_date: date | None = MADE_ON, quantity: int = 4
) -> Chain:
    """A maker with a GLN, a product and lot made at a facility, an activated run (of 4)."""
    n = next(_counter)
    with session_scope(sessions) as session:
        maker = create_organization(
            session, name=f"Sữa Bình Dương {n}", kind="manufacturer", address="1 Đại lộ BD"
        )
        maker.gln = gln(1)
        actor = Actor.command_line(maker.id)
        product = create_product(session, actor, name="Sữa tươi", gtin=gtin())
        batch = save_batch(
            session,
            actor,
            product_id=product.id,
            lot="L2611",
            facility="Nhà máy Bình Dương",
            facility_gln=gln(2),
            production_date=production_date,
        )
        run = create_run(session, actor, quantity=quantity)
        ids = (maker.id, product.id, batch.id, product.gtin or "")
    fill_run(engine, run, settings.keyring)
    with session_scope(sessions) as session:
        activate(
            session,
            Actor.command_line(ids[0]),
            selection=Selection(run_id=run.id),
            product_id=ids[1],
            lot="L2611",
        )
        codes = [code for _seq, code in codes_of_run(session, run.id)]
    return Chain(ids[0], ids[1], ids[2], run.first_sequence, codes, ids[3])


def org(sessions, kind: str, address: str | None = None) -> int:
    with session_scope(sessions) as session:
        name = f"{kind.title()} {next(_counter)}"
        return create_organization(session, name=name, kind=kind, address=address).id


def ship_and_receive(sessions, sender: int, receiver: int, issuer: int, first: int, last: int):
    with session_scope(sessions) as session:
        selection = Selection(first=first, last=last, issuer_org_id=issuer)
        shipment = ship(
            session, Actor.command_line(sender), to_org_id=receiver, selection=selection
        )
        receive(session, Actor.command_line(receiver), shipment.id)


def first_scan(engine, code: str) -> None:
    store = ScanStore(engine)
    try:
        assert store.consume(code, utcnow(), ScanContext(None, None))[0] == "genuine"
    finally:
        store.close()


def name_of(sessions, org_id: int) -> str:
    with sessions() as session:
        return session.get(Organization, org_id).name


def test_a_stamp_from_the_factory_to_the_shopper(settings, engine, sessions) -> None:
    chain = make_chain(settings, engine, sessions)
    distributor = org(sessions, "distributor", address="5 Lê Lợi, TP.HCM")
    retailer = org(sessions, "retailer")
    ship_and_receive(sessions, chain.maker, distributor, chain.maker, chain.first, chain.first + 1)
    ship_and_receive(sessions, distributor, retailer, chain.maker, chain.first, chain.first)
    first_scan(engine, chain.codes[0])
    with sessions() as session:
        journey = stamp_journey(session, chain.codes[0])
        scanned_at = session.scalar(
            select(Stamp.first_scanned_at).where(Stamp.code == chain.codes[0])
        )
    maker, dist, shop = (name_of(sessions, i) for i in (chain.maker, distributor, retailer))
    assert [(s.kind, s.who, s.to) for s in journey.stages] == [
        ("made", maker, None),
        ("shipped", maker, dist),
        ("received", dist, None),
        ("shipped", dist, shop),
        ("received", shop, None),
        ("first_verified", None, None),
    ]
    made, _shipped, received, *_rest, verified = journey.stages
    assert made.when == MADE_ON
    assert made.place == f"Nhà máy Bình Dương (GLN {gln(2)})"
    assert received.where == "5 Lê Lợi, TP.HCM"
    assert verified.when == scanned_at
    assert journey.item.gtin == chain.gtin
    assert journey.item.lot == "L2611"
    assert journey.item.serial == grouped(serial_for(chain.first))


def test_a_stamp_outside_the_shipment_was_only_made(settings, engine, sessions) -> None:
    chain = make_chain(settings, engine, sessions)
    distributor = org(sessions, "distributor")
    ship_and_receive(sessions, chain.maker, distributor, chain.maker, chain.first, chain.first)
    with sessions() as session:
        journey = stamp_journey(session, chain.codes[1])
    assert [s.kind for s in journey.stages] == ["made"]


def test_without_a_production_date_made_has_no_date(settings, engine, sessions) -> None:
    # The day the stamps were activated is not the day the goods were made: no date at all.
    chain = make_chain(settings, engine, sessions, production_date=None)
    with sessions() as session:
        journey = stamp_journey(session, chain.codes[0])
        lot = lot_journey(session, chain.product, chain.batch)
    assert journey.stages[0].kind == lot.stages[0].kind == "made"
    assert journey.stages[0].when is None
    assert lot.stages[0].when is None


def test_a_whole_product_is_made_by_its_maker_with_no_place_or_date(
    settings, engine, sessions
) -> None:
    chain = make_chain(settings, engine, sessions)
    with sessions() as session:
        product = lot_journey(session, chain.product, None)
    made = product.stages[0]
    assert (made.kind, made.when, made.where) == ("made", None, None)
    assert made.who == name_of(sessions, chain.maker)
    assert product.of_product
    assert not product.of_lot


def test_a_voided_stamp_says_who_cancelled_it(settings, engine, sessions) -> None:
    chain = make_chain(settings, engine, sessions)
    with session_scope(sessions) as session:
        selection = Selection(first=chain.first + 2, last=chain.first + 2)
        void(session, Actor.command_line(chain.maker), selection=selection)
    with sessions() as session:
        journey = stamp_journey(session, chain.codes[2])
    assert [(s.kind, s.who) for s in journey.stages] == [
        ("made", name_of(sessions, chain.maker)),
        ("voided", name_of(sessions, chain.maker)),
    ]


def test_a_stamp_with_no_events(settings, engine, sessions) -> None:
    chain = make_chain(settings, engine, sessions)
    with session_scope(sessions) as session:
        session.execute(delete(StampEvent).where(StampEvent.issuer_org_id == chain.maker))
    with sessions() as session:
        assert [s.kind for s in stamp_journey(session, chain.codes[0]).stages] == ["made"]
        assert stamp_journey(session, "0" * 20).stages == ()
    assert stamp_journey_for_page(sessions, "0" * 20) is None


def test_an_unactivated_stamp_has_no_journey(settings, engine, sessions) -> None:
    with session_scope(sessions) as session:
        maker = create_organization(session, name=f"Org {next(_counter)}", kind="manufacturer")
        run = create_run(session, Actor.command_line(maker.id), quantity=1)
    fill_run(engine, run, settings.keyring)
    with sessions() as session:
        code = codes_of_run(session, run.id)[0][1]
        journey = stamp_journey(session, code)
    assert journey.stages == ()
    assert journey.item.serial == grouped(serial_for(run.first_sequence))


def test_a_lot_reaches_each_organization_once(settings, engine, sessions) -> None:
    chain = make_chain(settings, engine, sessions)
    other_lot = make_chain(settings, engine, sessions)
    distributor = org(sessions, "distributor", address="5 Lê Lợi")
    retailer = org(sessions, "retailer")
    for sequence in (chain.first, chain.first + 2):  # two shipments to the same distributor
        ship_and_receive(sessions, chain.maker, distributor, chain.maker, sequence, sequence)
    ship_and_receive(sessions, distributor, retailer, chain.maker, chain.first, chain.first)
    elsewhere = org(sessions, "distributor")
    ship_and_receive(
        sessions, other_lot.maker, elsewhere, other_lot.maker, other_lot.first, other_lot.first
    )
    first_scan(engine, chain.codes[0])
    with sessions() as session:
        journey = lot_journey(session, chain.product, chain.batch)
        whole_product = lot_journey(session, chain.product, None)
    dist, shop = name_of(sessions, distributor), name_of(sessions, retailer)
    expected = [
        ("made", name_of(sessions, chain.maker), None),
        ("shipped", None, dist),
        ("received", dist, None),
        ("shipped", None, shop),
        ("received", shop, None),
    ]
    assert [(s.kind, s.who, s.to) for s in journey.stages] == expected
    assert journey.of_lot
    assert journey.stages[0].when == MADE_ON
    assert journey.stages[2].where == "5 Lê Lợi"
    assert (journey.item.gtin, journey.item.lot, journey.item.serial) == (chain.gtin, "L2611", None)
    assert [s.kind for s in whole_product.stages] == [kind for kind, _who, _to in expected]
    assert whole_product.item.lot is None


def test_a_lot_never_shipped_was_only_made(settings, engine, sessions) -> None:
    chain = make_chain(settings, engine, sessions)
    with sessions() as session:
        journey = lot_journey(session, chain.product, chain.batch)
        assert lot_journey(session, 10**9, None).stages == ()
    assert [s.kind for s in journey.stages] == ["made"]


def test_a_database_failure_leaves_the_page_without_a_journey(tmp_path) -> None:
    broken = create_engine(f"sqlite:///{tmp_path}/missing/folder/db.sqlite")
    assert stamp_journey_for_page(sessionmaker(broken), "0" * 20) is None
