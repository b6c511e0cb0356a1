"""The platform's own steps as EPCIS 2.0 events, queryable like captured ones (SPEC section 6).

They are not stored as events: `stamp_events` (one row per life-cycle step over a serial range)
and the first genuine scans in `scan_events` are read at query time and written as ObjectEvents,
so the stamp and scan paths never write to the EPCIS tables. The EPCIS query merges these with
the captured events by PageKey (filters.py).

| platform step | source | action | bizStep | disposition | readPoint / bizLocation |
| --- | --- | --- | --- | --- | --- |
| issuing a run | stamp_events `commissioning` | ADD | commissioning | encoded | issuer / issuer |
| activation | stamp_events `activating` | OBSERVE | commissioning | active | facility / facility |
| shipping | stamp_events `shipping` | OBSERVE | shipping | in_transit | sender / — |
| receiving | stamp_events `receiving` | OBSERVE | receiving | in_progress | receiver / receiver |
| voiding | stamp_events `voiding` | DELETE | decommissioning | inactive | organization / — |
| first genuine scan | scan_events, scan 1 | OBSERVE | retail_selling | retail_sold | — / — |

Every event carries `chinhhang:step` (the platform's word: issuing, activating, shipping,
receiving, voiding, first_sale), which is what tells issuing from activation. See
platform_render.py for the identifiers and docs/traceability.md for the reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import literal_column, select
from sqlalchemy.orm import Session

from chinhhang.accounts.models import Organization
from chinhhang.catalog.models import Batch, Product
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Shipment, Stamp, StampEvent
from chinhhang.trace.epcis.filters import FIRST_SALE, STAMP_STEP, EventQuery, PageKey, Viewer
from chinhhang.trace.epcis.platform_query import (
    ActingOrg,
    Condition,
    query_conditions,
    sale_scopes,
)
from chinhhang.trace.epcis.platform_render import (
    CONTEXT,
    EPC_LIST_LIMIT,
    FIRST_SALE_STEP,
    PREFIX,
    STEPS,
    TIME_ZONE_OFFSET,
    VOCABULARY,
    Places,
    SaleRow,
    Step,
    StepRow,
    event_id,
    listed_stamps,
    parse_event_id,
    sale_event,
    step_event,
)

__all__ = [
    "CONTEXT",
    "DEFAULT_BASE_URL",
    "EPC_LIST_LIMIT",
    "PREFIX",
    "STEPS",
    "TIME_ZONE_OFFSET",
    "VOCABULARY",
    "event_id",
    "parse_event_id",
    "platform_events",
]

# Settings' default; callers pass the installation's CHINHHANG_BASE_URL.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def platform_events(
    session: Session,
    viewer: Viewer,
    query: EventQuery,
    after: PageKey | None,
    limit: int,
    *,
    base_url: str = DEFAULT_BASE_URL,
) -> list[tuple[PageKey, dict[str, Any]]]:
    """The platform's events the viewer may see that answer `query`, after `after`, in PageKey
    order, at most `limit`. Events come without @context: the answer declares `CONTEXT`.

    `base_url` names what has no GS1 key and tags the event ids: pass settings.base_url."""
    actions, sales_wanted = _selected_steps(query)
    if limit < 1 or not (actions or sales_wanted):
        return []
    conditions = query_conditions(session, viewer, query, after, _named_rows(query, base_url))
    keyed: list[tuple[PageKey, Any]] = []
    if actions and conditions.steps is not None:
        keyed += [
            (PageKey(row.event.at, STAMP_STEP, row.event.id), row)
            for row in _step_rows(session, actions, conditions.steps, limit)
        ]
    if sales_wanted and conditions.sales is not None:
        sales = {
            row.id: row
            for scope in sale_scopes(viewer)
            for row in _sale_rows(session, [scope, *conditions.sales], limit)
        }
        keyed += [(PageKey(row.scanned_at, FIRST_SALE, row.id), row) for row in sales.values()]
    keyed = sorted(keyed, key=lambda pair: pair[0])[:limit]
    places = _places(session, viewer, [row for _, row in keyed], base_url)
    return [
        (
            key,
            step_event(session, row, viewer, places)
            if isinstance(row, StepRow)
            else sale_event(row, base_url),
        )
        for key, row in keyed
    ]


def _selected_steps(query: EventQuery) -> tuple[tuple[str, ...], bool]:
    """The stamp_events actions the query's type, action, bizStep and disposition allow, and
    whether first sales can match. Platform events are ObjectEvents: a query for another
    type, or for parent, input or output EPCs, matches none of them."""
    if (query.event_types and "ObjectEvent" not in query.event_types) or (
        query.match_parent_id or query.match_input_epc or query.match_output_epc
    ):
        return (), False

    def wanted(step: Step) -> bool:
        return (
            (not query.actions or step.action in query.actions)
            and (not query.biz_steps or step.biz_step in query.biz_steps)
            and (not query.dispositions or step.disposition in query.dispositions)
        )

    return tuple(a for a, step in STEPS.items() if wanted(step)), wanted(FIRST_SALE_STEP)


def _named_rows(query: EventQuery, base_url: str) -> Callable[[int], list[int] | None]:
    """For EQ_eventID: the row ids of each source among the given ids (ours are readable)."""
    named = [found for value in query.event_ids if (found := parse_event_id(value, base_url))]

    def rows(source: int) -> list[int] | None:
        if not query.event_ids:
            return None
        return [row_id for kind, row_id in named if kind == source]

    return rows


def _step_rows(
    session: Session, actions: Sequence[str], conditions: list[Condition], limit: int
) -> list[StepRow]:
    query = (
        select(
            StampEvent,
            Shipment.from_org_id,
            Shipment.to_org_id,
            Shipment.reference,
            Batch.facility_gln,
        )
        .outerjoin(Shipment, Shipment.id == StampEvent.shipment_id)
        .outerjoin(Batch, Batch.id == StampEvent.batch_id)
        .outerjoin(ActingOrg, ActingOrg.id == StampEvent.org_id)
        .where(StampEvent.action.in_(actions), *conditions)
        .order_by(StampEvent.at, StampEvent.id)
        .limit(limit)
    )
    return [StepRow(*row) for row in session.execute(query)]


def _sale_rows(session: Session, conditions: list[Condition], limit: int) -> list[SaleRow]:
    # Literal values, not parameters: PostgreSQL then proves the partial first-sale index's
    # predicate (scan_number = 1 AND outcome = 'genuine') and walks it.
    query = (
        select(ScanEvent.id, ScanEvent.scanned_at, Stamp.org_id, Stamp.sequence, Product.gtin)
        .join(Stamp, Stamp.code == ScanEvent.stamp_code)
        .outerjoin(Product, Product.id == Stamp.product_id)
        .where(
            ScanEvent.scan_number == literal_column("1"),
            ScanEvent.outcome == literal_column("'genuine'"),
            *conditions,
        )
        .order_by(ScanEvent.scanned_at, ScanEvent.id)
        .limit(limit)
    )
    return [
        SaleRow(int(i), at, int(org), int(seq), gtin)
        for i, at, org, seq, gtin in session.execute(query)
    ]


def _places(session: Session, viewer: Viewer, page: Sequence[Any], base_url: str) -> Places:
    """What the page's steps name, read for the whole page: the GLNs of every organization
    (one query) and the stamps of the ranges the viewer sees whole (`listed_stamps`)."""
    rows = [row for row in page if isinstance(row, StepRow)]
    ids = {
        org_id
        for row in rows
        for org_id in (row.event.org_id, row.event.issuer_org_id, row.from_org_id, row.to_org_id)
        if org_id is not None
    }
    found = session.execute(
        select(Organization.id, Organization.gln).where(Organization.id.in_(ids))
    )
    gln = {org_id: gln or None for org_id, gln in found} if ids else {}
    stamps, listed = listed_stamps(
        session, [row.event for row in rows if row.seen_whole_by(viewer)]
    )
    return Places(gln, base_url, stamps, listed)
