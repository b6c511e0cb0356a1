"""The life-cycle record: one row per step over a serial range (SPEC sections 4 and 6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
