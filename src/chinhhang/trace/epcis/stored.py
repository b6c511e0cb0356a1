"""What a captured event names: its identifiers by role, and the platform stamps among them.

The roles are those of the MATCH_ query parameters: `epc` (epcList, childEPCs), `parent`
(parentID), `input` and `output` (a transformation's EPC lists), and the classes of quantity
lists: `class` (quantityList, childQuantityList), `in_class` and `out_class` (a
transformation's).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from chinhhang.catalog.models import Product
from chinhhang.stamps.models import Shipment, Stamp
from chinhhang.trace.epcis.models import Event
from chinhhang.trace.epcis.stamp_ids import parse_stamp_identifier

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
    """identifier → the code of the platform stamp it denotes (`stamp_for_identifier`'s
    rule), for the stamps the capturing organization may speak of: it issued them, holds
    them, or they are travelling to it.

    A stamp's holder sees the events linked to it, so an event naming somebody else's stamp is
    stored but linked to none: no organization can put events into another's view. A whole
    document's identifiers are read together, in a number of queries that grows with the
    number of identifiers divided by _CHUNK, not with the number of events."""
    names = {
        uri: name
        for uri in {uri for role, uri in identifiers if role in INSTANCE_ROLES}
        if (name := parse_stamp_identifier(uri)) is not None
    }
    products = _products(session, {name.gtin for name in names.values() if name.gtin})
    # A GTIN form denotes a stamp of the product's own organization, bound to that product.
    wanted: dict[tuple[int, int], list[tuple[str, int | None]]] = {}
    for uri, name in names.items():
        if name.gtin is None:
            issuer, product_id = name.issuer_org_id, None
        elif name.gtin in products:
            product_id, issuer = products[name.gtin]
        else:
            continue
        if issuer is not None:
            wanted.setdefault((issuer, name.sequence), []).append((uri, product_id))
    found = _allowed(session, org_id, sorted(wanted))
    return {
        uri: found[key][0]
        for key, uris in wanted.items()
        if key in found
        for uri, product_id in uris
        if product_id is None or found[key][1] == product_id
    }


def _products(session: Session, gtins: set[str]) -> dict[str, tuple[int, int]]:
    """GTIN → (product id, its organization), for the GTINs that are the platform's."""
    listed = sorted(gtins)
    found: dict[str, tuple[int, int]] = {}
    for start in range(0, len(listed), _CHUNK):
        query = select(Product.gtin, Product.id, Product.org_id).where(
            Product.gtin.in_(listed[start : start + _CHUNK])
        )
        found.update({gtin: (pid, org) for gtin, pid, org in session.execute(query) if gtin})
    return found


def _allowed(
    session: Session, org_id: int, keys: list[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, int | None]]:
    """(issuer, sequence) → (code, product id) of the stamps among `keys` that `org_id` may
    link. A chunk's keys are grouped by issuer: `org_id = ? AND sequence IN (…)` per issuer,
    OR-ed, which the (org_id, sequence) index answers."""
    travelling_here = select(Shipment.id).where(Shipment.to_org_id == org_id)
    found: dict[tuple[int, int], tuple[str, int | None]] = {}
    for start in range(0, len(keys), _CHUNK):
        by_issuer: dict[int, list[int]] = {}
        for issuer, sequence in keys[start : start + _CHUNK]:
            by_issuer.setdefault(issuer, []).append(sequence)
        query = select(Stamp.org_id, Stamp.sequence, Stamp.code, Stamp.product_id).where(
            or_(
                *(
                    and_(Stamp.org_id == issuer, Stamp.sequence.in_(sequences))
                    for issuer, sequences in by_issuer.items()
                )
            ),
            or_(
                Stamp.org_id == org_id,
                Stamp.holder_org_id == org_id,
                Stamp.shipment_id.in_(travelling_here),
            ),
        )
        for issuer, sequence, code, product_id in session.execute(query):
            found[(int(issuer), int(sequence))] = (code, product_id)
    return found
