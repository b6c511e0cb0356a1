"""Custody: shipping stamps to a distributor or retailer, and receiving them (SPEC section 4).

A shipment holds stamps of one issuer as serial ranges. Shipping marks the stamps as
travelling (shipment_id); receiving moves custody (holder_org_id) to the receiver. Only stamps
that are active, held by the sender and not already travelling can be shipped; if any selected
stamp is not, nothing is shipped and the answer says how many are wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.roles import PERMISSIONS
from chinhhang.accounts.services import can_oversee, list_organizations, record, require
from chinhhang.db import utcnow
from chinhhang.errors import Conflict, InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.stamps.models import (
    ACTIVE,
    IN_TRANSIT,
    RECEIVED,
    Shipment,
    ShipmentRange,
    Stamp,
    StampRun,
)
from chinhhang.stamps.services.events import record_event
from chinhhang.stamps.services.runs import check_ready, get_run, selection_filters
from chinhhang.stamps.services.selection import Selection

# Who can be shipped to: whoever may receive (the one permission table says who).
RECEIVER_KINDS = PERMISSIONS["receive_stamps"].kinds
MAX_REFERENCE = 100


def ship(
    session: Session,
    actor: Actor,
    *,
    to_org_id: int,
    selection: Selection,
    reference: str | None = None,
) -> Shipment:
    """Raises NotFound for an unknown receiver or no matching stamps, Conflict when some
    selected stamps cannot be shipped (the message says how many), InvalidInput otherwise."""
    org = require(session, actor, "ship_stamps")
    receiver = _receiver(session, org, to_org_id)
    reference = (reference or "").strip() or None
    if reference is not None and (len(reference) > MAX_REFERENCE or not reference.isprintable()):
        raise InvalidInput(N_("A shipment reference has at most 100 characters."))
    issuer_id = _issuer_of(org, selection)
    if issuer_id != org.id and selection.run_id is not None:
        raise InvalidInput(N_("Choose serial numbers: a run belongs to its manufacturer."))
    ranges = _ranges(session, issuer_id, selection)
    expected = sum(last - first + 1 for first, last in ranges)
    # Only what the sender holds is counted, so the answer says nothing about stamps it does
    # not hold (another organization cannot probe a manufacturer's serials or runs).
    shippable = _count_shippable(session, issuer_id, selection, org.id)
    if shippable == 0 and (issuer_id != org.id or not _exists(session, issuer_id, selection)):
        raise NotFound(N_("No stamps match this selection."))
    if shippable != expected:
        raise _not_all_shippable(expected - shippable, expected)
    shipment = Shipment(
        from_org_id=org.id,
        to_org_id=receiver.id,
        issuer_org_id=issuer_id,
        quantity=expected,
        status=IN_TRANSIT,
        reference=reference,
    )
    session.add(shipment)
    session.flush()  # the ranges and the stamps point at it
    session.add_all(
        ShipmentRange(shipment_id=shipment.id, first_sequence=a, last_sequence=b) for a, b in ranges
    )
    # The UPDATE repeats the conditions: a shipment made by someone else between the count and
    # here takes its stamps first, this one then moves fewer rows and is refused as a whole.
    moved = 0
    for where in selection_filters(issuer_id, selection, _run(session, issuer_id, selection)):
        result = session.execute(
            update(Stamp).where(*where, _held_by(org.id)).values(shipment_id=shipment.id),
            execution_options={"synchronize_session": False},
        )
        moved += result.rowcount  # type: ignore[attr-defined]
    if moved != expected:
        raise _not_all_shippable(expected - moved, expected)
    total = expected
    record_event(session, "shipping", org.id, issuer_id, ranges, total, shipment_id=shipment.id)
    record(
        session,
        actor,
        "shipment.ship",
        f"shipment:{shipment.id}",
        to=receiver.name,
        quantity=total,
        stamps=selection.describe(),
    )
    return shipment


def receive(session: Session, actor: Actor, shipment_id: int) -> Shipment:
    org = require(session, actor, "receive_stamps")
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or shipment.to_org_id != org.id:
        raise NotFound(N_("No such shipment."))
    # Conditional, so two receipts at once cannot both pass: the second finds no row to change.
    flipped = session.execute(
        update(Shipment)
        .where(Shipment.id == shipment.id, Shipment.status == IN_TRANSIT)
        .values(status=RECEIVED, received_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    if flipped.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("This shipment was already received."))
    session.execute(
        update(Stamp)
        .where(Stamp.shipment_id == shipment.id)
        .values(holder_org_id=org.id, shipment_id=None),
        execution_options={"synchronize_session": False},
    )
    session.refresh(shipment)
    ranges = [(r.first_sequence, r.last_sequence) for r in shipment_ranges(session, shipment.id)]
    record_event(
        session,
        "receiving",
        org.id,
        shipment.issuer_org_id,
        ranges,
        shipment.quantity,
        shipment_id=shipment.id,
    )
    record(
        session, actor, "shipment.receive", f"shipment:{shipment.id}", quantity=shipment.quantity
    )
    return shipment


def receivers(session: Session, actor: Actor) -> list[Organization]:
    """The approved organizations the actor can ship to (not itself)."""
    return [
        org
        for org in list_organizations(session, actor)
        if org.kind in RECEIVER_KINDS and org.approved and org.id != actor.org_id
    ]


def _receiver(session: Session, org: Organization, to_org_id: int) -> Organization:
    receiver = session.get(Organization, to_org_id)
    if receiver is None or not receiver.approved or receiver.kind not in RECEIVER_KINDS:
        raise NotFound(N_("No such distributor or retailer."))
    if receiver.id == org.id:
        raise InvalidInput(N_("An organization cannot ship to itself."))
    return receiver


def _issuer_of(org: Organization, selection: Selection) -> int:
    """A manufacturer ships its own serials; others name the issuer whose serials they mean."""
    if org.kind == "manufacturer" or selection.issuer_org_id is None:
        return org.id
    return selection.issuer_org_id


def _run(session: Session, issuer_id: int, selection: Selection) -> StampRun | None:
    return get_run(session, selection.run_id, issuer_id) if selection.run_id is not None else None


def _ranges(session: Session, issuer_id: int, selection: Selection) -> list[tuple[int, int]]:
    if selection.run_id is not None:
        run = get_run(session, selection.run_id, issuer_id)
        return [(run.first_sequence, run.last_sequence)]
    return selection.ranges()


def _held_by(holder_id: int) -> Any:
    """Shippable by `holder_id`: active, in its custody, not already travelling."""
    return and_(
        Stamp.status == ACTIVE,
        Stamp.shipment_id.is_(None),
        func.coalesce(Stamp.holder_org_id, Stamp.org_id) == holder_id,
    )


def _count_shippable(session: Session, issuer_id: int, selection: Selection, holder_id: int) -> int:
    run = _run(session, issuer_id, selection)
    if run is not None:
        check_ready(run)
    return sum(
        int(
            session.scalar(
                select(func.count()).select_from(Stamp).where(*where, _held_by(holder_id))
            )
            or 0
        )
        for where in selection_filters(issuer_id, selection, run)
    )


def _exists(session: Session, issuer_id: int, selection: Selection) -> bool:
    """Whether any selected stamp exists: asked only for the issuer's own serials."""
    run = _run(session, issuer_id, selection)
    return any(
        session.scalar(select(Stamp.code).where(*where).limit(1)) is not None
        for where in selection_filters(issuer_id, selection, run)
    )


