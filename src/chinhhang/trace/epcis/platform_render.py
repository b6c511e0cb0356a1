"""The platform's steps as EPCIS 2.0 ObjectEvents in JSON-LD form (see platform.py for the
mapping). Each event names its stamps by serial-based identifiers (stamp_ids.py), never by code.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from chinhhang.catalog.models import Batch, Product
from chinhhang.stamps.models import Stamp, StampEvent
from chinhhang.stamps.serials import serial_for
from chinhhang.stamps.services.events import activated_counts
from chinhhang.trace.epcis.filters import FIRST_SALE, STAMP_STEP, Viewer
from chinhhang.trace.epcis.stamp_ids import (
    facility_identifier,
    location_identifier,
    lot_class_identifier,
    party_identifier,
    product_class_identifier,
    shipment_identifier,
    stamp_identifier,
    unbound_class_identifier,
)

# The platform's extension fields, under a prefix every answer declares in its @context.
PREFIX = "chinhhang"
VOCABULARY = "https://chinhhang.vn/voc/"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
CONTEXT: list[str | dict[str, str]] = [EPCIS_CONTEXT, {PREFIX: VOCABULARY}]
# The platform's clock is Vietnam's (Asia/Ho_Chi_Minh, no daylight saving): times are written in
# UTC, and the offset says where they happened.
TIME_ZONE_OFFSET = "+07:00"
# A step over at most this many stamps lists each stamp; a larger one counts them by class.
EPC_LIST_LIMIT = 1000
# Serial ranges OR-ed in one query when reading a page's listed stamps: few enough for
# SQLite's expression depth limit (1,000) and a short plan.
_RANGES = 100


@dataclass(frozen=True, slots=True)
class Step:
    """How one of the platform's steps reads in EPCIS (the table in docs/traceability.md)."""

    name: str  # chinhhang:step
    action: str
    biz_step: str
    disposition: str
    located: bool  # the place of the step is where the stamps are afterwards (bizLocation)


STEPS = {
    "commissioning": Step("issuing", "ADD", "commissioning", "encoded", located=True),
    "activating": Step("activating", "OBSERVE", "commissioning", "active", located=True),
    "shipping": Step("shipping", "OBSERVE", "shipping", "in_transit", located=False),
    "receiving": Step("receiving", "OBSERVE", "receiving", "in_progress", located=True),
    "voiding": Step("voiding", "DELETE", "decommissioning", "inactive", located=False),
}
FIRST_SALE_STEP = Step("first_sale", "OBSERVE", "retail_selling", "retail_sold", located=False)


# --- Event ids -------------------------------------------------------------------------------
# A UUID (RFC 9562 version 8, "custom") that carries the source and the row id in the clear, so
# EQ_eventID is a lookup by primary key, and a tag of the installation's base URL, so that two
# installations never give one id to different events: 48 bits tag, 4 version, 12 source,
# 2 variant, 62 row id.


@cache
def _tag(base_url: str) -> int:
    return int.from_bytes(hashlib.sha256(f"chinhhang-event:{base_url}".encode()).digest()[:6])


def event_id(source: int, row_id: int, base_url: str) -> str:
    value = _tag(base_url) << 80 | 8 << 76 | source << 64 | 0b10 << 62 | row_id
    return f"urn:uuid:{uuid.UUID(int=value)}"


def parse_event_id(value: str, base_url: str) -> tuple[int, int] | None:
    """(source, row id) of an event id this installation gave; None for any other value."""
    if not isinstance(value, str) or value[:9].lower() != "urn:uuid:" or len(value) > 60:
        return None
    try:
        number = uuid.UUID(value[9:]).int
    except ValueError:
        return None
    if number >> 80 != _tag(base_url) or (number >> 76) & 0xF != 8 or (number >> 62) & 3 != 2:
        return None
    return (number >> 64) & 0xFFF, number & ((1 << 62) - 1)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- What an event is about ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Places:
    """What the events of one page name, read once for the page rather than once an event:
    the GLNs of their organizations (None: it has none); the GTIN (None: bound to no product
    with one, or not written yet) of every stamp of the ranges listed whole (`listed`: their
    stamp_events ids), see `listed_stamps`; and the class names met so far."""

    gln: dict[int, str | None]
    base_url: str
    stamps: dict[tuple[int, int], str | None] = field(default_factory=dict)
    listed: frozenset[int] = frozenset()
    classes: dict[tuple[int, int | None, int | None], str] = field(default_factory=dict)

    def location(self, org_id: int) -> str:
        return location_identifier(self.gln.get(org_id), org_id, self.base_url)

    def party(self, org_id: int) -> str:
        return party_identifier(self.gln.get(org_id), org_id, self.base_url)


