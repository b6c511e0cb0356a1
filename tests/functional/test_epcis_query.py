"""EPCIS query over HTTP, on SQLite and PostgreSQL: every standard parameter, paging with the
Link header, bad parameters named, and who sees whose events."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.api_helpers import PASSWORD
from tests.functional.epcis_helpers import (
    captured,
    document,
    events_of,
    ids_of,
    next_url,
    normalised,
    object_event,
    post,
    query,
    rows,
    ship_and_receive,
    stamp_link,
    stamp_links,
)
from tests.portal_helpers import Browser

A = "urn:epc:id:sgtin:0614141.107346.2017"
A_LINK = "https://id.gs1.org/01/10614141073464/21/2017"
B = "urn:epc:id:sgtin:0614141.107346.2018"
C = "urn:epc:id:sgtin:0614142.107346.1"
P = "urn:epc:id:sscc:0614141.1234567890"
L = "urn:epc:class:lgtin:4012345.012345.998877"
RP1, RP2 = "urn:epc:id:sgln:0614141.00777.0", "urn:epc:id:sgln:0614141.00888.0"
BL1, BL2 = "urn:epc:id:sgln:0614141.00777.1", "urn:epc:id:sgln:0614141.00888.1"
EPCIS = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"


def _at(month: int) -> dict:
    return {"eventTime": f"2024-{month:02d}-01T00:00:00Z", "eventTimeZoneOffset": "+00:00"}


EVENTS = [
    object_event(
        "urn:uuid:e1",
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        readPoint={"id": RP1},
        bizLocation={"id": BL1},
        epcList=[A],
        **_at(1),
    ),
    object_event(
        "urn:uuid:e2",
        bizStep="urn:epcglobal:cbv:bizstep:shipping",
        disposition="in_transit",
        readPoint={"id": RP2},
        bizLocation={"id": BL2},
        epcList=[B],
        **_at(2),
    ),
    {
        "type": "AggregationEvent",
        "eventID": "urn:uuid:e3",
        "action": "ADD",
        "bizStep": "packing",
        "parentID": P,
        "childEPCs": [A],
        **_at(3),
    },
    {
        "type": "TransformationEvent",
        "eventID": "urn:uuid:e4",
        "inputEPCList": [B],
        "outputEPCList": [C],
        **_at(4),
    },
    object_event(
        "urn:uuid:e5",
        action="ADD",
        bizStep="receiving",
        epcList=[],
        quantityList=[{"epcClass": L, "quantity": 10, "uom": "KGM"}],
        **_at(5),
    ),
]
ALL = ["e1", "e2", "e3", "e4", "e5"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ALL),
        ({"eventType": "AggregationEvent,TransformationEvent"}, ["e3", "e4"]),
        (
            [("eventType", "ObjectEvent"), ("eventType", "AggregationEvent")],
            ["e1", "e2", "e3", "e5"],
        ),
        ({"GE_eventTime": "2024-03-01T00:00:00Z"}, ["e3", "e4", "e5"]),
        ({"LT_eventTime": "2024-02-01T07:00:00+07:00"}, ["e1"]),
        ({"LT_eventTime": "2024-02-01T07:00:01 07:00"}, ["e1", "e2"]),  # `+` sent unencoded
        ({"GE_recordTime": "2000-01-01T00:00:00Z"}, ALL),
        ({"LT_recordTime": "2000-01-01T00:00:00Z"}, []),
        ({"EQ_action": "OBSERVE"}, ["e2"]),
        ({"EQ_action": "ADD|DELETE"}, ["e1", "e3", "e5"]),
        ({"EQ_bizStep": "shipping"}, ["e2"]),
        ({"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-receiving|commissioning"}, ["e1", "e5"]),
        ({"EQ_disposition": "urn:epcglobal:cbv:disp:in_transit"}, ["e2"]),
        ({"EQ_readPoint": RP1}, ["e1"]),
        ({"EQ_bizLocation": BL2}, ["e2"]),
        ({"MATCH_epc": A}, ["e1", "e3"]),
        ({"MATCH_epc": A_LINK}, ["e1", "e3"]),
        ({"MATCH_epc": "urn:epc:idpat:sgtin:0614141.107346.*"}, ["e1", "e2", "e3"]),
        ({"MATCH_anyEPC": B}, ["e2", "e4"]),
        ({"MATCH_anyEPC": P}, ["e3"]),
        ({"MATCH_parentID": P}, ["e3"]),
        ({"MATCH_inputEPC": B}, ["e4"]),
        ({"MATCH_outputEPC": C}, ["e4"]),
        ({"MATCH_outputEPC": B}, []),
        ({"MATCH_epcClass": L}, ["e5"]),
        ({"MATCH_epcClass": "urn:epc:idpat:sgtin:4012345.012345.*"}, ["e5"]),
        ({"EQ_eventID": "urn:uuid:e1|urn:uuid:e4"}, ["e1", "e4"]),
        ({"EQ_bizStep": "shipping", "MATCH_epc": A}, []),
    ],
)
def test_each_query_parameter_selects_its_events(client, world, params, expected) -> None:
    # A distributor that holds no stamps: its answers hold no platform events.
    headers = world.distributor.auth()
    captured(client, headers, document(*EVENTS))
    assert ids_of(query(client, headers, params)) == [f"urn:uuid:{name}" for name in expected]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"EQ_bizstep": "shipping"}, "EQ_bizstep"),
        ({"WD_readPoint": RP1}, "WD_readPoint"),
        ({"GE_eventTime": "yesterday"}, "GE_eventTime"),
        ({"GE_eventTime": "2024-05-01T08:30:00"}, "GE_eventTime"),
        ({"LT_recordTime": "2024-13-01T00:00:00Z"}, "LT_recordTime"),
        ([("GE_eventTime", "2024-05-01T00:00:00Z")] * 2, "GE_eventTime may be given only once"),
        ({"EQ_bizStep": "shiping"}, "did you mean shipping?"),
        ({"EQ_bizStep": ""}, "EQ_bizStep needs a value"),
        ({"EQ_action": "MOVE"}, "EQ_action"),
        ({"eventType": "Thing"}, "eventType"),
        ({"MATCH_epc": "not a uri"}, "MATCH_epc"),
        ({"EQ_eventID": "\x00"}, "EQ_eventID"),
        ({"perPage": "0"}, "perPage"),
        ({"perPage": "501"}, "perPage"),
        ({"perPage": "ten"}, "perPage"),
        ({"nextPageToken": "garbage"}, "nextPageToken"),
    ],
)
def test_a_bad_parameter_is_refused_by_name(client, world, params, named) -> None:
    response = query(client, {**world.distributor.auth(), "Accept-Language": "en"}, params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "epcisException:QueryParameterException"
    assert named in response.json()["title"]


def test_pages_follow_the_link_header_and_keep_the_filters(client, world) -> None:
    headers = world.distributor.auth()
    # 25 events, some at the same instant: ties are ordered too, and no page repeats one.
    events = [
        object_event(f"urn:uuid:p{n:02d}", at=f"2024-05-01T08:{n // 3:02d}:00+07:00")
        for n in range(25)
    ]
    events.append(object_event("urn:uuid:add", action="ADD"))
    captured(client, headers, document(*events))
    response = query(client, headers, {"perPage": 7, "EQ_action": "OBSERVE"})
    seen, pages = ids_of(response), 1
    while (url := next_url(response)) is not None:
        assert "EQ_action=OBSERVE" in url
        response = client.get(url, headers=headers)
        seen += ids_of(response)
        pages += 1
    assert pages == 4
    assert seen == [event["eventID"] for event in events[:25]]


def test_the_answer_is_an_epcis_query_document(client, world) -> None:
    headers = world.distributor.auth()
    captured(client, headers, document(object_event("urn:uuid:d", **{"example:x": "1"})))
    response = query(client, headers)
    answer = response.json()
    assert response.headers["content-type"] == "application/ld+json"
    assert response.headers["gs1-epcis-version"] == "2.0.0"
    assert answer["type"] == "EPCISQueryDocument"
    assert answer["schemaVersion"] == "2.0"
    assert {"example": "http://ns.example.com/epcis/"}.items() <= answer["@context"][-1].items()
    assert answer["epcisBody"]["queryResults"]["queryName"] == "SimpleEventQuery"
    plain = query(client, {**headers, "Accept": "application/json"})
    assert plain.headers["content-type"] == "application/json"
    assert plain.json() == {**answer, "creationDate": plain.json()["creationDate"]}


def test_clashing_prefixes_stay_each_with_its_event(client, world) -> None:
    headers = world.distributor.auth()
    mine = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"ex": "urn:one:"}]
    theirs = [mine[0], {"ex": "urn:two:"}]
    captured(client, headers, document(object_event("urn:uuid:c1", **{"ex:a": 1}), context=mine))
    later = object_event("urn:uuid:c2", at="2024-06-01T00:00:00Z", **{"ex:a": 2})
    captured(client, headers, document(later, context=theirs))
    first, second = events_of(query(client, headers))
    assert "@context" not in first
    assert second["@context"] == theirs


def test_one_organizations_context_does_not_change_anothers_events(client, world) -> None:
    """A remote context can declare anything (`@vocab`, other terms): it stays on the events
    captured under it, and only plain prefixes are shared in the regulator's answer."""
    remote = "https://maker.example/epcis-context.jsonld"
    mine = [EPCIS, remote, {"mk": "urn:maker:"}]
    captured(client, world.maker.auth(), document(_noted("urn:uuid:m1", "mk"), context=mine))
    theirs = [EPCIS, {"om": "urn:other:"}]
    later = _noted("urn:uuid:o1", "om", at="2024-06-01T00:00:00Z")
    captured(client, world.other_maker.auth(), document(later, context=theirs))
    answer = query(
        client, world.regulator.auth("viewer"), {"EQ_eventID": "urn:uuid:m1|urn:uuid:o1"}
    )
    assert answer.json()["@context"] == [EPCIS, {"om": "urn:other:"}]
    first, second = events_of(answer)
    assert first["@context"] == mine
    assert "@context" not in second
    assert [event["eventID"] for event in normalised(answer.json())] == [
        "urn:uuid:m1",
        "urn:uuid:o1",
    ]