def _not_all_shippable(bad: int, expected: int) -> Conflict:
    return Conflict(
        N_(
            "%(bad)s of the %(expected)s selected stamps are not active and in your custody; "
            "nothing was shipped."
        ),
        bad=bad,
        expected=expected,
    )


def shipment_ranges(session: Session, shipment_id: int) -> Sequence[ShipmentRange]:
    return session.scalars(
        select(ShipmentRange)
        .where(ShipmentRange.shipment_id == shipment_id)
        .order_by(ShipmentRange.first_sequence)
    ).all()


def get_shipment(session: Session, actor: Actor, shipment_id: int) -> Shipment:
    """Sender, receiver and regulators see a shipment; to everyone else it does not exist."""
    org = require(session, actor, "view")
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or (
        org.id not in (shipment.from_org_id, shipment.to_org_id) and not can_oversee(session, actor)
    ):
        raise NotFound(N_("No such shipment."))
    return shipment


def shipment_with_ranges(
    session: Session, actor: Actor, shipment_id: int
) -> tuple[Shipment, Sequence[ShipmentRange]]:
    """`get_shipment` and the shipment's serial ranges, in serial order."""
    shipment = get_shipment(session, actor, shipment_id)
    return shipment, shipment_ranges(session, shipment.id)


def list_shipments(
    session: Session,
    actor: Actor,
    *,
    direction: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Sequence[Shipment]:
    """`direction` "incoming", "outgoing" or None for both; newest first."""
    org = require(session, actor, "view")
    sides = {
        "incoming": Shipment.to_org_id == org.id,
        "outgoing": Shipment.from_org_id == org.id,
        None: or_(Shipment.to_org_id == org.id, Shipment.from_org_id == org.id),
    }
    if direction not in sides:
        raise InvalidInput(N_("Direction is incoming or outgoing."))
    query = select(Shipment).where(sides[direction])
    if before is not None:
        query = query.where(Shipment.id < before)
    return session.scalars(query.order_by(Shipment.id.desc()).limit(limit)).all()


def organization_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(ids))
    )
    return {int(i): n for i, n in rows}
