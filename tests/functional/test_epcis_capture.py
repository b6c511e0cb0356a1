"""EPCIS capture over HTTP, on SQLite and PostgreSQL: the standard's examples go in and come
back out; every malformed document is refused with the field named and stores nothing."""

from __future__ import annotations

import copy
import json
from urllib.parse import quote

import pytest

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.gtin import canonical_gtin
from chinhhang.db import session_scope
from chinhhang.stamps.serials import sequence_of, serial_for
from chinhhang.trace.epcis import validate_document
from chinhhang.trace.epcis.capture import MAX_BYTES, MAX_EVENTS, capture
from chinhhang.trace.epcis.stamp_ids import equivalent_identifiers
from tests.functional.epcis_helpers import (
    captured,
    document,
    events_of,
    normalised,
    object_event,
    post,
    query,
    rows,
    ship_and_receive,
    stamp_link,
    stamp_links,
    statements,
    without_record_time,
)
from tests.unit.trace.test_epcis_models import EXAMPLE_NAMES, REFUSED_EXAMPLES, example

ACCEPTED = sorted(set(EXAMPLE_NAMES) - REFUSED_EXAMPLES)
EN = {"Accept-Language": "en"}


@pytest.mark.parametrize("name", ACCEPTED)
def test_each_example_is_captured_and_queried_back_equal(client, world, sessions, name) -> None:
    headers = world.maker.auth()
    original = example(name)
    response = post(client, headers, original)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/epcis/capture/{job['captureID']}"
    assert response.headers["gs1-epcis-version"] == "2.0.0"
    assert (job["success"], job["running"], job["captureErrorBehaviour"]) == (
        True,
        False,
        "rollback",
    )
    ids = [event["eventID"] for event in original["epcisBody"]["eventList"]]
    assert job["eventCount"] == len(ids) == rows(sessions)[1]
    answer = query(client, headers, [("EQ_eventID", event_id) for event_id in ids])
    assert answer.headers["content-type"] == "application/ld+json"
    assert normalised(answer.json()) == without_record_time(validate_document(original))


@pytest.mark.parametrize("name", sorted(REFUSED_EXAMPLES))
def test_the_examples_the_models_refuse_are_refused_whole(client, world, sessions, name) -> None:
    response = post(client, world.maker.auth(), example(name))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "epcisException:ValidationException"
    assert body["errors"]
    assert all(e.startswith("epcisBody.eventList[") for e in body["errors"])
    assert rows(sessions) == (0, 0, 0)


EVENTS = ("epcisBody", "eventList")
DROP = object()


def _broken(path: tuple, value: object) -> dict:
    original = example("Example_9.6.1-ObjectEvent.jsonld")
    target = original
    for step in path[:-1]:
        target = target[step]
    if value is DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return original


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ((*EVENTS, 1, "action"), "MOVE", "epcisBody.eventList[1].action"),
        ((*EVENTS, 0, "eventTime"), DROP, "epcisBody.eventList[0].eventTime"),
        ((*EVENTS, 0, "epcList", 1), "urn:epc:id:sgtin:1.2.3", "epcisBody.eventList[0].epcList[1]"),
        ((*EVENTS, 1, "bizStep"), "shiping", "epcisBody.eventList[1].bizStep"),
        ((*EVENTS, 0, "eventTime"), "2024-05-01 08:30", "epcisBody.eventList[0].eventTime"),
        (("schemaVersion",), DROP, "schemaVersion"),
        (("epcisBody",), [], "epcisBody"),
        # A context may only declare prefixes: it is shared with other organizations' events.
        (("@context", 1, "@vocab"), "http://ns.example.com/", "@context[1].@vocab"),
        (("@context", 1, "other"), 1, "@context[1].other: must be an absolute IRI"),
        (("@context", 1, "other"), "not an IRI", "@context[1].other: must be an absolute IRI"),
        (("@context", 1, "epcList"), "urn:x:", "@context[1].epcList: redefines a term"),
        (("@context", 1, "example:x"), "urn:x:", "@context[1].example:x: a term here is"),
        ((*EVENTS, 0, "@context"), {"@base": "urn:x:"}, "epcisBody.eventList[0].@context.@base"),
    ],
)
def test_broken_documents_are_refused_naming_the_field(
    client, world, sessions, path, value, named
) -> None:
    response = post(client, {**world.maker.auth(), **EN}, _broken(path, value))
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["title"] == "The EPCIS document is not valid; nothing was stored."
    assert any(message.startswith(named) for message in problem["errors"]), problem["errors"]
    assert rows(sessions) == (0, 0, 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"type": "EPCISDocument", ', "(document): not JSON"),
        ("[" * 100_000 + "]" * 100_000, "(document): nested too deeply"),
        (b"\x80 not utf-8", "(document): not JSON"),
        ("[]", "(document): must be an object"),
        ('{"x": NaN}', "(document): not JSON: NaN is not a JSON number"),
        ('{"x": -1e999}', "(document): not JSON: -1e999 is too large a number"),
    ],
)
def test_what_is_not_a_json_object_is_refused(client, world, sessions, body, message) -> None:
    response = post(client, world.maker.auth(), body)
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith(message)
    assert rows(sessions) == (0, 0, 0)