def _noted(event_id: str, prefix: str, **fields) -> dict:
    return object_event(event_id, **{f"{prefix}:note": "n", **fields})


# --- Who sees what --------------------------------------------------------------------------


def test_an_organization_sees_only_its_own_events(client, world) -> None:
    captured(client, world.maker.auth(), document(object_event("urn:uuid:mine")))
    by_id = f"/epcis/events/{quote('urn:uuid:mine', safe='')}"
    assert client.get(by_id, headers=world.maker.auth("viewer")).status_code == 200
    for other in (world.other_maker, world.distributor, world.retailer):
        assert "urn:uuid:mine" not in ids_of(query(client, other.auth()))
        assert events_of(query(client, other.auth(), {"EQ_eventID": "urn:uuid:mine"})) == []
        assert client.get(by_id, headers=other.auth()).status_code == 404


def test_the_regulator_sees_every_organizations_events(client, world) -> None:
    captured(client, world.maker.auth(), document(object_event("urn:uuid:m")))
    captured(client, world.retailer.auth(), document(object_event("urn:uuid:r")))
    found = ids_of(
        query(client, world.regulator.auth("viewer"), {"EQ_eventID": "urn:uuid:m,urn:uuid:r"})
    )
    assert found == ["urn:uuid:m", "urn:uuid:r"]
    by_id = client.get("/epcis/events/urn%3Auuid%3Ar", headers=world.regulator.auth("viewer"))
    assert by_id.status_code == 200


