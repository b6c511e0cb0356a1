"""The EPCISQueryDocument a query answers with, and the one @context its events share.

Events come from documents captured under different @contexts, and an extension field
(`example:myField`) means something only where its prefix is declared. The answer's @context
is the EPCIS 2.0 context followed by every other remote context and one object holding every
term the events' contexts define. An event whose terms clash with those already gathered (two
organizations giving `example` different namespaces) keeps its own @context on the event, which
JSON-LD applies to that event alone. Pure module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
# The standard's own context under its other addresses (the examples use the first).
_EPCIS_CONTEXTS = ("https://gs1.github.io/EPCIS/", "https://ref.gs1.org/standards/epcis/")
SCHEMA_VERSION = "2.0"


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as the standard's examples write times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def context_entries(context: object) -> list[Any]:
    """A @context (a URI, an object, or a list of them) as a list of entries."""
    if context is None:
        return []
    return list(context) if isinstance(context, list) else [context]


def query_document(events: list[dict[str, Any]], created: datetime) -> dict[str, Any]:
    """The EPCIS 2.0 query answer (JSON-LD) listing `events` in their order."""
    remote: list[str] = [EPCIS_CONTEXT]
    terms: dict[str, Any] = {}
    listed = []
    for event in events:
        shown = dict(event)
        own = context_entries(shown.pop("@context", None))
        if _fits(own, terms):
            _gather(own, remote, terms)
        else:
            shown = {"@context": own, **shown}
        listed.append(shown)
    return {
        "@context": [*remote, terms] if terms else remote,
        "type": "EPCISQueryDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": timestamp(created),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": listed},
            }
        },
    }


def _defined(entries: list[Any]) -> dict[str, Any]:
    """The terms a list of context entries defines; a later entry overrides an earlier one."""
    terms: dict[str, Any] = {}
    for entry in entries:
        if isinstance(entry, dict):
            terms.update(entry)
    return terms


def _fits(entries: list[Any], terms: dict[str, Any]) -> bool:
    return all(terms.get(key, value) == value for key, value in _defined(entries).items())


def _gather(entries: list[Any], remote: list[str], terms: dict[str, Any]) -> None:
    for entry in entries:
        known = not isinstance(entry, str) or entry.startswith(_EPCIS_CONTEXTS)
        if not known and entry not in remote:
            remote.append(entry)
    terms.update(_defined(entries))