def test_a_document_whose_third_event_is_bad_stores_none(client, world, sessions) -> None:
    headers = world.maker.auth()
    events = [object_event(f"urn:uuid:00000000-0000-4000-8000-00000000000{n}") for n in range(3)]
    events[2]["action"] = "MOVE"
    response = post(client, headers, document(*events))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "epcisBody.eventList[2].action: must be ADD, OBSERVE or DELETE"
    ]
    assert rows(sessions) == (0, 0, 0)
    assert events_of(query(client, headers, {"EQ_eventID": events[0]["eventID"]})) == []


def test_an_event_id_twice_in_a_document_is_refused(client, world, sessions) -> None:
    twice = document(
        object_event("urn:uuid:1"), object_event("urn:uuid:2"), object_event("urn:uuid:1")
    )
    response = post(client, world.maker.auth(), twice)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "epcisBody.eventList[2].eventID: urn:uuid:1 is also the eventID of epcisBody.eventList[0]"
    ]
    assert rows(sessions) == (0, 0, 0)


def test_an_event_captured_before_is_a_conflict_and_stores_nothing(client, world, sessions) -> None:
    headers = world.maker.auth()
    assert post(client, headers, document(object_event("urn:uuid:1"))).status_code == 202
    before = rows(sessions)
    again = document(object_event("urn:uuid:2"), object_event("urn:uuid:1"))
    response = post(client, world.maker.auth("operator"), again)
    assert response.status_code == 409
    assert response.json()["errors"] == [
        "epcisBody.eventList[1].eventID: urn:uuid:1 was captured before"
    ]
    assert rows(sessions) == before


def test_event_ids_are_unique_per_organization(client, world, sessions) -> None:
    """Another organization's eventID is not refused: a 409 would tell it the id was taken,
    and let it take an id before its owner does."""
    maker, other = world.maker, world.other_maker
    mine = object_event("urn:uuid:same", disposition="active")
    theirs = object_event("urn:uuid:same", at="2024-04-01T00:00:00Z", disposition="damaged")
    assert post(client, maker.auth(), document(mine)).status_code == 202
    assert post(client, other.auth(), document(theirs)).status_code == 202
    assert rows(sessions)[1] == 2
    by_id = f"/epcis/events/{quote('urn:uuid:same', safe='')}"
    for org, disposition in ((maker, "active"), (other, "damaged")):
        found = events_of(query(client, org.auth(), {"EQ_eventID": "urn:uuid:same"}))
        assert [event["disposition"] for event in found] == [disposition]
        assert events_of(client.get(by_id, headers=org.auth()))[0]["disposition"] == disposition
    regulator = world.regulator.auth("viewer")
    both = events_of(query(client, regulator, {"EQ_eventID": "urn:uuid:same"}))
    assert [event["disposition"] for event in both] == ["damaged", "active"]  # by eventTime
    # One event by its id: the first stored.
    assert events_of(client.get(by_id, headers=regulator))[0]["disposition"] == "active"


def test_a_large_documents_identifiers_are_linked_in_few_statements(
    world, engine, sessions
) -> None:
    """200 events naming 5 stamps each (1,000 identifiers, five of them real stamps of the
    maker): a bounded number of statements, not one lookup per identifier."""
    maker, gtin = world.maker, canonical_gtin(world.maker.gtin)
    first = sequence_of(maker.serials[0])
    links = [f"https://id.gs1.org/01/{gtin}/21/{serial_for(first + n)}" for n in range(1000)]
    events = [
        object_event(f"urn:uuid:big-{n}", epcList=links[n * 5 : n * 5 + 5]) for n in range(200)
    ]
    with statements(engine) as seen, session_scope(sessions) as session:
        capture(session, Actor.command_line(maker.id), document(*events))
    assert len(seen) <= 15, "\n".join(s[:90].replace("\n", " ") for s in seen[:40])
    assert stamp_links(sessions, "urn:uuid:big-0") == maker.codes
    assert stamp_links(sessions, "urn:uuid:big-1") == [None] * 5


