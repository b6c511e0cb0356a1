"""Shoppers' reports as pages: the form and its reference (`/report`), and the portal's list,
detail, photo and status change (`/portal/reports`).

The shopper's form works without JavaScript and without an account. Its scan token travels
in the form's address (`/report?t=…`), so a refused body (a photo too large to read) still
re-shows the form tied to the same scan. A report post answers with a redirect to the
reference's page (Post/Redirect/Get: reloading it does not send the report twice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import FileResponse, Response

from chinhhang.accounts.actor import Actor
from chinhhang.alerts.models import REPORT_STATUSES
from chinhhang.alerts.report_edge import SentReport, check_report_budget, read_report_form
from chinhhang.alerts.report_work import change_status, get_report, list_reports, report_photo
from chinhhang.alerts.reports import public_report, report_subject, submit_report
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError
from chinhhang.forms import Before, Checkbox, IdPath, LongText, checked
from chinhhang.portal import PORTAL_HEADERS, error_text, portal_page, see_other
from chinhhang.provinces import all_provinces
from chinhhang.templating import language_of, pages_of
from chinhhang.web_headers import NO_STORE

router = APIRouter(include_in_schema=False)
PAGE = 50
Viewer = Annotated[Actor, Depends(Requires("view"))]
Worker = Annotated[Actor, Depends(Requires("work_reports"))]
TokenQuery = Annotated[str, Query(max_length=200)]


# -- the shopper ------------------------------------------------------------------------------


def _form_page(
    request: Request,
    session: Session,
    token: str,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Response:
    """The report form; a forged or expired token is said above it and dropped."""
    subject, token_error = None, None
    try:
        subject = report_subject(session, request.app.state.scan_token_key, token or None)
    except DomainError as refused:
        token_error = refused
    shown = error or token_error
    lang = language_of(request)
    query = {"t": subject.token, "lang": lang} if subject else {"lang": lang}
    context: dict[str, Any] = {
        "subject": subject,
        "form": values or {},
        "provinces": all_provinces(),
        "action": "/report?" + urlencode(query),
        "error": error_text(request, shown) if shown else None,
    }
    status = shown.status_code if shown else 200
    return pages_of(request).render(request, "alerts/report_form.html", context, status, NO_STORE)


@router.get("/report")
def report_form(request: Request, session: SessionDep, t: TokenQuery = "") -> Response:
    return _form_page(request, session, t)


@router.post("/report", dependencies=[Depends(check_report_budget)])
def send_report(
    request: Request,
    session: SessionDep,
    sent: Annotated[SentReport, Depends(read_report_form)],
    t: TokenQuery = "",
) -> Response:
    """Store the report and show its reference; 400 with the form again for bad input (no row
    and no file stored), 429 past the client's budget."""
    if sent.error is not None:
        return _form_page(request, session, t, sent.values, sent.error)
    try:
        with session.begin_nested():  # a refusal leaves nothing behind
            report = submit_report(
                session,
                token_key=request.app.state.scan_token_key,
                token=t or None,
                fields=sent.fields,
                photo=sent.photo,
                data_dir=request.app.state.settings.data_dir,
            )
    except DomainError as error:
        return _form_page(request, session, t, sent.values, error)
    query = urlencode({"new": "1", "lang": language_of(request)})
    return see_other(f"/report/{report.reference}?{query}")


@router.get("/report/{reference}")
def report_status(request: Request, session: SessionDep, reference: str) -> Response:
    report = public_report(session, reference[:40])
    context = {"report": report, "new": request.query_params.get("new") == "1"}
    return pages_of(request).render(
        request, "alerts/report_status.html", context, headers=dict(NO_STORE)
    )


# -- the organizations ------------------------------------------------------------------------


@router.get("/portal/reports")
def reports_page(
    request: Request,
    session: SessionDep,
    actor: Viewer,
    status: Annotated[str, Query(max_length=20)] = "",
    province: Annotated[str, Query(max_length=10)] = "",
    before: Before = None,
) -> Response:
    context: dict[str, Any] = {
        "status": status,
        "province": province,
        "statuses": REPORT_STATUSES,
        "provinces": all_provinces(),
        "rows": [],
    }
    try:
        rows = list_reports(
            session, actor, status=status or None, province=province or None, before=before
        )
    except DomainError as error:  # a hand-typed filter: say so above the list
        context["error"] = error_text(request, error)
        return portal_page(request, "alerts/report_list.html", context, error.status_code)
    context["rows"] = rows
    if len(rows) == PAGE:
        filters = {k: v for k, v in (("status", status), ("province", province)) if v}
        context["next_url"] = "/portal/reports?" + urlencode(
            {**filters, "before": rows[-1].report.id}
        )
    return portal_page(request, "alerts/report_list.html", context)


def _detail(
    request: Request,
    session: Session,
    actor: Actor,
    report_id: int,
    error: DomainError | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    context = {
        "view": get_report(session, actor, report_id),
        "error": error_text(request, error) if error else None,
        "form": form or {},
    }
    status = error.status_code if error else 200
    return portal_page(request, "alerts/report_detail.html", context, status)


@router.get("/portal/reports/{report_id}")
def report_page(
    request: Request, session: SessionDep, actor: Viewer, report_id: IdPath
) -> Response:
    return _detail(request, session, actor, report_id)


@router.get("/portal/reports/{report_id}/photo")
def report_photo_file(
    request: Request, session: SessionDep, actor: Viewer, report_id: IdPath
) -> Response:
    """The shopper's photo, only to those who may see the report (never under /media)."""
    path: Path = report_photo(session, actor, report_id, request.app.state.settings.data_dir)
    return FileResponse(path, media_type="image/jpeg", headers=PORTAL_HEADERS)


@router.post("/portal/reports/{report_id}/status", dependencies=[CsrfDep])
def report_status_change(
    request: Request,
    session: SessionDep,
    actor: Worker,
    report_id: IdPath,
    status: Annotated[str, Form(max_length=20)] = "",
    note: LongText = "",
    public: Checkbox = None,
) -> Response:
    try:
        with session.begin_nested():
            change_status(
                session, actor, report_id, status=status, note=note, public=checked(public)
            )
    except DomainError as error:
        sent = {"status": status, "note": note, "public": checked(public)}
        return _detail(request, session, actor, report_id, error, sent)
    return see_other(f"/portal/reports/{report_id}?note=saved")
