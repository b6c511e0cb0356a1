"""A product's traceability record, for exchange with other traceability systems (SPEC section
6): one EPCIS 2.0 document (JSON-LD) with

- `epcisHeader.epcisMasterData`: the product, its lots, and the places and organizations its
  events name (record_master.py);
- `epcisBody.eventList`: the platform's events about the product's stamps (issuing,
  activation, shipping, receiving, voiding, first sales; trace/epcis/platform.py) merged in
  time order with the events the product's organization captured that name its stamps or its
  classes (product or lot, in any spelling the platform can derive);
- `chinhhang:dataItems`: which of the ten data items of Circular 02/2024 the product has.

It is the record as the product's organization sees it (a regulator gets the same document).
A sold-out product can have millions of first sales, so the document is written as a stream,
a page of events at a time, in a read session of its own: memory stays flat.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.catalog.data_items import completeness, product_data_items
from chinhhang.catalog.models import Batch, Product
from chinhhang.catalog.services import product_for
from chinhhang.db import utcnow
from chinhhang.errors import NotFound
from chinhhang.i18n import N_
from chinhhang.stamps.models import Stamp
from chinhhang.trace.epcis.filters import CAPTURED, EventQuery, PageKey, Viewer
from chinhhang.trace.epcis.platform import CONTEXT, PREFIX, platform_events
from chinhhang.trace.epcis.platform_render import timestamp
from chinhhang.trace.epcis.stamp_ids import (
    company_prefix_length,
    equivalent_identifiers,
    lot_class_identifier,
    product_class_identifier,
)
from chinhhang.trace.models import EpcisEvent, EpcisEventEpc
from chinhhang.trace.record_master import master_data

PAGE = 500
MEDIA_TYPE = "application/ld+json"


@dataclass(frozen=True, slots=True)
class RecordPlan:
    """What a record's stream needs, decided (and authorized) before its first byte."""

    product_id: int
    org_id: int
    filename: str
    # The document without its events.
    head: dict[str, Any]
    # Every spelling of the product's and its lots' class identifiers, for captured events.
    class_names: tuple[str, ...]
    base_url: str


def plan_record(session: Session, actor: Actor, product_id: int, *, base_url: str) -> RecordPlan:
    """NotFound for another organization's product (a regulator may read any)."""
    product = product_for(session, actor, product_id)
    maker = session.get(Organization, product.org_id)
    if maker is None:  # cannot happen: a foreign key
        raise NotFound(N_("No such product."))
    batches = session.scalars(
        select(Batch).where(Batch.product_id == product.id).order_by(Batch.id)
    ).all()
    head = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": timestamp(utcnow()),
        "epcisHeader": {"epcisMasterData": master_data(session, product, maker, batches, base_url)},
        f"{PREFIX}:dataItems": _data_items(product, maker, batches),
    }
    name = product.gtin or f"product-{product.id}"
    return RecordPlan(
        product_id=product.id,
        org_id=product.org_id,
        filename=f"traceability-{name}.json",
        head=head,
        class_names=_class_names(product, maker, batches, base_url),
        base_url=base_url,
    )


def _data_items(product: Product, maker: Organization, batches: Iterable[Batch]) -> dict[str, Any]:
    items = product_data_items(product, maker, list(batches))
    present, total = completeness(items)
    return {
        "circular": "02/2024/TT-BKHCN",
        "present": present,
        "total": total,
        "items": [{"key": i.key, "label": i.label, "present": i.present} for i in items],
    }


def _class_names(
    product: Product, maker: Organization, batches: Iterable[Batch], base_url: str
) -> tuple[str, ...]:
    length = company_prefix_length(product.gtin, maker.gs1_company_prefix) if product.gtin else None
    names = [product_class_identifier(product.gtin, product.id, base_url)]
    names += [lot_class_identifier(product.gtin, product.id, b.lot, base_url) for b in batches]
    return tuple(
        dict.fromkeys(
            spelling for name in names for spelling in equivalent_identifiers(name, length)
        )
    )


def record_document(session: Session, plan: RecordPlan) -> dict[str, Any]:
    """The whole document in memory (for small records and tests; downloads use the stream)."""
    return json.loads(b"".join(record_chunks(session, plan)))  # type: ignore[no-any-return]


def record_chunks(session: Session, plan: RecordPlan) -> Iterator[bytes]:
    """The document as JSON: the head with the first page of events, then a page per chunk."""
    head = json.dumps(plan.head, ensure_ascii=False)
    out, separator = [head[:-1] + ', "epcisBody": {"eventList": ['], ""
    for _, event in heapq.merge(_platform(session, plan), _captured(session, plan), key=_key):
        out.append(separator + json.dumps(event, ensure_ascii=False))
        separator = ", "
        if len(out) > PAGE:
            yield "".join(out).encode()
            out = []
    out.append("]}}")
    yield "".join(out).encode()


def record_stream(sessions: sessionmaker[Session], plan: RecordPlan) -> Iterator[bytes]:
    """`record_chunks` in a read session of its own, which closes when the stream ends or is
    dropped. The first chunk (master data and the first page of events) is made before this
    returns, so a failure to read them is an error answer, not a cut file."""

    def chunks() -> Iterator[bytes]:
        session = sessions()
        try:
            yield from record_chunks(session, plan)
        finally:
            session.rollback()
            session.close()

    stream = chunks()
    first = next(stream)

    def whole() -> Iterator[bytes]:
        yield first
        yield from stream

    return whole()


def _key(pair: tuple[PageKey, dict[str, Any]]) -> PageKey:
    return pair[0]


def _platform(session: Session, plan: RecordPlan) -> Iterator[tuple[PageKey, dict[str, Any]]]:
    viewer, query = Viewer(plan.org_id), EventQuery(product_ids=(plan.product_id,))
    after: PageKey | None = None
    while True:
        page = platform_events(session, viewer, query, after, PAGE, base_url=plan.base_url)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1][0]


def _captured(session: Session, plan: RecordPlan) -> Iterator[tuple[PageKey, dict[str, Any]]]:
    """The organization's captured events that name the product's stamps (the capture noted
    which stamp an identifier denotes) or one of its class identifiers."""
    names_stamp = exists(
        select(EpcisEventEpc.id)
        .join(Stamp, Stamp.code == EpcisEventEpc.stamp_code)
        .where(EpcisEventEpc.event_pk == EpcisEvent.id, Stamp.product_id == plan.product_id)
    )
    names_class = exists().where(
        EpcisEventEpc.event_pk == EpcisEvent.id, EpcisEventEpc.epc.in_(plan.class_names)
    )
    after: tuple[Any, int] | None = None
    while True:
        query = select(EpcisEvent).where(
            EpcisEvent.org_id == plan.org_id, or_(names_stamp, names_class)
        )
        if after is not None:
            query = query.where(
                or_(
                    EpcisEvent.event_time > after[0],
                    and_(EpcisEvent.event_time == after[0], EpcisEvent.id > after[1]),
                )
            )
        rows = session.scalars(
            query.order_by(EpcisEvent.event_time, EpcisEvent.id).limit(PAGE)
        ).all()
        for row in rows:
            yield PageKey(row.event_time, CAPTURED, row.id), _captured_event(row)
        if len(rows) < PAGE:
            return
        after = (rows[-1].event_time, rows[-1].id)


def _captured_event(row: EpcisEvent) -> dict[str, Any]:
    """The event as captured, with the @context it was captured under (it declares the
    prefixes of the event's own extension fields)."""
    event: dict[str, Any] = json.loads(row.body)
    if row.context and "@context" not in event:
        event = {"@context": json.loads(row.context), **event}
    return event
