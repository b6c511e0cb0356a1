"""A product's traceability record (SPEC section 6): one EPCIS 2.0 document with master data,
downloaded from the API and the portal, valid, naming no stamp code, only for its owner."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chinhhang.db import session_scope
from chinhhang.trace import record
from chinhhang.trace.epcis import validate_document
from chinhhang.trace.models import EpcisCapture, EpcisEvent, EpcisEventEpc
from tests.api_helpers import PASSWORD, ApiWorld
from tests.portal_helpers import Browser

API = "/api/v1"
EPCIS = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
STEPS = ["issuing", "activating", "shipping", "receiving", "voiding", "first_sale"]


@pytest.fixture
def lived(client, world) -> ApiWorld:
    """The maker's stamps 0-1 shipped to and received by the distributor, stamp 4 voided,
    stamp 0 scanned by a shopper."""
    maker, serials = world.maker, world.maker.serials
    shipped = client.post(
        f"{API}/shipments",
        headers=maker.auth(),
        json={"to_org_id": world.distributor.id, "serials": f"{serials[0]}, {serials[1]}"},
    )
    assert shipped.status_code == 201, shipped.text
    distributor = world.distributor.auth()
    client.post(f"{API}/shipments/{shipped.json()['id']}/receive", headers=distributor)
    client.post(f"{API}/stamps/void", headers=maker.auth(), json={"serials": serials[4]})
    assert (
        client.get(f"/v/{maker.codes[0]}", headers={"Accept": "application/json"}).json()["outcome"]
        == "genuine"
    )
    return world


def _record(client, world: ApiWorld, role: str = "viewer"):
    return client.get(
        f"{API}/products/{world.maker.product_id}/traceability", headers=world.maker.auth(role)
    )


def _vocabulary(document: dict, kind: str) -> dict[str, dict[str, object]]:
    """{element id: {attribute id: value}} of one master data vocabulary."""
    vocabularies = document["epcisHeader"]["epcisMasterData"]["vocabularyList"]
    (found,) = [v for v in vocabularies if v["type"] == f"urn:epcglobal:epcis:vtype:{kind}"]
    return {
        element["id"]: {a["id"]: a["attribute"] for a in element["attributes"]}
        for element in found["vocabularyElementList"]
    }


def test_the_record_is_a_valid_epcis_document_with_master_data(client, settings, lived):
    answer = _record(client, lived)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/ld+json")
    gtin = lived.maker.gtin
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="traceability-{gtin}.json"'
    )
    document = answer.json()
    validate_document(document)
    assert [e["chinhhang:step"] for e in document["epcisBody"]["eventList"]] == STEPS
    classes = _vocabulary(document, "EPCClass")
    product = classes[f"https://id.gs1.org/01/{gtin}"]
    assert product["urn:epcglobal:cbv:mda#descriptionShort"] == f"Product of {lived.maker.name}"
    assert product["https://chinhhang.vn/voc/gtin"] == gtin
    lot = classes[f"https://id.gs1.org/01/{gtin}/10/{lived.maker.lot}"]
    assert lot["urn:epcglobal:cbv:mda#lotNumber"] == lived.maker.lot
    assert lot["https://chinhhang.vn/voc/facility"] == "Line 1"
    parties = _vocabulary(document, "Party")
    assert {name["urn:epcglobal:cbv:mda#name"] for name in parties.values()} == {
        lived.maker.name,
        lived.distributor.name,
    }
    assert f"{settings.base_url}/id/org/{lived.distributor.id}" in _vocabulary(document, "Location")
    items = document["chinhhang:dataItems"]
    assert (items["total"], len(items["items"])) == (10, 10)
    assert {"key": "name", "label": "Product name", "present": True} in items["items"]


def test_the_record_names_no_stamp_code(client, lived):
    text = _record(client, lived).text
    assert not any(code in text or code.lower() in text for code in lived.maker.codes)


def test_only_the_products_organization_and_a_regulator_get_it(client, lived):
    path = f"{API}/products/{lived.maker.product_id}/traceability"
    for other in (lived.other_maker, lived.distributor, lived.retailer):
        answer = client.get(path, headers=other.auth())
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "404"
    assert client.get(path, headers=lived.regulator.auth()).status_code == 200
    assert client.get(path).status_code == 401
    assert (
        client.get(f"{API}/products/999999/traceability", headers=lived.maker.auth()).status_code
        == 404
    )
    assert (
        client.get(f"{API}/products/0/traceability", headers=lived.maker.auth()).status_code == 400
    )


def test_the_portal_gives_the_same_record(client, lived):
    browser = Browser(client)
    browser.login(f"viewer.{lived.maker.id}@manufacturer.test", PASSWORD)
    answer = browser.get(f"/portal/products/{lived.maker.product_id}/traceability.json")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    portal, api = answer.json(), _record(client, lived).json()
    validate_document(portal)
    assert portal["epcisBody"] == api["epcisBody"]
    other = browser.get(f"/portal/products/{lived.other_maker.product_id}/traceability.json")
    assert other.status_code == 404


def _capture(sessions, org_id: int, event_id: str, epc: str, code: str | None) -> None:
    """A captured event as the EPCIS capture stores it, with an extension of its own; a class
    (no serial /21/) is counted in a quantityList."""
    is_class = "/21/" not in epc
    what = {"quantityList": [{"epcClass": epc, "quantity": 3}]} if is_class else {"epcList": [epc]}
    body = {
        "type": "ObjectEvent",
        "eventID": event_id,
        "eventTime": "2030-01-01T00:00:00Z",
        "eventTimeZoneOffset": "+07:00",
        "action": "OBSERVE",
        "bizStep": "inspecting",
        **what,
        "example:checkedBy": "QA",
    }
    when = datetime(2030, 1, 1, tzinfo=UTC)
    with session_scope(sessions) as session:
        capture = EpcisCapture(org_id=org_id, event_count=1)
        session.add(capture)
        session.flush()
        event = EpcisEvent(
            capture_id=capture.id,
            org_id=org_id,
            event_id=event_id,
            event_type="ObjectEvent",
            event_time=when,
            action="OBSERVE",
            biz_step="inspecting",
            body=json.dumps(body),
            context=json.dumps([EPCIS, {"example": "https://example.com/voc/"}]),
        )
        session.add(event)
        session.flush()
        role = "class" if is_class else "epc"
        session.add(EpcisEventEpc(event_pk=event.id, role=role, epc=epc, stamp_code=code))


def test_captured_events_about_the_products_stamps_are_merged_in(
    client, sessions, lived, monkeypatch
):
    monkeypatch.setattr(record, "PAGE", 2)  # several pages of each source, merged
    maker = lived.maker
    stamp = f"https://id.gs1.org/01/{maker.gtin}/21/{maker.serials[1].replace(' ', '')}"
    _capture(
        sessions, maker.id, "urn:uuid:7f7bbd2e-0000-4000-8000-000000000001", stamp, maker.codes[1]
    )
    lot = f"https://id.gs1.org/01/{maker.gtin}/10/{maker.lot}"
    _capture(sessions, maker.id, "urn:uuid:7f7bbd2e-0000-4000-8000-000000000002", lot, None)
    elsewhere = f"https://id.gs1.org/01/{lived.other_maker.gtin}/21/000000000018"
    _capture(sessions, maker.id, "urn:uuid:7f7bbd2e-0000-4000-8000-000000000003", elsewhere, None)
    _capture(
        sessions, lived.other_maker.id, "urn:uuid:7f7bbd2e-0000-4000-8000-000000000004", stamp, None
    )
    document = _record(client, lived).json()
    validate_document(document)
    events = document["epcisBody"]["eventList"]
    assert [e.get("chinhhang:step", e["eventID"][-1]) for e in events] == [*STEPS, "1", "2"]
    assert events[-1]["example:checkedBy"] == "QA"


def test_a_product_without_gtin_or_events_has_a_record_too(client, settings, world):
    made = client.post(f"{API}/products", headers=world.maker.auth(), json={"name": "Trà xanh"})
    product_id = made.json()["id"]
    answer = client.get(f"{API}/products/{product_id}/traceability", headers=world.maker.auth())
    assert answer.status_code == 200
    assert (
        f'filename="traceability-product-{product_id}.json"'
        in answer.headers["content-disposition"]
    )
    document = answer.json()
    validate_document(document)
    assert document["epcisBody"]["eventList"] == []
    assert f"{settings.base_url}/id/product/{product_id}" in _vocabulary(document, "EPCClass")
    assert document["chinhhang:dataItems"]["present"] < 10