def test_a_capture_links_the_stamps_its_organization_may_speak_of(client, world, sessions):
    """Held (received), travelling to it (shipped, not received), in any spelling: linked;
    the sender's own and another maker's: not."""
    maker, distributor = world.maker, world.distributor
    ship_and_receive(client, maker, distributor, maker.serials[0])
    shipped = client.post(
        "/api/v1/shipments",
        headers=maker.auth(),
        json={"to_org_id": distributor.id, "serials": maker.serials[1]},
    )
    assert shipped.status_code == 201, shipped.text
    serial = maker.serials[1].replace(" ", "")
    names = [
        equivalent_identifiers(stamp_link(world, 0), 7)[1],  # its SGTIN
        f"https://elsewhere.example/id/stamp/{maker.id}/serial/{serial}",
        stamp_link(world, 2),
        f"https://id.gs1.org/01/{canonical_gtin(world.other_maker.gtin)}/21/"
        + world.other_maker.serials[0].replace(" ", ""),
    ]
    assert names[0].startswith("urn:epc:id:sgtin:")
    event = object_event("urn:uuid:links", epcList=names)
    captured(client, distributor.auth(), document(event))
    assert stamp_links(sessions, "urn:uuid:links") == [maker.codes[0], maker.codes[1], None, None]
    captured(client, maker.auth(), document(object_event("urn:uuid:own", epcList=names[1:3])))
    assert stamp_links(sessions, "urn:uuid:own") == [maker.codes[1], maker.codes[2]]


def test_a_missing_event_id_is_assigned(client, world) -> None:
    headers = world.maker.auth()
    event = object_event("urn:uuid:x")
    del event["eventID"]
    assert post(client, headers, document(event)).status_code == 202
    [stored] = events_of(query(client, headers, {"MATCH_epc": event["epcList"][0]}))
    assert stored["eventID"].startswith("urn:uuid:")
    assert len(stored["eventID"]) == len("urn:uuid:") + 36


@pytest.mark.parametrize(
    ("event", "named"),
    [
        (object_event("urn:uuid:" + "a" * 500), "epcisBody.eventList[0].eventID: longer than 500"),
        (
            object_event("urn:x", epcList=["urn:x:" + "b" * 600]),
            "epcisBody.eventList[0].epcList[0]: longer than 500",
        ),
        (
            object_event("urn:x", at="9999-12-31T23:59:59-14:00"),
            "epcisBody.eventList[0].eventTime: out of range",
        ),
    ],
)
def test_what_the_columns_cannot_hold_is_refused(client, world, sessions, event, named) -> None:
    response = post(client, world.maker.auth(), document(event))
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith(named)
    assert rows(sessions) == (0, 0, 0)


def test_text_comes_back_as_it_went_in(client, world) -> None:
    headers = world.maker.auth()
    note = "Hàng chính hãng \u0000 \ud800 😀"
    response = post(client, headers, document(object_event("urn:uuid:t", **{"example:note": note})))
    assert response.status_code == 202, response.text
    [event] = events_of(query(client, headers, {"EQ_eventID": "urn:uuid:t"}))
    assert event["example:note"] == note


def test_more_events_than_a_capture_takes_is_413(client, world, sessions) -> None:
    response = post(client, world.maker.auth(), document(*[{}] * (MAX_EVENTS + 1)))
    assert response.status_code == 413
    assert response.json()["type"] == "epcisException:CaptureLimitExceededException"
    assert response.headers["gs1-epcis-capture-limit"] == str(MAX_EVENTS)
    assert rows(sessions) == (0, 0, 0)


def test_a_body_over_the_size_limit_is_413(client, world, sessions) -> None:
    response = post(client, world.maker.auth(), b" " * (MAX_BYTES + 1))
    assert response.status_code == 413
    assert rows(sessions) == (0, 0, 0)


