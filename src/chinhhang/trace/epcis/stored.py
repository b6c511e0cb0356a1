"""What a captured event names: its identifiers by role, and the platform stamps among them.

The roles are those of the MATCH_ query parameters: `epc` (epcList, childEPCs), `parent`
(parentID), `input` and `output` (a transformation's EPC lists), and the classes of quantity
lists: `class` (quantityList, childQuantityList), `in_class` and `out_class` (a
transformation's).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chinhhang.stamps.models import Shipment, Stamp
from chinhhang.trace.epcis.models import Event
from chinhhang.trace.epcis.stamp_ids import stamp_for_identifier

INSTANCE_ROLES = frozenset({"epc", "parent", "input", "output"})
# (attribute, JSON name, role)
_INSTANCE_LISTS = (
    ("epc_list", "epcList", "epc"),
    ("child_epcs", "childEPCs", "epc"),
    ("input_epc_list", "inputEPCList", "input"),
    ("output_epc_list", "outputEPCList", "output"),
)
_CLASS_LISTS = (
    ("quantity_list", "quantityList", "class"),
    ("child_quantity_list", "childQuantityList", "class"),
    ("input_quantity_list", "inputQuantityList", "in_class"),
    ("output_quantity_list", "outputQuantityList", "out_class"),
)
_CHUNK = 500


def named_identifiers(event: Event) -> list[tuple[str, str, str]]:
    """(field, role, identifier) for every identifier an event names, in the event's order;
    the field as messages name it (`epcList[1]`, `quantityList[0].epcClass`)."""
    found: list[tuple[str, str, str]] = []
    for attribute, name, role in _INSTANCE_LISTS:
        values = getattr(event, attribute, None) or ()
        found += [(f"{name}[{i}]", role, uri) for i, uri in enumerate(values)]
    parent = getattr(event, "parent_id", None)
    if parent is not None:
        found.append(("parentID", "parent", parent))
    for attribute, name, role in _CLASS_LISTS:
        items = getattr(event, attribute, None) or ()
        found += [(f"{name}[{i}].epcClass", role, q.epc_class) for i, q in enumerate(items)]
    return found


def identifiers_of(event: Event) -> list[tuple[str, str]]:
    """(role, identifier) pairs of an event, each once, in the event's order."""
    return list(dict.fromkeys((role, uri) for _, role, uri in named_identifiers(event)))


def linkable_stamps(
    session: Session, org_id: int, identifiers: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """identifier → the code of the platform stamp it denotes, for the stamps the capturing
    organization may speak of: it issued them, holds them, or they are travelling to it.

    A stamp's holder sees the events linked to it, so an event naming somebody else's stamp is
    stored but linked to none: no organization can put events into another's view."""
    uris = {uri for role, uri in identifiers if role in INSTANCE_ROLES}
    codes = {uri: code for uri in uris if (code := stamp_for_identifier(session, uri))}
    allowed = _allowed(session, org_id, sorted(set(codes.values())))
    return {uri: code for uri, code in codes.items() if code in allowed}


def _allowed(session: Session, org_id: int, codes: list[str]) -> set[str]:
    travelling_here = select(Shipment.id).where(Shipment.to_org_id == org_id)
    allowed: set[str] = set()
    for start in range(0, len(codes), _CHUNK):
        query = select(Stamp.code).where(
            Stamp.code.in_(codes[start : start + _CHUNK]),
            or_(
                Stamp.org_id == org_id,
                Stamp.holder_org_id == org_id,
                Stamp.shipment_id.in_(travelling_here),
            ),
        )
        allowed.update(session.scalars(query))
    return allowed
