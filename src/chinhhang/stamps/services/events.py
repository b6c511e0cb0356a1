"""The life-cycle record: one row per step over a serial range (SPEC sections 4 and 6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from chinhhang.stamps.models import Stamp, StampEvent
from chinhhang.stamps.services.selection import MAX_RANGE

ACTIONS = ("commissioning", "activating", "shipping", "receiving", "voiding")
# No event covers more serials than a selected range may hold (a run is no larger: a test keeps
# runs.MAX_RUN within it), so the events over a serial start at most this far before it: the
# index range to read is bounded.
WIDEST_EVENT = MAX_RANGE


def record_event(
    session: Session,
    action: str,
    org_id: int,
    issuer_org_id: int,
    ranges: Sequence[tuple[int, int]],
    quantity: int,
    **ids: int | None,
) -> None:
    """`quantity` is how many stamps changed; with several ranges it is spread on the first
    row only, so summing the rows gives the true figure."""
    for index, (first, last) in enumerate(ranges):
        session.add(
            StampEvent(
                action=action,
                org_id=org_id,
                issuer_org_id=issuer_org_id,
                first_sequence=first,
                last_sequence=last,
                quantity=quantity if index == 0 else 0,
                **ids,
            )
        )


def changed_ranges(session: Session, conditions: Sequence[Any]) -> list[tuple[int, int]]:
    """Contiguous serial ranges of the stamps matching `conditions` ("gaps and islands": in a
    run of consecutive sequences, sequence minus row number is constant)."""
    numbered = (
        select(
            Stamp.sequence.label("sequence"),
            (Stamp.sequence - func.row_number().over(order_by=Stamp.sequence)).label("island"),
        )
        .where(*conditions)
        .subquery()
    )
    rows = session.execute(
        select(func.min(numbered.c.sequence), func.max(numbered.c.sequence))
        .group_by(numbered.c.island)
        .order_by(func.min(numbered.c.sequence))
    )
    return [(int(first), int(last)) for first, last in rows]


def events_of_stamp(session: Session, issuer_org_id: int, sequence: int) -> Sequence[StampEvent]:
    """Every step that covered one stamp, oldest first (the shopper's journey)."""
    return session.scalars(
        select(StampEvent)
        .where(
            StampEvent.issuer_org_id == issuer_org_id,
            StampEvent.first_sequence <= sequence,
            StampEvent.last_sequence >= sequence,
        )
        .order_by(StampEvent.id)
    ).all()


def overlapping(issuer_org_id: int, first: int, last: int) -> ColumnElement[bool]:
    """The events over any serial of first..last, read through the (issuer_org_id,
    first_sequence) index: they start at most WIDEST_EVENT serials before `first`."""
    return and_(
        StampEvent.issuer_org_id == issuer_org_id,
        StampEvent.first_sequence.between(first - WIDEST_EVENT + 1, last),
        StampEvent.last_sequence >= first,
    )


def activated_counts(
    session: Session, issuer_org_id: int, first: int, last: int
) -> dict[tuple[int | None, int | None], int]:
    """How many stamps of first..last were activated for each (product, batch).

    Read from the activation steps, not the stamps: a stamp is activated once (only an issued
    stamp can be) and each step's ranges hold exactly the stamps it changed, so the overlaps
    add up to the true counts, whether the range holds ten stamps or fifty million.
    """
    rows = session.execute(
        select(
            StampEvent.product_id,
            StampEvent.batch_id,
            StampEvent.first_sequence,
            StampEvent.last_sequence,
        ).where(StampEvent.action == "activating", overlapping(issuer_org_id, first, last))
    )
    counts: dict[tuple[int | None, int | None], int] = {}
    for product_id, batch_id, start, end in rows:
        overlap = min(end, last) - max(start, first) + 1
        counts[(product_id, batch_id)] = counts.get((product_id, batch_id), 0) + overlap
    return counts
