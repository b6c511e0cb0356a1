"""Stamp runs: issue, activate, void (SPEC section 4).

Issuing is split in two because a run of millions cannot live in one request's unit of work:
`create_run` reserves the serials and records the run (caller commits), then `fill_run` streams
the stamps in chunks, each its own short transaction so shoppers' scans are never blocked for
long, and marks the run ready. Each chunk also advances the run's `filled` count in the same
transaction, so the portal shows progress and a fill interrupted by a crash resumes where it
stopped (`resume_run`) instead of leaving a half-issued run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from threading import Event
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import can_oversee, record, require, reserve_serials
from chinhhang.catalog.models import Batch, Product
from chinhhang.catalog.services import get_or_create_batch, get_product, validate_lot
from chinhhang.db import utcnow
from chinhhang.errors import Conflict, InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.stamps.codes import Keyring, new_codes
from chinhhang.stamps.models import ACTIVE, ISSUED, RUN_READY, VOID, Stamp, StampRun
from chinhhang.stamps.serials import MAX_SEQUENCE
from chinhhang.stamps.services.events import changed_ranges, record_event
from chinhhang.stamps.services.selection import Selection

MAX_RUN = 50_000_000
MAX_SCAN_LIMIT = 1_000_000
CHUNK = 50_000
_IN_LIST_CHUNK = 500


def create_run(
    session: Session,
    actor: Actor,
    *,
    quantity: int,
    scan_limit: int = 1,
    grace_minutes: int = 30,
    key_id: int = 0,
    product_id: int | None = None,
    lot: str | None = None,
) -> StampRun:
    """Raises InvalidInput for a quantity or limit out of range, Forbidden for an actor who
    may not issue (role, kind, or an organization still waiting for approval).

    `product_id` and `lot` name what the run will be activated with once filled: they are only
    checked here (NotFound, InvalidInput), so that the activation after the fill cannot fail.
    """
    org = require(session, actor, "issue_stamps")
    if lot is not None and product_id is None:
        raise InvalidInput(N_("A lot needs a product."))
    if product_id is not None:
        check_binding(session, org_id=org.id, product_id=product_id, lot=lot)
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
        filled=0,
        activate_product_id=product_id,
        activate_lot=lot,
    )
    session.add(run)
    session.flush()  # the stamps reference the run's id
    record_event(
        session,
        "commissioning",
        org.id,
        org.id,
        [(first, first + quantity - 1)],
        quantity,
        run_id=run.id,
    )
    record(session, actor, "run.issue", f"run:{run.id}", quantity=quantity, scan_limit=scan_limit)
    return run


def fill_run(
    engine: Engine,
    run: StampRun,
    keyring: Keyring,
    progress: Callable[[int], None] | None = None,
    stop: Event | None = None,
) -> None:
    """Write the run's stamps (from `filled` on) in chunks with the database's fastest bulk
    path; flat memory."""
    rows = _stamp_rows(run, keyring)
    writer = _copy_chunk if engine.dialect.name == "postgresql" else _insert_chunk
    while chunk := list(islice(rows, CHUNK)):
        if stop is not None and stop.is_set():
            return  # a shutdown: the run stays `issuing` and resumes from `filled` next start
        connection = engine.raw_connection()
        try:
            writer(connection, chunk)
            cursor = connection.cursor()
            cursor.execute(_ADVANCE[engine.dialect.name], (len(chunk), run.id))
            connection.commit()
        finally:
            connection.close()
        if progress:
            progress(len(chunk))
    with engine.begin() as conn:
        conn.execute(update(StampRun).where(StampRun.id == run.id).values(status=RUN_READY))


_ADVANCE = {
    "sqlite": "UPDATE stamp_runs SET filled = filled + ? WHERE id = ?",
    "postgresql": "UPDATE stamp_runs SET filled = filled + %s WHERE id = %s",
}
_COLUMNS = ("code", "org_id", "run_id", "sequence", "status", "scan_limit", "scan_count")


def _stamp_rows(run: StampRun, keyring: Keyring) -> Iterator[tuple[object, ...]]:
    start = run.first_sequence + (run.filled or 0)
    # The run's own key, not the current one: a run resumed after a rotation stays one key.
    codes = new_codes(keyring, run.last_sequence + 1 - start, key_id=run.key_id)
    for sequence, code in zip(range(start, run.last_sequence + 1), codes, strict=True):
        yield (code, run.org_id, run.id, sequence, ISSUED, run.scan_limit, 0)


def _insert_chunk(connection: Any, chunk: Sequence[tuple[object, ...]]) -> None:
    cursor = connection.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    cursor.executemany(
        f"INSERT INTO stamps ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",  # noqa: S608 - fixed column names
        chunk,
    )


def _copy_chunk(connection: Any, chunk: Sequence[tuple[object, ...]]) -> None:
    cursor = connection.cursor()
    with cursor.copy(f"COPY stamps ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
        for row in chunk:
            copy.write_row(row)


def unfinished_runs(session: Session) -> Sequence[StampRun]:
    """Runs whose fill stopped part-way (a crash or a restart during issuing)."""
    return session.scalars(select(StampRun).where(StampRun.status != RUN_READY)).all()


def get_run(session: Session, run_id: int, org_id: int | None = None) -> StampRun:
    """For the operator's command line and internal use; pages and the API use `run_for`."""
    run = session.get(StampRun, run_id)
    if run is None or (org_id is not None and run.org_id != org_id):
        raise NotFound(N_("No such stamp run."))
    return run


