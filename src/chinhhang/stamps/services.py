"""Stamp runs: issue, activate, void (SPEC section 4).

Issuing is split in two because a run of millions cannot live in one request's unit of work:
`create_run` reserves the serials and records the run (caller commits), then `fill_run` streams
the stamps in chunks, each its own short transaction so shoppers' scans are never blocked for
long, and marks the run ready. A run left `issuing` by a crash is visible as such.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from chinhhang.accounts.services import get_manufacturer, get_organization, reserve_serials
from chinhhang.catalog.models import Batch, Product
from chinhhang.catalog.services import get_or_create_batch, get_product, validate_lot
from chinhhang.db import utcnow
from chinhhang.errors import InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.stamps.codes import Keyring, new_codes
from chinhhang.stamps.models import ACTIVE, ISSUED, RUN_READY, VOID, Stamp, StampRun
from chinhhang.stamps.serials import (
    MAX_SEQUENCE,
    SERIAL_DIGITS,
    InvalidSerial,
    is_valid_damm,
    sequence_of,
)

MAX_RUN = 50_000_000
MAX_SCAN_LIMIT = 1_000_000
CHUNK = 50_000
_IN_LIST_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Selection:
    """Which stamps of an organization an action applies to: a run, a serial range or a list."""

    run_id: int | None = None
    first: int | None = None
    last: int | None = None
    sequences: tuple[int, ...] = ()

    @classmethod
    def parse(cls, *, run_id: int | None = None, serials: str | None = None) -> Selection:
        """`serials` is "FIRST-LAST" or "S1,S2,…" in printed form (spaces allowed)."""
        if (run_id is None) == (not serials):
            raise InvalidInput(N_("Choose either a run or serial numbers."))
        if run_id is not None:
            return cls(run_id=run_id)
        assert serials is not None  # noqa: S101 - narrowed by the check above
        if "," not in serials and (bounds := _range_bounds(serials)) is not None:
            first, last = bounds
            if first > last:
                raise InvalidInput(N_("The first serial of a range must not exceed the last."))
            return cls(first=first, last=last)
        items = [s for s in serials.split(",") if s.strip()]
        if not items:
            raise InvalidInput(N_("Choose either a run or serial numbers."))
        return cls(sequences=tuple(sorted({_sequence(s) for s in items})))


def _range_bounds(text: str) -> tuple[int, int] | None:
    """FIRST-LAST (or FIRST..LAST), where each serial may itself be written with hyphens.

    A hyphen separates the range only where both sides are valid serials; a text that is one
    valid serial is not a range.
    """
    compact = text.replace(" ", "")
    if ".." in compact:
        first_text, _, last_text = compact.partition("..")
        return _sequence(first_text), _sequence(last_text)
    if "-" not in compact or _is_one_serial(compact):
        return None
    splits = [
        bounds
        for position, char in enumerate(compact)
        if char == "-" and (bounds := _split_at(compact, position)) is not None
    ]
    if len(splits) == 1:
        return splits[0]
    first_text, _, last_text = compact.partition("-")
    return _sequence(first_text), _sequence(last_text)  # names the first serial that is wrong


def _is_one_serial(text: str) -> bool:
    digits = text.replace("-", "")
    return len(digits) == SERIAL_DIGITS and is_valid_damm(digits)


def _split_at(text: str, position: int) -> tuple[int, int] | None:
    try:
        return sequence_of(text[:position]), sequence_of(text[position + 1 :])
    except InvalidSerial:
        return None


def _sequence(serial: str) -> int:
    try:
        return sequence_of(serial)
    except InvalidSerial as error:
        raise InvalidInput(
            N_("Serial number %(serial)s is not valid: check its digits."), serial=serial.strip()
        ) from error


def create_run(
    session: Session,
    *,
    org_id: int,
    quantity: int,
    scan_limit: int = 1,
    grace_minutes: int = 30,
    key_id: int = 0,
) -> StampRun:
    """Raises InvalidInput for a quantity or limit out of range, NotFound for no such org."""
    org = get_manufacturer(session, org_id)
    if not 1 <= quantity <= MAX_RUN:
        raise InvalidInput(N_("A run has 1 to 50,000,000 stamps."))
    if not 1 <= scan_limit <= MAX_SCAN_LIMIT:
        raise InvalidInput(N_("The scan limit must be between 1 and 1,000,000."))
    if not 0 <= grace_minutes <= 24 * 60:
        raise InvalidInput(N_("The grace period must be between 0 and 1440 minutes."))
    first = reserve_serials(session, org.id, quantity)
    if first + quantity - 1 > MAX_SEQUENCE:
        raise InvalidInput(N_("This organization has used up its serial numbers."))
    run = StampRun(
        org_id=org.id,
        quantity=quantity,
        scan_limit=scan_limit,
        grace_minutes=grace_minutes,
        first_sequence=first,
        key_id=key_id,
    )
    session.add(run)
    session.flush()  # the stamps reference the run's id
    return run


def fill_run(
    engine: Engine,
    run: StampRun,
    keyring: Keyring,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the run's stamps in chunks with the database's fastest bulk path; flat memory."""
    rows = _stamp_rows(run, keyring)
    writer = _copy_chunk if engine.dialect.name == "postgresql" else _insert_chunk
    while chunk := list(islice(rows, CHUNK)):
        connection = engine.raw_connection()
        try:
            writer(connection, chunk)
            connection.commit()
        finally:
            connection.close()
        if progress:
            progress(len(chunk))
    with engine.begin() as conn:
        conn.execute(update(StampRun).where(StampRun.id == run.id).values(status=RUN_READY))


