"""JSON API for alerts under /api/v1: the list, one alert, triage."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from chinhhang.accounts.actor import Actor
from chinhhang.alerts.schemas import AlertPage, AlertPublic, AlertStatus, AlertTriage
from chinhhang.alerts.services import alert_detail, list_alerts, triage
from chinhhang.api_support import DEFAULT_LIMIT, BigBefore, Limit, api_router, paged
from chinhhang.deps import Requires, SessionDep
from chinhhang.forms import IdPath

router = api_router("alerts")


@router.get("/alerts", summary="Alerts the caller may see, newest first")
def alerts(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    status: Annotated[
        AlertStatus | None, Query(description='Only this status ("open": not closed).')
    ] = None,
    before: BigBefore = None,
    limit: Limit = DEFAULT_LIMIT,
) -> AlertPage:
    rows = list_alerts(session, actor, status=status, before=before, limit=limit + 1)
    items, next_ = paged(rows, limit, lambda row: row.id)
    return AlertPage(items=[AlertPublic.model_validate(row) for row in items], next=next_)


@router.get("/alerts/{alert_id}", summary="One alert")
def alert(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    alert_id: IdPath,
) -> AlertPublic:
    return AlertPublic.model_validate(alert_detail(session, actor, alert_id).alert)


@router.post("/alerts/{alert_id}/triage", summary="Set an alert's status and category")
def triage_alert(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("triage_alerts"))],
    alert_id: IdPath,
    body: AlertTriage,
) -> AlertPublic:
    row = triage(
        session, actor, alert_id, status=body.status, category=body.category, note=body.note
    )
    return AlertPublic.model_validate(row)
