"""Arrange and compare helpers for the EPCIS repository's functional tests: small documents,
capture and query over HTTP, the events of an answer, and the rows that capture writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy import event as sqlalchemy_event

from chinhhang.catalog.gtin import canonical_gtin
from chinhhang.trace.epcis import validate_document
from chinhhang.trace.models import EpcisCapture, EpcisEvent, EpcisEventEpc

CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"example": "http://ns.example.com/epcis/"},
]
LD = {"Content-Type": "application/ld+json"}


def object_event(event_id: str, at: str = "2024-05-01T08:30:00+07:00", **fields: Any) -> dict:
    """An ObjectEvent observing one SGTIN; `fields` replace or add (camelCase keys)."""
    return {
        "type": "ObjectEvent",
        "eventID": event_id,
        "eventTime": at,
        "eventTimeZoneOffset": "+07:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
        **fields,
    }


def document(*events: dict, context: Any = None) -> dict:
    return {
        "@context": CONTEXT if context is None else context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-05-01T09:00:00+07:00",
        "epcisBody": {"eventList": list(events)},
    }


def post(client, headers: dict, body: Any, path: str = "/epcis/capture") -> Any:
    """POST a document (a value, sent as JSON-LD) or raw text/bytes."""
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, content=content, headers={**LD, **headers})


def captured(client, headers: dict, body: Any) -> dict:
    response = post(client, headers, body)
    assert response.status_code == 202, response.text
    return response.json()


def query(client, headers: dict, params: Any = None) -> Any:
    return client.get("/epcis/events", headers=headers, params=params)


def events_of(response: Any) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def ids_of(response: Any) -> list[str]:
    return [event["eventID"] for event in events_of(response)]


def next_url(response: Any) -> str | None:
    link = response.headers.get("link")
    if link is None:
        return None
    assert link.endswith('>; rel="next"'), link
    return link[1 : link.index(">")]


def normalised(answer: dict) -> list[dict]:
    """The answer's events read back through the models under the answer's own @context
    (so an undeclared extension prefix fails here), without recordTime, by eventID."""
    events = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    again = document(*events, context=answer["@context"])
    return without_record_time(validate_document(again))


def without_record_time(parsed: Any) -> list[dict]:
    dumped = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    events = dumped["epcisBody"]["eventList"]
    for event in events:
        event.pop("recordTime", None)
    return sorted(events, key=lambda event: event.get("eventID", ""))


def rows(sessions) -> tuple[int, int, int]:
    """Captures, events and identifier rows stored."""
    with sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table))
            for table in (EpcisCapture, EpcisEvent, EpcisEventEpc)
        )


def stamp_links(sessions, event_id: str) -> list[str | None]:
    """The stamp codes an event's identifiers were linked to at capture (None: no stamp)."""
    with sessions() as session:
        return list(
            session.scalars(
                select(EpcisEventEpc.stamp_code)
                .join(EpcisEvent, EpcisEvent.id == EpcisEventEpc.event_pk)
                .where(EpcisEvent.event_id == event_id)
            )
        )


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements `engine` runs inside the block, for asserting how many there are
    (a count, not a timing: it does not depend on the machine)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)


def stamp_link(world, index: int = 0) -> str:
    """The Digital Link of the maker's stamp `index`."""
    serial = world.maker.serials[index].replace(" ", "")
    return f"https://id.gs1.org/01/{canonical_gtin(world.maker.gtin)}/21/{serial}"


def ship_and_receive(client, sender, receiver, serials: str) -> None:
    """`sender` ships `serials` to `receiver`, who receives them, over the API."""
    shipped = client.post(
        "/api/v1/shipments",
        headers=sender.auth(),
        json={"to_org_id": receiver.id, "serials": serials},
    )
    assert shipped.status_code == 201, shipped.text
    received = client.post(
        f"/api/v1/shipments/{shipped.json()['id']}/receive", headers=receiver.auth()
    )
    assert received.status_code == 200, received.text
