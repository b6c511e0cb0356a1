"""The life-cycle record: one row per step over a serial range (SPEC sections 4 and 6)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.stamps.models import StampEvent

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
