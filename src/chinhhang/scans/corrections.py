"""Undoing a mistaken scan (SPEC section 7, triage): staff scanned a stamp by mistake, so the
shopper who buys it later would see "over limit". The owner gives the scan back within the
window (CHINHHANG_UNDO_WINDOW_DAYS, default 10); the scan event stays as history, marked
undone, and the audit log says who did it.

Only genuine scans are undone: a warning is evidence of a possible fake and is never erased.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import record, require
from chinhhang.errors import Conflict, InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.scans.history import ScanRow, one_scan
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.sql import GENUINE
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import serial_for


def undo_scan(
    session: Session, actor: Actor, scan_id: int, *, now: datetime, window_days: int
) -> ScanRow:
    """Give one genuine scan back to its stamp. Raises NotFound (not the caller's scan),
    InvalidInput (not a genuine stamp scan, or past the window), Conflict (undone already)."""
    org = require(session, actor, "triage_alerts")
    event = session.get(ScanEvent, scan_id, with_for_update=True)
    if event is None or event.org_id != org.id or event.stamp_code is None:
        raise NotFound(N_("No such scan."))
    if event.outcome != GENUINE:
        raise InvalidInput(N_("Only a genuine scan can be undone; warnings are kept as evidence."))
    if event.undone_at is not None:
        raise Conflict(N_("This scan was undone already."))
    if now - event.scanned_at > timedelta(days=window_days):
        raise InvalidInput(
            N_("Scans can be undone for %(n)s days; this one is older."), n=window_days
        )
    given_back = session.execute(
        update(Stamp)
        .where(Stamp.code == event.stamp_code, Stamp.scan_count > 0)
        .values(
            scan_count=Stamp.scan_count - 1,
            first_scanned_at=case((Stamp.scan_count == 1, None), else_=Stamp.first_scanned_at),
        )
        .returning(Stamp.sequence)
    ).first()
    if given_back is None:
        raise Conflict(N_("This stamp has no scan left to give back."))
    event.undone_at = now
    record(session, actor, "scan.undo", f"stamp:{serial_for(given_back[0])}", scan_id=scan_id)
    session.flush()  # the answer shows the scan as undone
    return one_scan(session, actor, scan_id)