def listed_stamps(
    session: Session, events: Sequence[StampEvent]
) -> tuple[dict[tuple[int, int], str | None], frozenset[int]]:
    """The GTIN of every stamp of `events`' ranges (which their viewer sees whole), for the
    ranges of at most EPC_LIST_LIMIT stamps (the ones an event lists), and those events' ids.
    The ranges are merged per issuer (a run's issuing, activation and shipping name the same
    serials) and read _RANGES to a query, so a page costs a query or two, not one an event."""
    small = [e for e in events if e.last_sequence - e.first_sequence < EPC_LIST_LIMIT]
    merged: list[list[int]] = []
    for issuer, first, last in sorted(
        (e.issuer_org_id, e.first_sequence, e.last_sequence) for e in small
    ):
        if merged and merged[-1][0] == issuer and first <= merged[-1][2] + 1:
            merged[-1][2] = max(merged[-1][2], last)
        else:
            merged.append([issuer, first, last])
    found: dict[tuple[int, int], str | None] = {}
    for start in range(0, len(merged), _RANGES):
        in_ranges = [
            and_(Stamp.org_id == issuer, Stamp.sequence.between(first, last))
            for issuer, first, last in merged[start : start + _RANGES]
        ]
        query = (
            select(Stamp.org_id, Stamp.sequence, Product.gtin)
            .outerjoin(Product, Product.id == Stamp.product_id)
            .where(or_(*in_ranges))
        )
        found.update({(int(o), int(s)): gtin for o, s, gtin in session.execute(query)})
    return found, frozenset(e.id for e in small)


def _epc_list(
    session: Session, event: StampEvent, holder: int | None, places: Places
) -> list[str] | None:
    """Each stamp's identifier, or None when there are more than EPC_LIST_LIMIT. With the
    whole range visible, serials not written yet (a run still filling) are listed unbound."""
    first, last, issuer = event.first_sequence, event.last_sequence, event.issuer_org_id
    base_url = places.base_url
    if holder is None and last - first >= EPC_LIST_LIMIT:
        return None
    if holder is None and event.id in places.listed:
        gtins = places.stamps
        return [
            stamp_identifier(gtins.get((issuer, s)), issuer, serial_for(s), base_url)
            for s in range(first, last + 1)
        ]
    query = (
        select(Stamp.sequence, Product.gtin)
        .outerjoin(Product, Product.id == Stamp.product_id)
        .where(Stamp.org_id == issuer, Stamp.sequence.between(first, last))
        .order_by(Stamp.sequence)
        .limit(EPC_LIST_LIMIT + 1)
    )
    if holder is not None:
        query = query.where(Stamp.holder_org_id == holder)
    rows: dict[int, str | None] = {int(s): g for s, g in session.execute(query)}
    if len(rows) > EPC_LIST_LIMIT:
        return None
    sequences = rows if holder is not None else range(first, last + 1)
    return [stamp_identifier(rows.get(s), issuer, serial_for(s), base_url) for s in sequences]


def _quantity_list(
    session: Session, event: StampEvent, holder: int | None, places: Places
) -> list[dict[str, Any]]:
    """The range's stamps counted by their product and lot: the whole range from the
    activation steps over it (no stamp is read, so a 50-million stamp run costs as little as
    a small one), a holder's share with one GROUP BY over the stamps it holds."""
    first, last, issuer = event.first_sequence, event.last_sequence, event.issuer_org_id
    if holder is None:
        by_batch = activated_counts(session, issuer, first, last)
    else:
        by_batch = {
            (product_id, batch_id): int(count)
            for product_id, batch_id, count in session.execute(
                select(Stamp.product_id, Stamp.batch_id, func.count())
                .where(
                    Stamp.holder_org_id == holder,
                    Stamp.org_id == issuer,
                    Stamp.sequence.between(first, last),
                )
                .group_by(Stamp.product_id, Stamp.batch_id)
            )
        }
    counts: dict[str, int] = {}
    for (product_id, batch_id), count in by_batch.items():
        name = _class_name(session, issuer, product_id, batch_id, places)
        counts[name] = counts.get(name, 0) + count
    not_activated = (last - first + 1) - sum(counts.values())
    if holder is None and not_activated > 0:
        unbound = unbound_class_identifier(issuer, places.base_url)
        counts[unbound] = counts.get(unbound, 0) + not_activated
    return [{"epcClass": name, "quantity": n} for name, n in sorted(counts.items())]


def _class_name(
    session: Session, issuer: int, product_id: int | None, batch_id: int | None, places: Places
) -> str:
    """The class identifier of stamps bound to a product (and lot), or of unbound ones; each
    read once a page (the steps of one run count the same classes)."""
    key = (issuer, product_id, batch_id)
    if key not in places.classes:
        places.classes[key] = _read_class_name(session, *key, places.base_url)
    return places.classes[key]


