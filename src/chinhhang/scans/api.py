"""JSON API for scans under /api/v1: the scan list and the dashboard's figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from chinhhang.accounts.actor import Actor
from chinhhang.api_support import DEFAULT_LIMIT, BigBefore, Limit, api_router, paged
from chinhhang.deps import Requires, SessionDep
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
