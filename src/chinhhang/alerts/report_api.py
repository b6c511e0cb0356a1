"""JSON API for shoppers' reports under /api/v1.

One public operation, for a shopper's app or page: send a report (no API token, throttled
per client, the same checks as the form; photos go through the form). It lives on a plain
router; listing, reading and working reports are ordinary `api_router` routes with their
permission.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from chinhhang.accounts.actor import Actor
from chinhhang.alerts.report_edge import check_report_budget
from chinhhang.alerts.report_fields import ReportFields
from chinhhang.alerts.report_schemas import (
    ReportCreate,
    ReportNotePublic,
    ReportPage,
    ReportPublic,
    ReportReceipt,
    ReportStatus,
    ReportStatusChange,
)
from chinhhang.alerts.report_work import ReportView, change_status, get_report, list_reports
from chinhhang.alerts.reports import submit_report
from chinhhang.api_support import (
    CONFLICT,
    DEFAULT_LIMIT,
    Before,
    Limit,
    api_router,
    error_response,
    public_operation,
)
from chinhhang.api_support import paged as page_of
from chinhhang.deps import Requires, SessionDep
from chinhhang.forms import IdPath

_PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_response("Bad input (a field, or a forged or expired token); nothing was stored."),
    429: error_response("Too many reports from this client; try again in an hour."),
}

router = APIRouter(tags=["reports"])
worked_router = api_router("reports")


@router.post(
    "/reports",
    summary="Send a shopper's report of a suspected fake (no API token; throttled)",
    status_code=201,
    responses=_PUBLIC_ERRORS,
    dependencies=[Depends(check_report_budget)],
    # No API token: the document says so where other operations name their permission.
    openapi_extra=public_operation("anyone, without an API token (throttled per client)"),
)
def send_report(request: Request, session: SessionDep, body: ReportCreate) -> ReportReceipt:
    fields = ReportFields(
        shop_name=body.shop_name,
        shop_address=body.shop_address,
        online_link=body.online_link,
        province=body.province_code,
        description=body.description,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
        contact_email=body.contact_email,
    )
    report = submit_report(
        session,
        token_key=request.app.state.scan_token_key,
        token=body.token,
        fields=fields,
        photo=None,
        data_dir=request.app.state.settings.data_dir,
    )
    base = str(request.app.state.settings.base_url).rstrip("/")
    return ReportReceipt(
        reference=report.reference, status="new", url=f"{base}/report/{report.reference}"
    )


@worked_router.get("/reports", summary="Shoppers' reports the caller may see, newest first")
def reports(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    status: Annotated[ReportStatus | None, Query(description="Only this status.")] = None,
    province_code: Annotated[
        int | None, Query(ge=1, le=999, description="Only this province.")
    ] = None,
    before: Before = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ReportPage:
    rows = list_reports(
        session, actor, status=status, province=province_code, before=before, limit=limit + 1
    )
    items, next_ = page_of(rows, limit, lambda view: view.report.id)
    return ReportPage(items=[_public(view) for view in items], next=next_)


@worked_router.get("/reports/{report_id}", summary="One report, with its history")
def report(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    report_id: IdPath,
) -> ReportPublic:
    return _public(get_report(session, actor, report_id))


@worked_router.post(
    "/reports/{report_id}/status",
    summary="Change a report's status, with a note",
    responses=CONFLICT,
)
def report_status(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("work_reports"))],
    report_id: IdPath,
    body: ReportStatusChange,
) -> ReportPublic:
    change_status(session, actor, report_id, status=body.status, note=body.note, public=body.public)
    return _public(get_report(session, actor, report_id))


def _public(view: ReportView) -> ReportPublic:
    row = view.report
    notes = [
        ReportNotePublic(
            at=note.at,
            status_from=note.status_from,
            status_to=note.status_to,
            text=note.text,
            public=note.public,
            by=email,
            organization=org,
        )
        for note, email, org in view.notes
    ]
    return ReportPublic(
        id=row.id,
        reference=row.reference,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        organization=view.organization,
        product=view.product,
        serial=view.serial,
        outcome=row.outcome,
        alert_id=row.alert_id,
        shop_name=row.shop_name,
        shop_address=row.shop_address,
        online_link=row.online_link,
        province_code=row.province_code,
        province=view.province,
        description=row.description,
        has_photo=row.photo_file is not None,
        contact_name=row.contact_name if view.shows_contact else None,
        contact_phone=row.contact_phone if view.shows_contact else None,
        contact_email=row.contact_email if view.shows_contact else None,
        notes=notes,
    )


router.include_router(worked_router)