def run_for(session: Session, actor: Actor, run_id: int) -> StampRun:
    """A run as its issuer (or a regulator) sees it; NotFound for everyone else, so another
    organization cannot even learn that the run exists."""
    org = require(session, actor, "view")
    run = session.get(StampRun, run_id)
    if run is None or (run.org_id != org.id and not can_oversee(session, actor)):
        raise NotFound(N_("No such stamp run."))
    return run


@dataclass(frozen=True, slots=True)
class RunSummary:
    run: StampRun
    # Stamps written so far by status (issued, active, void); absent statuses are 0.
    counts: dict[str, int]


def run_with_counts(session: Session, actor: Actor, run_id: int) -> RunSummary:
    """A run as `run_for` gives it, with its stamps counted by status."""
    run = run_for(session, actor, run_id)
    counts = dict.fromkeys((ISSUED, ACTIVE, VOID), 0) | count_by_status(session, run.id)
    return RunSummary(run, counts)


def serials_in_run(session: Session, actor: Actor, run_id: int, serials: str) -> Selection:
    """Serials typed on a run's page: they must belong to that run (InvalidInput otherwise),
    so a typo cannot act on another run's stamps."""
    run = run_for(session, actor, run_id)
    selection = Selection.parse(serials=serials)
    if any(a < run.first_sequence or b > run.last_sequence for a, b in selection.ranges()):
        raise InvalidInput(N_("Some of these serials are not in this run."))
    return selection


def list_runs(
    session: Session, actor: Actor, *, before: int | None = None, limit: int = 50
) -> Sequence[StampRun]:
    org = require(session, actor, "view")
    query = select(StampRun).where(StampRun.org_id == org.id)
    if before is not None:
        query = query.where(StampRun.id < before)
    return session.scalars(query.order_by(StampRun.id.desc()).limit(limit)).all()


def activate(
    session: Session,
    actor: Actor,
    *,
    selection: Selection,
    product_id: int,
    lot: str | None = None,
) -> int:
    """Bind issued stamps to a product (and batch); returns how many changed.

    Only `issued` stamps change: an active stamp keeps its product (void it to withdraw it).
    """
    org = require(session, actor, "issue_stamps")
    product = check_binding(session, org_id=org.id, product_id=product_id, lot=lot)
    batch: Batch | None = None
    if lot:
        batch = get_or_create_batch(session, product_id=product.id, lot=lot)
    now = utcnow()
    values = {
        "status": ACTIVE,
        "product_id": product.id,
        "batch_id": batch.id if batch else None,
        "activated_at": now,
    }
    changed = _update_selected(session, org, selection, [Stamp.status == ISSUED], values)
    _record_change(
        session,
        actor,
        org,
        selection,
        ("activating", Stamp.activated_at == now),
        changed,
        product_id=product.id,
        batch_id=batch.id if batch else None,
    )
    return changed


