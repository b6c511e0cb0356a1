"""The SQL conditions behind `platform_events`: an EventQuery and a Viewer, turned into WHERE
clauses on `stamp_events` (one row per step over a serial range) and on the first genuine scans
in `scan_events`. Everything is decided on ranges and indexes, never by reading a range's stamps:

- a stamp named by MATCH_epc is found once by its identifier, then an event covers it when
  `issuer_org_id` matches and `first_sequence <= sequence <= last_sequence`;
- a class (MATCH_epcClass, or the record export's products) is the set of stamps activated with
  that product (and lot): activation events record exactly the ranges they changed, and a
  stamp's product never changes after activation, so an event is about the class when its range
  overlaps one of those activation ranges;
- an organization sees a step it did, one over its own serials, one of a shipment from or to it,
  and one over stamps it holds now: an EXISTS on the partial index of held stamps
  (holder, issuer, sequence), one index probe per event; and the first sales of stamps it
  issued (the partial first-sale index) or holds (from its held stamps), asked apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true
from sqlalchemy.orm import Session, aliased

from chinhhang.accounts.models import Organization
from chinhhang.catalog.models import Batch
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Shipment, Stamp, StampEvent
from chinhhang.trace.epcis.filters import FIRST_SALE, STAMP_STEP, EventQuery, PageKey, Viewer
from chinhhang.trace.epcis.stamp_ids import (
    FoundStamp,
    PlaceName,
    class_for_identifier,
    find_stamp,
    parse_place_identifier,
)

# The organization that did the step: its GLN names the place of most steps.
ActingOrg = aliased(Organization, name="acting_org")
_Activation = aliased(StampEvent, name="activation")
# Steps whose place is also where the stamps are afterwards (bizLocation).
LOCATED_ACTIONS = ("commissioning", "activating", "receiving")
Condition = ColumnElement[bool]


@dataclass
class Conditions:
    """WHERE clauses for each source; None when the source can have no match at all."""

    steps: list[Condition] | None = field(default_factory=list)
    sales: list[Condition] | None = field(default_factory=list)

    def add(self, step: Condition | None, sale: Condition | None) -> None:
        """A condition for both sources; None rules that source out."""
        self.steps = None if self.steps is None or step is None else [*self.steps, step]
        self.sales = None if self.sales is None or sale is None else [*self.sales, sale]


def after_key(time: Any, row_id: Any, source: int, after: PageKey | None) -> Condition:
    """Rows whose PageKey (time, source, id) comes after `after`."""
    if after is None:
        return true()
    if source > after.source:
        return time >= after.event_time  # type: ignore[no-any-return]
    if source < after.source:
        return time > after.event_time  # type: ignore[no-any-return]
    return or_(time > after.event_time, and_(time == after.event_time, row_id > after.id))


def visible_steps(viewer: Viewer) -> Condition:
    if viewer.everything:
        return true()
    if viewer.org_id is None:
        return false()
    org = viewer.org_id
    held = exists().where(
        Stamp.holder_org_id == org,
        Stamp.org_id == StampEvent.issuer_org_id,
        Stamp.sequence.between(StampEvent.first_sequence, StampEvent.last_sequence),
    )
    return or_(
        StampEvent.org_id == org,
        StampEvent.issuer_org_id == org,
        Shipment.from_org_id == org,
        Shipment.to_org_id == org,
        held,
    )


def sale_scopes(viewer: Viewer) -> list[Condition]:
    """The first sales a viewer may see, as alternatives the caller queries one by one (each
    is then an index walk): those of stamps the organization issued, through the first-sale
    index (org_id, scanned_at); and those of stamps it holds, found from its held stamps."""
    if viewer.everything:
        return [true()]
    if viewer.org_id is None:
        return []
    org = viewer.org_id
    held = select(Stamp.code).where(Stamp.holder_org_id == org, Stamp.org_id != org)
    return [ScanEvent.org_id == org, ScanEvent.stamp_code.in_(held)]


def _covers(stamps: Sequence[FoundStamp]) -> tuple[Condition, Condition]:
    step = or_(
        false(),
        *(
            and_(
                StampEvent.issuer_org_id == found.issuer_org_id,
                StampEvent.first_sequence <= found.sequence,
                StampEvent.last_sequence >= found.sequence,
            )
            for found in stamps
        ),
    )
    return step, ScanEvent.stamp_code.in_([found.code for found in stamps])


def of_classes(classes: Sequence[tuple[int, int | None]]) -> tuple[Condition, Condition]:
    """(on stamp_events, on scan_events): the events about stamps of any of these (product id,
    batch id or None) classes."""

    def activated_with(product_id: int, batch_id: int | None) -> Condition:
        return exists().where(
            _Activation.action == "activating",
            _Activation.product_id == product_id,
            _Activation.batch_id == batch_id if batch_id is not None else true(),
            _Activation.issuer_org_id == StampEvent.issuer_org_id,
            _Activation.first_sequence <= StampEvent.last_sequence,
            _Activation.last_sequence >= StampEvent.first_sequence,
        )

    def sold(product_id: int, batch_id: int | None) -> Condition:
        same_batch = ScanEvent.batch_id == batch_id if batch_id is not None else true()
        return and_(ScanEvent.product_id == product_id, same_batch)

    step = or_(false(), *(activated_with(p, b) for p, b in classes))
    return step, or_(false(), *(sold(p, b) for p, b in classes))


def _at_place(places: Sequence[PlaceName], only: tuple[str, ...] | None) -> Condition:
    """Steps whose readPoint (bizLocation with `only`) is one of `places`. The place of an
    activation is its batch's facility when that has a GLN, else the acting organization's."""
    at_facility = and_(StampEvent.action == "activating", Batch.facility_gln.is_not(None))
    matches = []
    for place in places:
        if place.gln is not None:
            matches.append(
                or_(
                    and_(at_facility, Batch.facility_gln == place.gln),
                    and_(not_(at_facility), ActingOrg.gln == place.gln),
                )
            )
        else:
            matches.append(
                and_(
                    not_(at_facility),
                    StampEvent.org_id == place.org_id,
                    ActingOrg.gln.is_(None),
                )
            )
    located = StampEvent.action.in_(only) if only else true()
    return and_(located, or_(false(), *matches))


def _places(values: Sequence[str]) -> list[PlaceName]:
    return [place for value in values if (place := parse_place_identifier(value)) is not None]


def _stamps(session: Session, values: Sequence[str]) -> list[FoundStamp]:
    return [found for value in values if (found := find_stamp(session, value)) is not None]


def _classes(session: Session, values: Sequence[str]) -> list[tuple[int, int | None]]:
    return [found for value in values if (found := class_for_identifier(session, value))]


def _times(conditions: Conditions, query: EventQuery) -> None:
    bounds: list[tuple[datetime | None, Callable[[Any, datetime], Condition]]] = [
        (query.ge_event_time, lambda column, t: column >= t),
        (query.lt_event_time, lambda column, t: column < t),
        (query.ge_record_time, lambda column, t: column >= t),
        (query.lt_record_time, lambda column, t: column < t),
    ]
    for bound, compare in bounds:
        if bound is not None:  # recordTime is eventTime: a step is recorded as it is done
            conditions.add(compare(StampEvent.at, bound), compare(ScanEvent.scanned_at, bound))


def identifier_conditions(session: Session, conditions: Conditions, query: EventQuery) -> None:
    """MATCH_epc, MATCH_anyEPC (a stamp, or an SGTIN pattern as a class), MATCH_epcClass and
    the record's products; places (EQ_readPoint, EQ_bizLocation): first sales have none."""
    for values in (query.match_epc, query.match_any_epc):
        if values:
            step, sale = _covers(_stamps(session, values))
            class_step, class_sale = of_classes(
                _classes(session, [v for v in values if v.startswith("urn:epc:idpat:")])
            )
            conditions.add(or_(step, class_step), or_(sale, class_sale))
    classes = _classes(session, query.match_epc_class) if query.match_epc_class else None
    products = [(product_id, None) for product_id in query.product_ids]
    for chosen in (classes, products if query.product_ids else None):
        if chosen is not None:
            conditions.add(*of_classes(chosen))
    if query.read_points:
        conditions.add(_at_place(_places(query.read_points), None), None)
    if query.biz_locations:
        conditions.add(_at_place(_places(query.biz_locations), LOCATED_ACTIONS), None)


def query_conditions(
    session: Session,
    viewer: Viewer,
    query: EventQuery,
    after: PageKey | None,
    event_rows: Callable[[int], list[int] | None],
) -> Conditions:
    """The WHERE clauses for both sources. `event_rows(source)` gives the row ids EQ_eventID
    names for that source (None: no EQ_eventID asked)."""
    conditions = Conditions(
        steps=[visible_steps(viewer), after_key(StampEvent.at, StampEvent.id, STAMP_STEP, after)],
        sales=[after_key(ScanEvent.scanned_at, ScanEvent.id, FIRST_SALE, after)],
    )
    _times(conditions, query)
    step_ids, sale_ids = event_rows(STAMP_STEP), event_rows(FIRST_SALE)
    if step_ids is not None or sale_ids is not None:
        conditions.add(StampEvent.id.in_(step_ids or []), ScanEvent.id.in_(sale_ids or []))
    identifier_conditions(session, conditions, query)
    return conditions
