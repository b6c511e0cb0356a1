"""The platform's own steps as EPCIS events (SPEC sections 4 and 6): a run issued and activated,
shipped, received, partly voided and scanned over HTTP, then read back as events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.catalog.gtin import check_digit
from chinhhang.catalog.models import Batch, Product
from chinhhang.catalog.services import create_product
from chinhhang.db import session_scope
from chinhhang.stamps.models import StampEvent, StampRun
from chinhhang.stamps.services import Selection, activate
from chinhhang.trace.epcis import validate_event
from chinhhang.trace.epcis.filters import EventQuery, PageKey, Viewer
from chinhhang.trace.epcis.identifiers import digital_link_to_sgtin
from chinhhang.trace.epcis.platform import CONTEXT, EPC_LIST_LIMIT, platform_events
from tests.api_helpers import ApiWorld
from tests.factories import make_run
from tests.functional.epcis_helpers import ship_and_receive, statements

API = "/api/v1"
ALL_STEPS = ["issuing", "activating", "shipping", "receiving", "voiding", "first_sale"]


@dataclass
class Journey:
    world: ApiWorld
    shipment_id: int

    def dl(self, index: int, host: str = "https://id.gs1.org") -> str:
        serial = self.world.maker.serials[index].replace(" ", "")
        return f"{host}/01/{self.world.maker.gtin}/21/{serial}"


@pytest.fixture
def journey(client, world) -> Journey:
    """Stamps 0-2 shipped to the distributor (who receives them), stamp 4 voided, stamp 0
    scanned once by a shopper."""
    maker, serials = world.maker, world.maker.serials
    shipped = client.post(
        f"{API}/shipments",
        headers=maker.auth(),
        json={
            "to_org_id": world.distributor.id,
            "serials": f"{serials[0]}-{serials[2]}",
            "reference": "PX-1",
        },
    )
    assert shipped.status_code == 201, shipped.text
    shipment_id = shipped.json()["id"]
    received = client.post(
        f"{API}/shipments/{shipment_id}/receive", headers=world.distributor.auth()
    )
    assert received.status_code == 200, received.text
    voided = client.post(f"{API}/stamps/void", headers=maker.auth(), json={"serials": serials[4]})
    assert voided.json() == {"changed": 1}
    scanned = client.get(f"/v/{maker.codes[0]}", headers={"Accept": "application/json"})
    assert scanned.json()["outcome"] == "genuine"
    return Journey(world, shipment_id)


def events(settings, sessions, viewer: Viewer, limit: int = 100, **query: Any) -> list[dict]:
    with sessions() as session:
        found = platform_events(
            session, viewer, EventQuery(**query), None, limit, base_url=settings.base_url
        )
    assert [key for key, _ in found] == sorted(key for key, _ in found)
    return [event for _, event in found]


def steps(found: list[dict]) -> list[str]:
    return [event["chinhhang:step"] for event in found]


def test_each_step_is_an_epcis_event_with_its_cbv_words(settings, sessions, journey):
    maker = journey.world.maker
    found = events(settings, sessions, Viewer(maker.id))
    assert steps(found) == ALL_STEPS
    assert [(e["action"], e["bizStep"], e["disposition"]) for e in found] == [
        ("ADD", "commissioning", "encoded"),
        ("OBSERVE", "commissioning", "active"),
        ("OBSERVE", "shipping", "in_transit"),
        ("OBSERVE", "receiving", "in_progress"),
        ("DELETE", "decommissioning", "inactive"),
        ("OBSERVE", "retail_selling", "retail_sold"),
    ]
    for event in found:
        validate_event({**event, "@context": CONTEXT})
        assert event["eventTimeZoneOffset"] == "+07:00"
        assert event["eventTime"].endswith("Z")
    issuing, _activating, shipping, receiving, voiding, sale = found
    assert issuing["epcList"] == [journey.dl(i) for i in range(5)]
    assert issuing["chinhhang:serialRange"]["quantity"] == 5
    assert shipping["epcList"] == [journey.dl(i) for i in range(3)]
    assert shipping["sourceList"][0] == {
        "type": "owning_party",
        "source": f"{settings.base_url}/id/org/{maker.id}",
    }
    assert receiving["bizLocation"] == {
        "id": f"{settings.base_url}/id/org/{journey.world.distributor.id}"
    }
    assert shipping["bizTransactionList"][0]["bizTransaction"].endswith(
        f"/id/shipment/{journey.shipment_id}"
    )
    assert shipping["chinhhang:shipmentReference"] == "PX-1"
    assert "bizLocation" not in shipping
    assert voiding["epcList"] == [journey.dl(4)]
    assert sale["epcList"] == [journey.dl(0)]
    assert "readPoint" not in sale


def test_no_event_names_a_stamp_code(settings, sessions, journey):
    text = json.dumps(events(settings, sessions, Viewer(None, everything=True)))
    assert not any(code in text or code.lower() in text for code in journey.world.maker.codes)


def test_event_ids_are_stable_and_found_by_eq_event_id(settings, sessions, journey):
    viewer = Viewer(journey.world.maker.id)
    first, again = events(settings, sessions, viewer), events(settings, sessions, viewer)
    assert [e["eventID"] for e in first] == [e["eventID"] for e in again]
    assert len({e["eventID"] for e in first}) == len(first)
    wanted = (first[2]["eventID"], first[5]["eventID"], "urn:uuid:not-ours", "ni:///x")
    assert steps(events(settings, sessions, viewer, event_ids=wanted)) == ["shipping", "first_sale"]
    assert events(settings, sessions, viewer, event_ids=("urn:uuid:0",)) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"biz_steps": ("commissioning",)}, ["issuing", "activating"]),
        ({"dispositions": ("active", "retail_sold")}, ["activating", "first_sale"]),
        ({"actions": ("DELETE",)}, ["voiding"]),
        (
            {"actions": ("OBSERVE",), "biz_steps": ("shipping", "receiving")},
            ["shipping", "receiving"],
        ),
        ({"event_types": ("ObjectEvent",)}, ALL_STEPS),
        ({"event_types": ("AggregationEvent",)}, []),
        ({"match_parent_id": ("urn:epc:id:sscc:0614141.1234567890",)}, []),
        ({"biz_steps": ("https://example.com/voc/mine",)}, []),
    ],
)
def test_vocabulary_filters(settings, sessions, journey, query, expected):
    assert steps(events(settings, sessions, Viewer(journey.world.maker.id), **query)) == expected


def test_match_epc_in_every_spelling_of_one_stamp(settings, sessions, journey):
    viewer = Viewer(journey.world.maker.id)
    stamp0 = ["issuing", "activating", "shipping", "receiving", "first_sale"]
    spellings = [
        journey.dl(0),
        journey.dl(0, host=settings.base_url),
        digital_link_to_sgtin(journey.dl(0), 7),
    ]
    for spelling in spellings:
        assert steps(events(settings, sessions, viewer, match_epc=(spelling,))) == stamp0
        assert steps(events(settings, sessions, viewer, match_any_epc=(spelling,))) == stamp0
    either = (journey.dl(4), "urn:epc:id:sgtin:0614141.112345.400")
    assert steps(events(settings, sessions, viewer, match_epc=either)) == [
        "issuing",
        "activating",
        "voiding",
    ]
    assert events(settings, sessions, viewer, match_epc=("not a uri",)) == []


def test_match_epc_class_by_product_and_lot(settings, sessions, journey):
    maker = journey.world.maker
    viewer = Viewer(maker.id)
    product = f"https://id.gs1.org/01/{maker.gtin}"
    assert steps(events(settings, sessions, viewer, match_epc_class=(product,))) == ALL_STEPS
    lot = (f"{product}/10/{maker.lot}",)
    assert steps(events(settings, sessions, viewer, match_epc_class=lot)) == ALL_STEPS
    assert events(settings, sessions, viewer, match_epc_class=(f"{product}/10/NOPE",)) == []
    pattern = (f"urn:epc:idpat:sgtin:{maker.gtin[1:8]}.{maker.gtin[0]}{maker.gtin[8:13]}.*",)
    assert steps(events(settings, sessions, viewer, match_epc=pattern)) == ALL_STEPS
    assert steps(events(settings, sessions, viewer, product_ids=(maker.product_id,))) == ALL_STEPS
    other = (journey.world.other_maker.product_id,)
    assert events(settings, sessions, viewer, product_ids=other) == []


def test_places_and_times(settings, sessions, journey):
    world = journey.world
    viewer = Viewer(world.maker.id)
    maker_place = (f"{settings.base_url}/id/org/{world.maker.id}",)
    distributor_place = (f"{settings.base_url}/id/org/{world.distributor.id}",)
    assert steps(events(settings, sessions, viewer, read_points=distributor_place)) == ["receiving"]
    assert steps(events(settings, sessions, viewer, biz_locations=maker_place)) == [
        "issuing",
        "activating",
    ]
    assert steps(events(settings, sessions, viewer, read_points=maker_place)) == [
        "issuing",
        "activating",
        "shipping",
        "voiding",
    ]
    everything = events(settings, sessions, viewer)
    with sessions() as session:
        shipped_at = session.get(StampEvent, _row_id(session, "shipping")).at
    later = events(settings, sessions, viewer, ge_event_time=shipped_at)
    assert steps(later) == ALL_STEPS[2:]
    earlier = events(settings, sessions, viewer, lt_record_time=shipped_at)
    assert earlier == everything[:2]
    assert events(settings, sessions, viewer, ge_event_time=shipped_at + timedelta(days=1)) == []


def _row_id(session, action: str) -> int:
    return int(session.scalar(select(StampEvent.id).where(StampEvent.action == action)))


def test_pages_walk_every_event_once(settings, sessions, journey):
    viewer, walked, after = Viewer(journey.world.maker.id), [], None
    with sessions() as session:
        while page := platform_events(
            session, viewer, EventQuery(), after, 2, base_url=settings.base_url
        ):
            assert len(page) <= 2
            walked += [event for _, event in page]
            after = page[-1][0]
    assert walked == events(settings, sessions, viewer)
    assert isinstance(after, PageKey)


def test_who_sees_what(settings, sessions, journey):
    world = journey.world
    seen_by_distributor = events(settings, sessions, Viewer(world.distributor.id))
    # Its shipment and receipt whole; the maker's issuing and activation only for the three
    # stamps it holds (no serial range, no reference); the sale of a stamp it holds; not the
    # voiding of a stamp it never had.
    assert steps(seen_by_distributor) == [
        "issuing",
        "activating",
        "shipping",
        "receiving",
        "first_sale",
    ]
    issuing, activating, shipping = seen_by_distributor[:3]
    assert issuing["epcList"] == activating["epcList"] == [journey.dl(i) for i in range(3)]
    assert "chinhhang:serialRange" not in issuing
    assert shipping["chinhhang:shipmentReference"] == "PX-1"
    assert (
        events(
            settings, sessions, Viewer(world.other_maker.id), product_ids=(world.maker.product_id,)
        )
        == []
    )
    assert events(settings, sessions, Viewer(world.retailer.id)) == []
    assert events(settings, sessions, Viewer(None)) == []
    regulator = events(settings, sessions, Viewer(world.regulator.id, everything=True))
    assert steps(regulator) == ["issuing", "issuing", "activating", "activating", *ALL_STEPS[2:]]


def test_a_large_range_is_counted_by_class(settings, engine, sessions):
    run = make_run(settings, engine, sessions, quantity=EPC_LIST_LIMIT + 200, state="issued")
    with session_scope(sessions) as session:
        first = session.scalar(_first_sequence(run.run_id))
        activate(
            session,
            Actor.command_line(run.org_id),
            selection=Selection(first=first, last=first + 699),
            product_id=run.product_id,
            lot="BIG",
        )
    found = events(settings, sessions, Viewer(run.org_id))
    assert steps(found) == ["issuing", "activating"]
    for event in found:
        validate_event({**event, "@context": CONTEXT})
    issuing, activating = found
    assert "epcList" not in issuing
    gtin = _gtin_of(sessions, run.product_id)
    assert issuing["quantityList"] == sorted(
        [
            {"epcClass": f"https://id.gs1.org/01/{gtin}/10/BIG", "quantity": 700},
            {"epcClass": f"{settings.base_url}/id/stamp/{run.org_id}", "quantity": 500},
        ],
        key=lambda element: element["epcClass"],
    )
    assert issuing["chinhhang:serialRange"]["quantity"] == EPC_LIST_LIMIT + 200
    assert len(activating["epcList"]) == 700


def test_a_pages_listed_stamps_are_read_for_the_whole_page(
    client, settings, engine, sessions, world
):
    """The statements behind a page do not grow with its events: the stamps every small
    step lists are read together, not one query an event."""
    maker, viewer = world.maker, Viewer(world.maker.id)
    with statements(engine) as before:
        few = events(settings, sessions, viewer)
    for serial in maker.serials[:4]:  # four shipments, each shipped and received
        ship_and_receive(client, maker, world.distributor, serial)
    with statements(engine) as after:
        many = events(settings, sessions, viewer)
    assert len(many) == len(few) + 8
    assert all("epcList" in event for event in many)
    assert len(after) == len(before)


def _first_sequence(run_id: int) -> Any:
    return select(StampRun.first_sequence).where(StampRun.id == run_id)


def _gtin_of(sessions, product_id: int) -> str:
    with sessions() as session:
        product = session.get(Product, product_id)
        assert product is not None
        assert product.gtin
        return product.gtin


def test_stamps_of_a_product_without_gtin_use_the_platforms_uris(settings, engine, sessions):
    run = make_run(settings, engine, sessions, quantity=2, state="issued")
    with session_scope(sessions) as session:
        actor = Actor.command_line(run.org_id)
        product = create_product(session, actor, name="Không mã GTIN")
        activate(session, actor, selection=Selection(run_id=run.run_id), product_id=product.id)
    found = events(settings, sessions, Viewer(run.org_id))
    prefix = f"{settings.base_url}/id/stamp/{run.org_id}/serial/"
    assert [epc.startswith(prefix) for epc in found[1]["epcList"]] == [True, True]
    for event in found:
        validate_event({**event, "@context": CONTEXT})


def _gln(body: str) -> str:
    return body + str(check_digit(body))


def test_places_named_by_gln_when_known(settings, sessions, journey):
    world = journey.world
    maker_gln, facility_gln = _gln("893456700001"), _gln("893456700002")
    with session_scope(sessions) as session:
        session.get(Organization, world.maker.id).gln = maker_gln
        session.get(Batch, world.maker.batch_id).facility_gln = facility_gln
    viewer = Viewer(world.maker.id)
    found = {e["chinhhang:step"]: e for e in events(settings, sessions, viewer)}
    assert found["issuing"]["readPoint"] == {"id": f"https://id.gs1.org/414/{maker_gln}"}
    assert found["activating"]["bizLocation"] == {"id": f"https://id.gs1.org/414/{facility_gln}"}
    assert found["shipping"]["sourceList"] == [
        {"type": "owning_party", "source": f"https://id.gs1.org/417/{maker_gln}"},
        {"type": "location", "source": f"https://id.gs1.org/414/{maker_gln}"},
    ]
    assert found["issuing"]["chinhhang:serialRange"]["issuer"].endswith(f"/417/{maker_gln}")
    at_facility = (f"{settings.base_url}/414/{facility_gln}",)
    assert steps(events(settings, sessions, viewer, read_points=at_facility)) == ["activating"]
    sgln = (f"urn:epc:id:sgln:{maker_gln[:7]}.{maker_gln[7:12]}.0",)
    assert steps(events(settings, sessions, viewer, read_points=sgln)) == [
        "issuing",
        "shipping",
        "voiding",
    ]
    old_name = (f"{settings.base_url}/id/org/{world.maker.id}",)
    assert events(settings, sessions, viewer, read_points=old_name) == []
    for event in found.values():
        validate_event({**event, "@context": CONTEXT})