def _made(world) -> dict:
    """The maker's event about stamps 0 and 3, with everything a partner must not see."""
    return object_event(
        "urn:uuid:made",
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        readPoint={"id": RP1, "example:line": "7"},
        bizLocation={"id": BL1},
        epcList=[stamp_link(world, 0), stamp_link(world, 3)],
        quantityList=[{"epcClass": L, "quantity": 10, "uom": "KGM"}],
        bizTransactionList=[
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:1"}
        ],
        sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:0614141.00001"}],
        **{"example:secret": "A-ONLY"},
    )


def test_a_partner_sees_events_about_the_stamps_it_holds(client, world, sessions) -> None:
    maker, distributor = world.maker, world.distributor
    held, kept = stamp_link(world, 0), stamp_link(world, 3)
    captured(client, maker.auth(), document(_made(world)))
    assert stamp_links(sessions, "urn:uuid:made") == [maker.codes[0], maker.codes[3], None]
    assert "urn:uuid:made" not in ids_of(query(client, distributor.auth()))
    ship_and_receive(client, maker, distributor, f"{maker.serials[0]}-{maker.serials[2]}")
    answer = query(client, distributor.auth(), {"EQ_eventID": "urn:uuid:made"})
    (seen,) = events_of(answer)
    assert seen == {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:made",
        "eventTime": "2024-05-01T08:30:00+07:00",
        "recordTime": seen["recordTime"],
        "eventTimeZoneOffset": "+07:00",
        "action": "ADD",
        "epcList": [held],
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": RP1},
        "bizLocation": {"id": BL1},
    }
    assert kept not in answer.text
    assert "A-ONLY" not in answer.text
    assert "ns.example.com" not in answer.text  # nor the maker's own vocabulary
    by_id = client.get("/epcis/events/urn%3Auuid%3Amade", headers=distributor.auth())
    assert events_of(by_id) == [{**seen, "recordTime": events_of(by_id)[0]["recordTime"]}]
    # A filter on what the partner cannot see finds nothing, as if it were not there.
    assert "urn:uuid:made" in ids_of(query(client, distributor.auth(), {"MATCH_epc": held}))
    for hidden in ({"MATCH_epc": kept}, {"MATCH_epcClass": L}):
        assert "urn:uuid:made" not in ids_of(query(client, distributor.auth(), hidden))
    for whole in (maker.auth(), world.regulator.auth("viewer")):
        (event,) = events_of(query(client, whole, {"EQ_eventID": "urn:uuid:made"}))
        assert event["epcList"] == [held, kept]
        assert event["example:secret"] == "A-ONLY"
    for other in (world.other_maker, world.retailer):
        assert events_of(query(client, other.auth(), {"EQ_eventID": "urn:uuid:made"})) == []


