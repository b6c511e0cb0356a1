"""The journey on the shopper's pages: a stamp issued, activated, shipped and received over the
API, then scanned, shows its timeline; the product and lot pages carry Circular 02's items."""

from __future__ import annotations

import re

import pytest

from chinhhang.accounts.models import Organization
from chinhhang.catalog.models import Product
from chinhhang.catalog.services import find_batch
from chinhhang.db import session_scope
from chinhhang.scans.services import ProductPage
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import serial_for
from chinhhang.stamps.services import codes_of_run
from chinhhang.trace.journey import lot_journey
from tests.api_helpers import wait_for_run
from tests.unit.trace.test_journey import gln, ship_and_receive
from tests.unit.trace.test_journey_cache import Clock

API = "/api/v1"
LOT = "L2611"
FACILITY = "Nhà máy Bình Dương"


def stages(page: str) -> list[str]:
    return re.findall(r'class="stage stage-([a-z_]+)"', page)


@pytest.fixture
def codes(client, world, sessions) -> list[str]:
    """The maker's new run, through the API: issued, activated for a lot made at a facility
    on 12/11/2026, shipped to the distributor and received there."""
    owner, product_id = world.maker.auth(), world.maker.product_id
    with session_scope(sessions) as session:
        maker = session.get(Organization, world.maker.id)
        maker.address, maker.gln = "1 Đại lộ Bình Dương", gln(1)
        product = session.get(Product, product_id)
        product.brand, product.standards, product.shelf_life = (
            "Sữa Việt",
            "TCVN 7405:2018",
            "6 tháng",
        )
    batch = {
        "lot": LOT,
        "facility": FACILITY,
        "facility_gln": gln(2),
        "production_date": "2026-11-12",
    }
    assert client.post(f"{API}/products/{product_id}/batches", headers=owner, json=batch).is_success
    issued = client.post(f"{API}/runs", headers=owner, json={"quantity": 3})
    run = wait_for_run(client, owner, issued.json()["id"])
    activation = {"run_id": run["id"], "product_id": product_id, "lot": LOT}
    assert client.post(f"{API}/stamps/activate", headers=owner, json=activation).is_success
    shipment = {"to_org_id": world.distributor.id, "run_id": run["id"]}
    shipped = client.post(f"{API}/shipments", headers=owner, json=shipment)
    assert shipped.status_code == 201, shipped.text
    receipt = f"{API}/shipments/{shipped.json()['id']}/receive"
    assert client.post(receipt, headers=world.distributor.auth()).is_success
    with sessions() as session:
        return [code for _seq, code in codes_of_run(session, run["id"])]


def test_the_genuine_page_shows_the_timeline_in_both_languages(client, world, codes) -> None:
    vi = client.get(f"/v/{codes[0]}").text
    assert "Hàng chính hãng" in vi
    assert 'id="journey"' in vi
    assert "Hành trình" in vi
    assert stages(vi) == ["made", "shipped", "received", "first_verified"]
    timeline = vi[vi.index('id="journey"') :]
    maker, distributor = world.maker.name, world.distributor.name
    assert timeline.index(FACILITY) < timeline.index(maker) < timeline.index(distributor)
    assert "12/11/2026" in timeline
    assert gln(2) in timeline

    en = client.get(f"/v/{codes[0]}?lang=en").text  # this browser again: not counted
    made = f"Made at {FACILITY} (GLN {gln(2)}) by {maker} on 12/11/2026"
    assert made in en
    shipped = re.search(
        rf"Shipped by {maker} to {distributor} on (\d\d/\d\d/\d{{4}} \d\d:\d\d)", en
    )
    received = re.search(rf"Received by {distributor} on (\d\d/\d\d/\d{{4}} \d\d:\d\d)", en)
    verified = re.search(r"genuine by a shopper for the first time on (\d\d/\d\d/\d{4})", en)
    assert shipped
    assert received
    assert verified
    assert en.index(made) < shipped.start() < received.start() < verified.start()
    assert world.maker.gtin in en[en.index('id="journey"') :]
    assert codes[0] not in en


def test_a_step_recorded_after_a_scan_shows_once_the_refresh_interval_has_passed(
    client, world, sessions, codes
) -> None:
    """The genuine page tells the journey from memory (trace/journey_cache.py), read again
    every REFRESH_SECONDS: a shipment received meanwhile shows from then on."""
    clock = Clock()
    client.app.state.journey_of_stamp.index.clock = clock
    before = ["made", "shipped", "received", "first_verified"]
    assert stages(client.get(f"/v/{codes[0]}?lang=en").text) == before
    with sessions() as session:
        sequence = session.get(Stamp, codes[0]).sequence
    distributor, retailer, maker = world.distributor.id, world.retailer.id, world.maker.id
    ship_and_receive(sessions, distributor, retailer, maker, sequence, sequence)
    # This browser again, within its grace period: genuine, nothing counted.
    assert stages(client.get(f"/v/{codes[0]}?lang=en").text) == before
    clock.advance()
    page = client.get(f"/v/{codes[0]}?lang=en").text
    assert stages(page) == [*before, "shipped", "received"]
    assert f"Shipped by {world.distributor.name} to {world.retailer.name} on" in page
    assert f"Received by {world.retailer.name} on" in page


