"""Portal pages built on scans: the dashboard and the scan list."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.db import utcnow
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError, InvalidInput
from chinhhang.forms import BigBefore, BigIdPath
from chinhhang.portal import error_text, portal_page, see_other
from chinhhang.scans.corrections import undo_scan
from chinhhang.scans.dashboard import dashboard
from chinhhang.scans.history import OUTCOMES, list_scans

router = APIRouter(prefix="/portal", include_in_schema=False)
PAGE = 50


@router.get("")
def dashboard_page(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
) -> Response:
    board = dashboard(session, actor)
    context: dict[str, Any] = {
        "board": board,
        "registered": request.query_params.get("registered") == "1",
        "password_changed": request.query_params.get("password") == "1",
    }
    # Parts from the domains above scans (alerts' live panel), handed over by web.py.
    for part in getattr(request.app.state, "dashboard_parts", ()):
        context |= part(session, actor)
    return portal_page(request, "portal/dashboard.html", context)


@router.get("/scans")
def scans_page(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    outcome: Annotated[str, Query(max_length=20)] = "",
    before: BigBefore = None,
) -> Response:
    try:
        rows = list_scans(session, actor, outcome=outcome or None, before=before, limit=PAGE)
    except InvalidInput as error:  # a hand-typed filter: say so above the list
        failed: dict[str, Any] = {
            "rows": [],
            "outcome": "",
            "outcomes": OUTCOMES,
            "error": error_text(request, error),
        }
        return portal_page(request, "scans/portal_list.html", failed, status_code=400)
    next_url = None
    if len(rows) == PAGE:
        query = {"before": rows[-1].id, **({"outcome": outcome} if outcome else {})}
        next_url = f"/portal/scans?{urlencode(query)}"
    context: dict[str, Any] = {
        "rows": rows,
        "outcome": outcome,
        "outcomes": OUTCOMES,
        "next_url": next_url,
        "undo_days": request.app.state.settings.undo_window_days,
    }
    return portal_page(request, "scans/portal_list.html", context)


@router.post("/scans/{scan_id}/undo", dependencies=[CsrfDep])
def undo_scan_form(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("triage_alerts"))],
    scan_id: BigIdPath,
) -> Response:
    settings = request.app.state.settings
    try:
        with session.begin_nested():  # a refusal changes nothing
            undo_scan(session, actor, scan_id, now=utcnow(), window_days=settings.undo_window_days)
    except DomainError as error:
        if error.status_code == 404:
            raise
        context: dict[str, Any] = {
            "rows": [],
            "outcome": "",
            "outcomes": OUTCOMES,
            "undo_days": settings.undo_window_days,
            "error": error_text(request, error),
        }
        return portal_page(request, "scans/portal_list.html", context, error.status_code)
    return see_other("/portal/scans?note=undone")
