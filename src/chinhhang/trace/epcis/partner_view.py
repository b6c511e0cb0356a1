"""What a stamp's later holder sees of an event another organization captured.

An organization sees a captured event it did not capture because the event names a stamp it
holds now (query.py). That is a reason to tell it what happened to *its* stamps, not to show
it the capturer's whole record: the other identifiers of the event (stamps the capturer kept or
sent elsewhere), its quantities, business transactions, sources and destinations, sensor
readings, master data and extension fields are the capturer's business. So such a viewer gets
the event reduced to what happened, when and where (`KEPT`), with the identifier lists cut to
the identifiers that the capture linked to stamps the viewer holds. Pure module.
"""

from __future__ import annotations

from typing import Any

# The fields a partner keeps, in the order of the stored event (recordTime is added after
# eventTime, as for every captured event).
KEPT = frozenset(
    {
        "type",
        "eventID",
        "eventTime",
        "eventTimeZoneOffset",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "errorDeclaration",
    }
)
# Identifier fields and the role capture stored their identifiers under (trace/epcis/stored.py).
_LISTS = {"epcList": "epc", "childEPCs": "epc", "inputEPCList": "input", "outputEPCList": "output"}
# Standard fields of an errorDeclaration; its extension fields are the capturer's.
_ERROR_DECLARATION = ("declarationTime", "reason", "correctiveEventIDs")

Held = frozenset[tuple[str, str]]


def partner_view(stored: dict[str, Any], held: Held, record_time: str) -> dict[str, Any]:
    """The event `stored` (as capture stored it) as a holder of some of its stamps sees it.

    `held` is the (role, identifier) pairs of the event that denote stamps the viewer holds
    now; every other identifier is left out. No @context: only standard fields remain, and
    the capturer's context would tell its private vocabulary."""
    event: dict[str, Any] = {}
    for key, value in stored.items():
        if key in _LISTS:
            event[key] = [uri for uri in value if (_LISTS[key], uri) in held]
        elif key == "parentID":
            if ("parent", value) in held:
                event[key] = value
        elif key in ("readPoint", "bizLocation") and isinstance(value, dict):
            event[key] = {"id": value.get("id")}
        elif key == "errorDeclaration" and isinstance(value, dict):
            event[key] = {k: value[k] for k in _ERROR_DECLARATION if k in value}
        elif key in KEPT:
            event[key] = value
        if key == "eventTime":
            event["recordTime"] = record_time
    return event