def test_nobody_puts_events_into_another_holders_view(client, world, sessions) -> None:
    stamp = stamp_link(world, 1)  # the maker holds it
    sneaky = document(object_event("urn:uuid:sneaky", epcList=[stamp], disposition="stolen"))
    captured(client, world.other_maker.auth(), sneaky)
    assert stamp_links(sessions, "urn:uuid:sneaky") == [None]
    assert events_of(query(client, world.maker.auth(), {"EQ_eventID": "urn:uuid:sneaky"})) == []
    assert ids_of(query(client, world.other_maker.auth(), {"MATCH_epc": stamp})) == [
        "urn:uuid:sneaky"
    ]


@pytest.mark.parametrize(
    ("who", "role"),
    [("maker", "viewer"), ("regulator", "owner"), ("pending", "owner"), ("distributor", "viewer")],
)
def test_who_may_not_capture_is_refused_and_nothing_stored(client, world, sessions, who, role):
    headers = getattr(world, who).auth(role)
    response = post(client, headers, document(object_event("urn:uuid:no")))
    assert response.status_code == 403
    assert response.json()["type"] == "epcisException:SecurityException"
    assert rows(sessions) == (0, 0, 0)
    assert query(client, headers).status_code == 200  # every role may query


@pytest.mark.parametrize("authorization", [None, "Bearer chh_not-a-token", "Basic eDp5"])
def test_without_a_valid_token_the_answer_is_401(client, authorization) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for response in (
        client.get("/epcis/events", headers=headers),
        post(client, headers, document(object_event("urn:uuid:anon"))),
    ):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"


def test_a_signed_in_portal_user_may_read_but_not_capture(client, world) -> None:
    captured(client, world.maker.auth(), document(object_event("urn:uuid:portal")))
    browser = Browser(client)
    browser.login(f"viewer.{world.maker.id}@manufacturer.test", PASSWORD)
    assert "urn:uuid:portal" in ids_of(client.get("/epcis/events"))
    refused = post(client, {}, document(object_event("urn:uuid:by-cookie")))
    assert refused.status_code == 401
