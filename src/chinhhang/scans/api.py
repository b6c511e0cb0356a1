"""JSON API for scans under /api/v1: the scan list and the dashboard's figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from chinhhang.accounts.actor import Actor
from chinhhang.api_support import DEFAULT_LIMIT, BigBefore, Limit, api_router, paged
from chinhhang.db import utcnow
from chinhhang.deps import Requires, SessionDep
from chinhhang.forms import BigIdPath
from chinhhang.scans.corrections import undo_scan
from chinhhang.scans.dashboard import dashboard
from chinhhang.scans.history import list_scans
from chinhhang.scans.schemas import (
    DashboardPublic,
    DayCount,
    Outcome,
    ScanPage,
    ScanPublic,
    StampFigures,
)

router = api_router("scans")


@router.get("/scans", summary="Scans of the organization's stamps and products, newest first")
def scans(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    outcome: Annotated[Outcome | None, Query(description="Only scans with this verdict.")] = None,
    before: BigBefore = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ScanPage:
    rows = list_scans(session, actor, outcome=outcome, before=before, limit=limit + 1)
    items, next_ = paged(rows, limit, lambda scan: scan.id)
    return ScanPage(items=[ScanPublic.model_validate(s) for s in items], next=next_)


@router.post(
    "/scans/{scan_id}/undo",
    summary="Give a mistaken genuine scan back to its stamp (within the undo window)",
)
def undo(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("triage_alerts"))],
    scan_id: BigIdPath,
) -> ScanPublic:
    days = request.app.state.settings.undo_window_days
    row = undo_scan(session, actor, scan_id, now=utcnow(), window_days=days)
    return ScanPublic.model_validate(row)


@router.get("/dashboard", summary="Stamp figures, scans per day, the latest warnings")
def figures(
    session: SessionDep, actor: Annotated[Actor, Depends(Requires("view"))]
) -> DashboardPublic:
    board = dashboard(session, actor)
    return DashboardPublic(
        overseer=board.overseer,
        stamps=StampFigures.model_validate(board.counts),
        scans_per_day=[DayCount(day=d, scans=n) for d, n in board.per_day],
        latest_warnings=[ScanPublic.model_validate(w) for w in board.warnings],
        incoming_shipments=board.incoming,
    )