def test_the_verdict_carries_the_location_codes_the_journey_names(client, codes) -> None:
    body = client.get(f"/v/{codes[2]}", headers={"Accept": "application/json"}).json()
    assert body["outcome"] == "genuine"
    assert (body["manufacturer"]["gln"], body["batch"]["facility_gln"]) == (gln(1), gln(2))


def test_a_second_scan_warns_without_the_timeline(client, codes) -> None:
    client.get(f"/v/{codes[1]}")
    client.cookies.clear()  # another phone
    warning = client.get(f"/v/{codes[1]}?lang=en").text
    assert "already verified" in warning
    assert 'id="journey"' not in warning
    assert stages(warning) == []


@pytest.mark.usefixtures("codes")
def test_the_lot_page_carries_the_circulars_data_items(client, world) -> None:
    page = client.get(f"/01/{world.maker.gtin}/10/{LOT}?lang=en").text
    for item in (
        "Product of",  # name
        "Sữa Việt",  # brand
        world.maker.gtin,  # tracing code
        LOT,
        "12/11/2026",  # production time
        "6 tháng",  # shelf life
        "TCVN 7405:2018",  # applied standards
        world.maker.name,  # producer
        "1 Đại lộ Bình Dương",  # producer's address
        gln(1),  # producer's location code
        gln(2),  # facility's location code
    ):
        assert item in page, item


@pytest.mark.usefixtures("codes")
def test_the_product_page_renders_with_and_without_a_journey(client, world, sessions) -> None:
    pages = client.app.state.pages
    with sessions() as session:
        product = session.get(Product, world.maker.product_id)
        batch = find_batch(session, product.id, LOT)
        maker = session.get(Organization, world.maker.id)
        page = ProductPage(product, maker, batch, None)
        journey = lot_journey(session, product.id, batch.id)
        without = pages.html("en", "catalog/product.html", {"page": page})
        with_journey = pages.html("en", "catalog/product.html", {"page": page, "journey": journey})
    assert 'id="journey"' not in without
    assert stages(with_journey) == ["made", "shipped", "received"]
    assert f"Received by {world.distributor.name}, first on" in with_journey
    assert f"Shipped to {world.distributor.name}, first on" in with_journey
    assert "Scan the stamp on your item" in with_journey
    assert "shopper" not in with_journey.lower()


def test_the_whole_journey_over_http_is_told_in_epcis_events_and_on_the_page(
    client, world, sessions, codes
) -> None:
    """Issue → activate → ship → receive (the fixture, over the API) → a shopper's scan: the
    stamp's events, queried over /epcis by its Digital Link, come in that order with the CBV
    steps, and the genuine page tells the same story."""
    page = client.get(f"/v/{codes[0]}?lang=en").text
    assert stages(page) == ["made", "shipped", "received", "first_verified"]
    with sessions() as session:
        stamp = session.get(Stamp, codes[0])
        serial = serial_for(stamp.sequence)
    epc = f"https://id.gs1.org/01/{world.maker.gtin}/21/{serial}"
    answer = client.get("/epcis/events", params={"MATCH_epc": epc}, headers=world.maker.auth())
    assert answer.status_code == 200, answer.text
    events = answer.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    steps = [(e["action"], e["bizStep"], e.get("disposition")) for e in events]
    assert steps == [
        ("ADD", "commissioning", "encoded"),  # issued
        ("OBSERVE", "commissioning", "active"),  # activated for the lot
        ("OBSERVE", "shipping", "in_transit"),
        ("OBSERVE", "receiving", "in_progress"),
        ("OBSERVE", "retail_selling", "retail_sold"),  # the first genuine scan
    ]
    times = [e["eventTime"] for e in events]
    assert times == sorted(times)
    assert all(epc in e.get("epcList", []) for e in events)
    assert codes[0] not in answer.text
    # The distributor holds the stamp, so it sees the same story; another maker sees none of it.
    seen = client.get("/epcis/events", params={"MATCH_epc": epc}, headers=world.distributor.auth())
    assert len(seen.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 5
    other = client.get("/epcis/events", params={"MATCH_epc": epc}, headers=world.other_maker.auth())
    assert other.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []
