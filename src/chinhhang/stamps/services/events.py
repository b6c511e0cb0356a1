"""The life-cycle record: one row per step over a serial range (SPEC sections 4 and 6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from chinhhang.accounts.models import Organization
from chinhhang.stamps.models import Stamp, StampEvent

ACTIONS = ("commissioning", "activating", "shipping", "receiving", "voiding")


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
    widest = max((last - first + 1 for first, last in ranges), default=0)
    # Only ever grows, and only when this step is wider: most steps leave the row untouched.
    session.execute(
        update(Organization)
        .where(Organization.id == issuer_org_id, Organization.widest_step < widest)
        .values(widest_step=widest)
    )
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


def widest_step_of(issuer_org_id: Any) -> Any:
    """The issuer's widest step, as a scalar subquery (the database reads it once)."""
    return (
        select(Organization.widest_step).where(Organization.id == issuer_org_id).scalar_subquery()
    )


def overlapping(issuer_org_id: int, first: int, last: int) -> ColumnElement[bool]:
    """The events over any serial of first..last, read through the (issuer_org_id,
    first_sequence) index: they start at most the issuer's widest step before `first`."""
    return and_(
        StampEvent.issuer_org_id == issuer_org_id,
        StampEvent.first_sequence.between(first - widest_step_of(issuer_org_id) + 1, last),
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
