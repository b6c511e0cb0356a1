"""What an organization sees of stamps: those it issued, or those in its custody.

Codes are never listed: a code is what a forger needs to clone a stamp, and exporting codes is
a separate, restricted and audited action (SPEC section 9). Lists show serials instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, tuple_
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import require
from chinhhang.catalog.models import Batch, Product
from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.stamps.models import ACTIVE, ISSUED, VOID, Stamp
from chinhhang.stamps.serials import MAX_SEQUENCE, grouped, serial_for
from chinhhang.stamps.services.runs import in_run, run_for
from chinhhang.stamps.services.shipments import get_shipment, shipment_ranges

STATUSES = (ISSUED, ACTIVE, VOID)


@dataclass(frozen=True, slots=True)
class StampRow:
    issuer_org_id: int
    sequence: int
    serial: str
    status: str
    product: str | None
    lot: str | None
    scan_count: int
    scan_limit: int
    first_scanned_at: datetime | None
    holder_org_id: int
    in_transit: bool

    @property
    def cursor(self) -> str:
        return f"{self.issuer_org_id}.{self.sequence}"


def parse_cursor(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        org, _, seq = text.partition(".")
        position = int(org), int(seq)
    except ValueError:
        raise InvalidInput(N_("This page cursor is not valid.")) from None
    # Beyond the columns' ranges the databases fail instead of comparing (a 500, not a 400).
    if not (0 <= position[0] < 2**31 and 0 <= position[1] <= MAX_SEQUENCE):
        raise InvalidInput(N_("This page cursor is not valid."))
    return position


# What a stamp list shows; a module constant because Select is immutable (each .where copies).
_STAMP_ROWS = (
    select(
        Stamp.org_id,
        Stamp.sequence,
        Stamp.status,
        Product.name,
        Batch.lot,
        Stamp.scan_count,
        Stamp.scan_limit,
        Stamp.first_scanned_at,
        func.coalesce(Stamp.holder_org_id, Stamp.org_id),
        Stamp.shipment_id,
    )
    .outerjoin(Product, Product.id == Stamp.product_id)
    .outerjoin(Batch, Batch.id == Stamp.batch_id)
)


def list_stamps(
    session: Session,
    actor: Actor,
    *,
    run_id: int | None = None,
    shipment_id: int | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[StampRow]:
    """The stamps the actor's organization issued or holds, by (issuer, serial); keyset-paged."""
    org = require(session, actor, "view")
    query = _STAMP_ROWS
    if run_id is not None:
        query = query.where(*in_run(run_for(session, actor, run_id)))
    elif shipment_id is not None:
        shipment = get_shipment(session, actor, shipment_id)
        spans = [
            Stamp.sequence.between(r.first_sequence, r.last_sequence)
            for r in shipment_ranges(session, shipment.id)
        ]
        query = query.where(Stamp.org_id == shipment.issuer_org_id, or_(*spans))
    else:
        query = query.where(issued_or_held(org.id))
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(N_("Unknown stamp status."))
        query = query.where(Stamp.status == status)
    if (position := parse_cursor(after)) is not None:
        query = query.where(tuple_(Stamp.org_id, Stamp.sequence) > position)
    rows = session.execute(query.order_by(Stamp.org_id, Stamp.sequence).limit(limit))
    return [_row(*row) for row in rows]


def issued_or_held(org_id: int) -> ColumnElement[bool]:
    """The stamps an organization sees as its own: those it issued, and those in its custody."""
    return or_(Stamp.org_id == org_id, Stamp.holder_org_id == org_id)


def rows_by_code(
    session: Session, codes: Sequence[str], *visible: ColumnElement[bool]
) -> dict[str, StampRow]:
    """The listed form of the stamps with these codes, within `visible`, keyed by code: the
    staff scanner's look-up (stamps/services/scanned.py). The code stays with the caller."""
    query = _STAMP_ROWS.add_columns(Stamp.code).where(Stamp.code.in_(codes), *visible)
    return {str(row[-1]): _row(*row[:-1]) for row in session.execute(query)}


def _row(*values: object) -> StampRow:
    issuer, sequence, status, product, lot, count, limit, first, holder, shipment = values
    return StampRow(
        issuer_org_id=int(issuer),  # type: ignore[call-overload]
        sequence=int(sequence),  # type: ignore[call-overload]
        serial=grouped(serial_for(int(sequence))),  # type: ignore[call-overload]
        status=str(status),
        product=product,  # type: ignore[arg-type]
        lot=lot,  # type: ignore[arg-type]
        scan_count=int(count),  # type: ignore[call-overload]
        scan_limit=int(limit),  # type: ignore[call-overload]
        first_scanned_at=first,  # type: ignore[arg-type]
        holder_org_id=int(holder),  # type: ignore[call-overload]
        in_transit=shipment is not None,
    )


def stamp_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Issued / active / void / scanned for the dashboard: the stamps the org made, or holds."""
    org = require(session, actor, "view")
    mine = Stamp.org_id == org.id if org.kind == "manufacturer" else Stamp.holder_org_id == org.id
    row = session.execute(
        select(
            func.count(),
            func.count().filter(Stamp.status == ACTIVE),
            func.count().filter(Stamp.status == VOID),
            func.count().filter(Stamp.scan_count > 0),
        ).where(mine)
    ).one()
    return {"total": row[0], "active": row[1], "void": row[2], "scanned": row[3]}