def _read_class_name(
    session: Session, issuer: int, product_id: int | None, batch_id: int | None, base_url: str
) -> str:
    if product_id is None:
        return unbound_class_identifier(issuer, base_url)
    gtin = session.scalar(select(Product.gtin).where(Product.id == product_id))
    lot = session.scalar(select(Batch.lot).where(Batch.id == batch_id)) if batch_id else None
    if lot is None:
        return product_class_identifier(gtin, product_id, base_url)
    return lot_class_identifier(gtin, product_id, lot, base_url)


def _objects(
    session: Session, event: StampEvent, holder: int | None, places: Places
) -> dict[str, Any]:
    epcs = _epc_list(session, event, holder, places)
    if epcs is not None:
        return {"epcList": epcs}
    return {"quantityList": _quantity_list(session, event, holder, places)}


# --- The events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepRow:
    """A stamp_events row with what its event needs from the shipment and the batch."""

    event: StampEvent
    from_org_id: int | None
    to_org_id: int | None
    reference: str | None
    facility_gln: str | None

    def seen_whole_by(self, viewer: Viewer) -> bool:
        """Whether the viewer sees the whole range (it did the step, issued the serials, or
        sent or received the shipment), or only the stamps it holds now."""
        e = self.event
        parties = (e.org_id, e.issuer_org_id, self.from_org_id, self.to_org_id)
        return viewer.everything or viewer.org_id in parties


def _head(source: int, row_id: int, moment: datetime, base_url: str) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventID": event_id(source, row_id, base_url),
        "eventTime": timestamp(moment),
        "recordTime": timestamp(moment),
        "eventTimeZoneOffset": TIME_ZONE_OFFSET,
    }


def _why(step: Step) -> dict[str, Any]:
    return {"action": step.action, "bizStep": step.biz_step, "disposition": step.disposition}


def _shipment(row: StepRow, places: Places, whole: bool) -> dict[str, Any]:
    e = row.event
    if e.shipment_id is None or row.from_org_id is None or row.to_org_id is None:
        return {}
    sender, receiver = row.from_org_id, row.to_org_id
    fields: dict[str, Any] = {
        "bizTransactionList": [
            {
                "type": "desadv",
                "bizTransaction": shipment_identifier(e.shipment_id, places.base_url),
            }
        ],
        "sourceList": [
            {"type": "owning_party", "source": places.party(sender)},
            {"type": "location", "source": places.location(sender)},
        ],
        "destinationList": [
            {"type": "owning_party", "destination": places.party(receiver)},
            {"type": "location", "destination": places.location(receiver)},
        ],
    }
    if whole and row.reference:  # the partners' own words, not for later holders
        fields[f"{PREFIX}:shipmentReference"] = row.reference
    return fields


def step_event(session: Session, row: StepRow, viewer: Viewer, places: Places) -> dict[str, Any]:
    """The EPCIS event of one life-cycle step, as `viewer` may see it."""
    e, base = row.event, places.base_url
    step, whole = STEPS[e.action], row.seen_whole_by(viewer)
    place = (
        facility_identifier(row.facility_gln, places.gln.get(e.org_id), e.org_id, base)
        if e.action == "activating"
        else places.location(e.org_id)
    )
    holder = None if whole else viewer.org_id
    event = {
        **_head(STAMP_STEP, e.id, e.at, base),
        **_objects(session, e, holder, places),
        **_why(step),
        "readPoint": {"id": place},
    }
    if step.located:
        event["bizLocation"] = {"id": place}
    event.update(_shipment(row, places, whole))
    event[f"{PREFIX}:step"] = step.name
    if whole:
        event[f"{PREFIX}:serialRange"] = {
            "issuer": places.party(e.issuer_org_id),
            "first": serial_for(e.first_sequence),
            "last": serial_for(e.last_sequence),
            "quantity": e.last_sequence - e.first_sequence + 1,
        }
    return event


@dataclass(frozen=True, slots=True)
class SaleRow:
    """A first genuine scan: its row id and time, and the stamp's serial and product."""

    id: int
    scanned_at: datetime
    issuer_org_id: int
    sequence: int
    gtin: str | None


def sale_event(row: SaleRow, base_url: str) -> dict[str, Any]:
    """A shopper's first genuine scan, read as the item's sale. Where it happened is not said:
    a shopper's place is personal data, kept only with consent and never in events."""
    step = FIRST_SALE_STEP
    identifier = stamp_identifier(row.gtin, row.issuer_org_id, serial_for(row.sequence), base_url)
    return {
        **_head(FIRST_SALE, row.id, row.scanned_at, base_url),
        "epcList": [identifier],
        **_why(step),
        f"{PREFIX}:step": step.name,
    }