@pytest.mark.parametrize("media_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_json_ld_is_415(client, world, media_type) -> None:
    headers = {**world.maker.auth(), "Content-Type": media_type}
    response = client.post("/epcis/capture", content=json.dumps(document()), headers=headers)
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


# --- One event, capture jobs ----------------------------------------------------------------


def test_one_event_is_captured_and_found_at_its_location(client, world) -> None:
    headers = world.maker.auth()
    event = {"@context": document()["@context"], **object_event("ni:///sha-256;ab?ver=CBV2.0")}
    event["example:note"] = "một"
    response = post(client, headers, event, path="/epcis/events")
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location == "/epcis/events/" + quote("ni:///sha-256;ab?ver=CBV2.0", safe="")
    answer = client.get(location, headers=headers)
    [found] = normalised(answer.json())
    expected = copy.deepcopy(event)
    del expected["@context"]
    assert found == expected


def test_one_event_needs_its_own_context(client, world, sessions) -> None:
    response = post(client, world.maker.auth(), object_event("urn:uuid:c"), path="/epcis/events")
    assert response.status_code == 400
    assert response.json()["errors"] == ["@context: required field is missing"]
    assert rows(sessions) == (0, 0, 0)


def test_one_events_context_declares_prefixes_only(client, world, sessions) -> None:
    event = {"@context": [*document()["@context"], {"@vocab": 1}], **object_event("urn:uuid:1")}
    response = post(client, world.maker.auth(), event, path="/epcis/events")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "@context[2].@vocab: a JSON-LD keyword is not taken here: declare prefixes only"
    ]
    assert rows(sessions) == (0, 0, 0)


def test_a_capture_job_is_shown_to_its_organization_only(client, world) -> None:
    job = post(client, world.maker.auth(), document(object_event("urn:uuid:j"))).json()
    url = f"/epcis/capture/{job['captureID']}"
    shown = client.get(url, headers=world.maker.auth("viewer"))
    assert shown.status_code == 200
    assert shown.json() == job
    assert client.get(url, headers=world.other_maker.auth()).status_code == 404
    assert client.get(url, headers=world.regulator.auth()).status_code == 200
    assert client.get("/epcis/capture/999999", headers=world.maker.auth()).status_code == 404
    assert client.get("/epcis/capture/abc", headers=world.maker.auth()).status_code == 400


def test_the_capture_list_pages_newest_first(client, world) -> None:
    headers = world.maker.auth()
    made = [
        post(client, headers, document(object_event(f"urn:uuid:l{n}"))).json()["captureID"]
        for n in range(5)
    ]
    post(client, world.other_maker.auth(), document(object_event("urn:uuid:other")))
    seen: list[str] = []
    url: str | None = "/epcis/capture?perPage=2"
    while url:
        page = client.get(url, headers=headers)
        assert page.status_code == 200
        seen += [job["captureID"] for job in page.json()]
        link = page.headers.get("link")
        url = link[1 : link.index(">")] if link else None
    assert seen == made[::-1]


def test_discovery_names_versions_and_limits(client) -> None:
    options = client.options("/epcis/capture")
    assert options.status_code == 204
    assert options.headers["gs1-epcis-capture-limit"] == str(MAX_EVENTS)
    assert options.headers["gs1-epcis-capture-file-size-limit"] == str(MAX_BYTES)
    root = client.options("/epcis")
    assert (root.headers["gs1-epcis-version"], root.headers["gs1-cbv-version"]) == (
        "2.0.0",
        "2.0.0",
    )
    assert client.get("/epcis").json() == ["capture", "events"]


def test_one_event_sent_as_a_document_is_told_where_it_goes(client, world, sessions) -> None:
    before = rows(sessions)
    event = {"@context": document()["@context"], **object_event("urn:uuid:1")}
    response = post(client, world.maker.auth(), event)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "(document): this is one event, not an EPCISDocument: POST it to /epcis/events"
    ]
    assert rows(sessions) == before
    assert post(client, world.maker.auth(), event, "/epcis/events").status_code == 201


def test_a_wrong_token_is_told_it_is_not_valid(client) -> None:
    wrong = client.get("/epcis/events?lang=en", headers={"Authorization": "Bearer chh_bogus"})
    missing = client.get("/epcis/events?lang=en")
    assert wrong.status_code == missing.status_code == 401
    assert "not valid" in wrong.json()["title"]
    assert "is needed" in missing.json()["title"]
