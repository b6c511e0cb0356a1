"""The EPCISQueryDocument a query answers with, and the one @context its events share.

Events come from documents captured under different @contexts, and an extension field
(`example:myField`) means something only where its prefix is declared. The answer's @context
is the EPCIS 2.0 context and one object holding the prefixes the events' contexts declare
(contexts.py says which may be shared). An event whose context cannot be shared (a remote
context other than the EPCIS one) or whose prefixes clash with those already gathered (two
organizations giving `example` different namespaces) keeps its own @context on the event,
which JSON-LD applies to that event alone: one organization's context never changes how
another's events read. Pure module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chinhhang.trace.epcis.contexts import EPCIS_CONTEXT, shared_terms

__all__ = ["EPCIS_CONTEXT", "SCHEMA_VERSION", "context_entries", "query_document", "timestamp"]

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
    terms: dict[str, str] = {}
    listed = []
    for event in events:
        shown = dict(event)
        own = context_entries(shown.pop("@context", None))
        shared = shared_terms(own)
        if shared is not None and all(terms.get(k, v) == v for k, v in shared.items()):
            terms.update(shared)
        else:
            shown = {"@context": own, **shown}
        listed.append(shown)
    return {
        "@context": [EPCIS_CONTEXT, terms] if terms else [EPCIS_CONTEXT],
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
