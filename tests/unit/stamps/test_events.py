"""The life-cycle record read by range: counts per product and lot without reading stamps."""

from __future__ import annotations

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.services import get_or_create_batch
from chinhhang.db import session_scope
from chinhhang.stamps.models import StampRun
from chinhhang.stamps.services import Selection, activate
from chinhhang.stamps.services.events import activated_counts
from tests.factories import make_run


def test_activated_stamps_are_counted_per_lot_from_the_activation_steps(
    settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, quantity=10, state="issued")
    actor = Actor.command_line(run.org_id)
    with session_scope(sessions) as session:
        first = session.get(StampRun, run.run_id).first_sequence
        lots = {}
        for lot, (start, end) in {"A": (0, 3), "B": (6, 7)}.items():
            activate(
                session,
                actor,
                selection=Selection(first=first + start, last=first + end),
                product_id=run.product_id,
                lot=lot,
            )
            lots[lot] = get_or_create_batch(session, product_id=run.product_id, lot=lot).id
    with sessions() as session:
        whole = activated_counts(session, run.org_id, first, first + 9)
        part = activated_counts(session, run.org_id, first + 2, first + 6)
    assert whole == {(run.product_id, lots["A"]): 4, (run.product_id, lots["B"]): 2}
    # The overlap only: two of lot A's four, one of lot B's two, none of the unactivated.
    assert part == {(run.product_id, lots["A"]): 2, (run.product_id, lots["B"]): 1}
