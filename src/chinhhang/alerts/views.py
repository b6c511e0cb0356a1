"""Portal pages for alerts: the list, one alert with its scans and deliveries, triage, and
the live panel the dashboard polls (static/alerts-live.js) so new alerts show without a
reload."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.alerts.models import ALERT_STATUSES, CATEGORIES
from chinhhang.alerts.services import alert_detail, list_alerts, live_alerts, triage
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError
from chinhhang.forms import BigBefore, IdPath, LongText
from chinhhang.portal import error_text, portal_page, see_other

router = APIRouter(prefix="/portal/alerts", include_in_schema=False)
Viewer = Annotated[Actor, Depends(Requires("view"))]
Triager = Annotated[Actor, Depends(Requires("triage_alerts"))]
PAGE = 50


@router.get("")
def alerts_page(
    request: Request,
    session: SessionDep,
    actor: Viewer,
    status: Annotated[str, Query(max_length=20)] = "",
    before: BigBefore = None,
) -> Response:
    try:
        rows = list_alerts(session, actor, status=status or None, before=before, limit=PAGE)
    except DomainError as error:  # a hand-typed filter: say so above an empty list
        context: dict[str, Any] = {"rows": [], "status": "", "error": error_text(request, error)}
        return portal_page(request, "alerts/list.html", context, error.status_code)
    next_url = None
    if len(rows) == PAGE:
        query = {"before": rows[-1].id, **({"status": status} if status else {})}
        next_url = f"/portal/alerts?{urlencode(query)}"
    context = {"rows": rows, "status": status, "statuses": ALERT_STATUSES, "next_url": next_url}
    return portal_page(request, "alerts/list.html", context)


def dashboard_part(session: Session, actor: Actor) -> dict[str, Any]:
    """The dashboard's live alert panel as first shown (web.py hands this to scans)."""
    open_count, rows = live_alerts(session, actor)
    return {"open_count": open_count, "rows": rows, "live_alerts": True}


@router.get("/live")
def live_panel(request: Request, session: SessionDep, actor: Viewer) -> Response:
    """The dashboard's alert panel alone (no page around it), polled every few seconds."""
    open_count, rows = live_alerts(session, actor)
    response = portal_page(request, "alerts/live.html", {"open_count": open_count, "rows": rows})
    response.headers["X-Open-Alerts"] = str(open_count)
    return response


@router.get("/{alert_id}")
def alert_page(request: Request, session: SessionDep, actor: Viewer, alert_id: IdPath) -> Response:
    return _detail(request, session, actor, alert_id)


def _detail(
    request: Request,
    session: SessionDep,
    actor: Actor,
    alert_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "detail": alert_detail(session, actor, alert_id),
        "statuses": ALERT_STATUSES,
        "categories": CATEGORIES,
        "error": error,
    }
    return portal_page(request, "alerts/detail.html", context, status_code)


@router.post("/{alert_id}", dependencies=[CsrfDep])
def triage_alert(
    request: Request,
    session: SessionDep,
    actor: Triager,
    alert_id: IdPath,
    status: Annotated[str, Form(max_length=20)],
    category: Annotated[str, Form(max_length=20)],
    note: LongText = "",
) -> Response:
    try:
        with session.begin_nested():  # a refusal changes nothing
            triage(session, actor, alert_id, status=status, category=category, note=note)
    except DomainError as error:
        if error.status_code == 404:
            raise
        return _detail(
            request, session, actor, alert_id, error_text(request, error), error.status_code
        )
    return see_other(f"/portal/alerts/{alert_id}?note=saved")