_COLUMNS = ("code", "org_id", "run_id", "sequence", "status", "scan_limit", "scan_count")


def _stamp_rows(run: StampRun, keyring: Keyring) -> Iterator[tuple[object, ...]]:
    codes = new_codes(keyring, run.quantity)
    for sequence, code in zip(range(run.first_sequence, run.last_sequence + 1), codes, strict=True):
        yield (code, run.org_id, run.id, sequence, ISSUED, run.scan_limit, 0)


def _insert_chunk(connection: object, chunk: Sequence[tuple[object, ...]]) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("BEGIN IMMEDIATE")
    cursor.executemany(
        f"INSERT INTO stamps ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",  # noqa: S608 - fixed column names
        chunk,
    )


def _copy_chunk(connection: object, chunk: Sequence[tuple[object, ...]]) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    with cursor.copy(f"COPY stamps ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
        for row in chunk:
            copy.write_row(row)


def get_run(session: Session, run_id: int, org_id: int | None = None) -> StampRun:
    run = session.get(StampRun, run_id)
    if run is None or (org_id is not None and run.org_id != org_id):
        raise NotFound(N_("No such stamp run."))
    return run


def activate(
    session: Session,
    *,
    org_id: int,
    selection: Selection,
    product_id: int,
    lot: str | None = None,
) -> int:
    """Bind issued stamps to a product (and batch); returns how many changed.

    Only `issued` stamps change: an active stamp keeps its product (void it to withdraw it).
    """
    product = check_binding(session, org_id=org_id, product_id=product_id, lot=lot)
    batch: Batch | None = None
    if lot:
        batch = get_or_create_batch(session, product_id=product.id, lot=lot)
    values = {
        "status": ACTIVE,
        "product_id": product.id,
        "batch_id": batch.id if batch else None,
        "activated_at": utcnow(),
    }
    return _update_selected(session, org_id, selection, [Stamp.status == ISSUED], values)


def check_binding(session: Session, *, org_id: int, product_id: int, lot: str | None) -> Product:
    """What activation will need, checked before anything is written (e.g. before a run is
    issued with --activate): the product is this organization's, the lot is well formed."""
    get_organization(session, org_id)
    product = get_product(session, product_id)
    if product.org_id != org_id:
        raise NotFound(N_("No such product in this organization."))
    if lot is not None:
        validate_lot(lot)
    return product


def void(session: Session, *, org_id: int, selection: Selection) -> int:
    """Void stamps in any state but void; returns how many changed."""
    get_organization(session, org_id)
    values = {"status": VOID, "voided_at": utcnow()}
    return _update_selected(session, org_id, selection, [Stamp.status != VOID], values)


def _update_selected(
    session: Session,
    org_id: int,
    selection: Selection,
    conditions: list[object],
    values: dict[str, object],
) -> int:
    run = get_run(session, selection.run_id, org_id) if selection.run_id is not None else None
    changed = 0
    for where in _selection_filters(org_id, selection, run):
        result = session.execute(
            update(Stamp).where(*where, *conditions).values(**values),  # type: ignore[arg-type]
            execution_options={"synchronize_session": False},
        )
        changed += result.rowcount  # type: ignore[attr-defined]
    return changed


def _selection_filters(
    org_id: int, selection: Selection, run: StampRun | None
) -> Iterable[list[object]]:
    owned = Stamp.org_id == org_id
    if run is not None:
        yield [*in_run(run)]
    elif selection.first is not None and selection.last is not None:
        yield [owned, Stamp.sequence.between(selection.first, selection.last)]
    else:
        for start in range(0, len(selection.sequences), _IN_LIST_CHUNK):
            part = selection.sequences[start : start + _IN_LIST_CHUNK]
            yield [owned, Stamp.sequence.in_(part)]


def in_run(run: StampRun) -> list[Any]:
    """The stamps of a run, by the (org_id, sequence) index: a run's serials are contiguous,
    so no index on run_id is needed (one index fewer to maintain on every insert)."""
    return [
        Stamp.org_id == run.org_id,
        Stamp.sequence.between(run.first_sequence, run.last_sequence),
    ]


def count_by_status(session: Session, run_id: int) -> dict[str, int]:
    run = get_run(session, run_id)
    rows = session.execute(
        select(Stamp.status, func.count()).where(*in_run(run)).group_by(Stamp.status)
    )
    return {status: int(n) for status, n in rows}


def codes_of_run(session: Session, run_id: int, limit: int | None = None) -> list[tuple[int, str]]:
    """(sequence, code) pairs in serial order; for the demo and tests (exports are issue 4)."""
    query = (
        select(Stamp.sequence, Stamp.code)
        .where(*in_run(get_run(session, run_id)))
        .order_by(Stamp.sequence)
    )
    if limit is not None:
        query = query.limit(limit)
    return [(int(seq), code) for seq, code in session.execute(query)]