def check_binding(session: Session, *, org_id: int, product_id: int, lot: str | None) -> Product:
    """What activation will need, checked before anything is written (e.g. before a run is
    issued with --activate): the product is this organization's, the lot is well formed."""
    product = get_product(session, product_id)
    if product.org_id != org_id:
        raise NotFound(N_("No such product in this organization."))
    if lot is not None:
        validate_lot(lot)
    return product


def void(session: Session, actor: Actor, *, selection: Selection) -> int:
    """Void stamps in any state but void; returns how many changed."""
    org = require(session, actor, "issue_stamps")
    now = utcnow()
    values = {"status": VOID, "voided_at": now}
    changed = _update_selected(session, org, selection, [Stamp.status != VOID], values)
    _record_change(session, actor, org, selection, ("voiding", Stamp.voided_at == now), changed)
    return changed


def complete_run(session: Session, run_id: int) -> int:
    """After the fill: the activation the run was issued with (if any), once; returns how
    many stamps it activated. Called by the background filler, also after a restart."""
    run = get_run(session, run_id)
    if run.status != RUN_READY or run.activate_product_id is None:
        return 0
    product_id, lot = run.activate_product_id, run.activate_lot
    run.activate_product_id = run.activate_lot = None
    # The activation was asked for and checked when the run was issued; the issuer's owner
    # role stands for it, and the audit log says it was the system that carried it out.
    actor = Actor(org_id=run.org_id, role="owner", via="system")
    return activate(
        session, actor, selection=Selection(run_id=run.id), product_id=product_id, lot=lot
    )


def _record_change(
    session: Session,
    actor: Actor,
    org: Organization,
    selection: Selection,
    change: tuple[str, Any],
    changed: int,
    **ids: int | None,
) -> None:
    """The life-cycle event covers exactly the stamps that changed (`change[1]` marks them by
    the timestamp just written), not the whole selection: stamps skipped because they were
    already active or void keep their own history."""
    action, marker = change
    if changed:
        run = get_run(session, selection.run_id, org.id) if selection.run_id is not None else None
        ranges = [
            span
            for where in selection_filters(org.id, selection, run)
            for span in changed_ranges(session, [*where, marker])
        ]
        record_event(
            session, action, org.id, org.id, ranges, changed, run_id=selection.run_id, **ids
        )
    record(session, actor, f"stamps.{action}", selection.describe(), changed=changed, **ids)


def _update_selected(
    session: Session,
    org: Organization,
    selection: Selection,
    conditions: list[object],
    values: dict[str, object],
) -> int:
    run = get_run(session, selection.run_id, org.id) if selection.run_id is not None else None
    if run is not None:
        check_ready(run)
    changed = 0
    for where in selection_filters(org.id, selection, run):
        result = session.execute(
            update(Stamp).where(*where, *conditions).values(**values),  # type: ignore[arg-type]
            execution_options={"synchronize_session": False},
        )
        changed += result.rowcount  # type: ignore[attr-defined]
    return changed


def check_ready(run: StampRun) -> None:
    """A run still being written cannot be acted on as a whole: the action would reach only
    the stamps written so far."""
    if run.status != RUN_READY:
        raise Conflict(N_("This run is still being issued; wait until it is ready."))


def selection_filters(
    issuer_id: int, selection: Selection, run: StampRun | None
) -> Iterable[list[Any]]:
    """WHERE clauses (one or several, for long lists) picking the selected stamps of an issuer."""
    owned = Stamp.org_id == issuer_id
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
