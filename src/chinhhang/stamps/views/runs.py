"""Stamp runs in the portal: issue one (filled in the background), follow its progress,
activate or void its stamps; and the organization's list of stamps."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.services import list_products
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError, InvalidInput
from chinhhang.forms import (
    Before,
    IdPath,
    LongText,
    ShortText,
    optional_id,
    optional_text,
    whole_number,
)
from chinhhang.i18n import N_
from chinhhang.portal import error_text, portal_page, see_other
from chinhhang.stamps.models import RUN_READY
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import (
    Selection,
    activate,
    create_run,
    list_runs,
    list_stamps,
    organization_names,
    run_with_counts,
    serials_in_run,
    void,
)
from chinhhang.stamps.services.listing import STATUSES

router = APIRouter(include_in_schema=False)
PAGE = 50
# A select of products to activate with; an organization with more types the id in the API.
PRODUCT_CHOICES = 500
Viewer = Annotated[Actor, Depends(Requires("view"))]
Issuer = Annotated[Actor, Depends(Requires("issue_stamps"))]
Cursor = Annotated[str, Query(max_length=40)]


@router.get("/runs")
def runs_page(
    request: Request, session: SessionDep, actor: Viewer, before: Before = None
) -> Response:
    runs = list_runs(session, actor, before=before, limit=PAGE)
    next_url = f"/portal/runs?before={runs[-1].id}" if len(runs) == PAGE else None
    context = {"runs": runs, "next_url": next_url, "serials": _serial_range}
    return portal_page(request, "stamps/runs.html", context)


def _serial_range(first: int, last: int) -> str:
    return f"{grouped(serial_for(first))} – {grouped(serial_for(last))}"


def _new_run_page(
    request: Request,
    session: Session,
    actor: Actor,
    form: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    products = list_products(session, actor, limit=PRODUCT_CHOICES)
    context = {"form": form, "products": products, "error": error}
    return portal_page(request, "stamps/run_new.html", context, status_code=status_code)


@router.get("/runs/new")
def new_run_form(request: Request, session: SessionDep, actor: Issuer) -> Response:
    grace = request.app.state.settings.default_grace_minutes
    form = {"quantity": "", "scan_limit": "1", "grace_minutes": str(grace)}
    return _new_run_page(request, session, actor, form)


@router.post("/runs/new", dependencies=[CsrfDep])
def new_run(
    request: Request,
    session: SessionDep,
    actor: Issuer,
    quantity: ShortText = "",
    scan_limit: ShortText = "",
    grace_minutes: ShortText = "",
    product_id: ShortText = "",
    lot: ShortText = "",
) -> Response:
    form = {
        "quantity": quantity,
        "scan_limit": scan_limit,
        "grace_minutes": grace_minutes,
        "product_id": product_id,
        "lot": lot,
    }
    grace = request.app.state.settings.default_grace_minutes
    try:
        with session.begin_nested():
            product, lot_ = optional_id(product_id), optional_text(lot)
            run = create_run(
                session,
                actor,
                quantity=whole_number(quantity, "quantity"),
                scan_limit=whole_number(scan_limit, "scan_limit", default=1),
                grace_minutes=whole_number(grace_minutes, "grace_minutes", default=grace),
                key_id=request.app.state.settings.keyring.current,
                product_id=product,
                lot=lot_,
            )
    except DomainError as error:
        text = error_text(request, error)
        return _new_run_page(request, session, actor, form, text, error.status_code)
    # The run must be committed before the background filler (another connection) sees it.
    session.commit()
    request.app.state.filler.submit(run)
    return see_other(f"/portal/runs/{run.id}?note=issuing")


def render_run_page(
    request: Request,
    session: Session,
    actor: Actor,
    run_id: int,
    *,
    after: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    summary = run_with_counts(session, actor, run_id)
    run = summary.run
    stamps = list_stamps(session, actor, run_id=run.id, after=after, limit=PAGE)
    next_url = None
    if len(stamps) == PAGE:
        next_url = f"/portal/runs/{run.id}?{urlencode({'after': stamps[-1].cursor})}"
    context: dict[str, Any] = {
        "run": run,
        "ready": run.status == RUN_READY,
        "counts": summary.counts,
        "serial_range": _serial_range(run.first_sequence, run.last_sequence),
        "stamps": stamps,
        "names": organization_names(session, {row.holder_org_id for row in stamps}),
        "next_url": next_url,
        "products": list_products(session, actor, limit=PRODUCT_CHOICES),
        "errors": errors or {},
        "form": form or {},
    }
    # Sections that domains above stamps add to this page (printing's export form): stamps
    # cannot import them, so the composition root (web.py) hands them over.
    for part in getattr(request.app.state, "run_page_parts", ()):
        context |= part(request, session, actor, run)
    return portal_page(request, "stamps/run.html", context, status_code=status_code)


@router.get("/runs/{run_id}")
def run_page(
    request: Request,
    session: SessionDep,
    actor: Viewer,
    run_id: IdPath,
    after: Cursor = "",
) -> Response:
    return render_run_page(request, session, actor, run_id, after=after or None)


def _selection(session: Session, actor: Actor, run_id: int, scope: str, serials: str) -> Selection:
    """The whole run, or the serials typed ("FIRST-LAST" or a list) within this run."""
    if scope == "run":
        return Selection.parse(run_id=run_id)
    return serials_in_run(session, actor, run_id, serials)


@router.post("/runs/{run_id}/activate", dependencies=[CsrfDep])
def run_activate(
    request: Request,
    session: SessionDep,
    actor: Issuer,
    run_id: IdPath,
    product_id: ShortText = "",
    lot: ShortText = "",
    scope: ShortText = "run",
    serials: LongText = "",
) -> Response:
    form = {"product_id": product_id, "lot": lot, "scope": scope, "serials": serials}
    try:
        with session.begin_nested():
            product = optional_id(product_id)
            if product is None:
                raise InvalidInput(N_("Choose the product these stamps go on."))
            changed = activate(
                session,
                actor,
                selection=_selection(session, actor, run_id, scope, serials),
                product_id=product,
                lot=optional_text(lot),
            )
    except DomainError as error:
        errors = {"activate": error_text(request, error)}
        return render_run_page(
            request, session, actor, run_id, errors=errors, form=form, status_code=error.status_code
        )
    return see_other(f"/portal/runs/{run_id}?note=activated&n={changed}")


@router.post("/runs/{run_id}/void", dependencies=[CsrfDep])
def run_void(
    request: Request,
    session: SessionDep,
    actor: Issuer,
    run_id: IdPath,
    scope: ShortText = "serials",
    serials: LongText = "",
) -> Response:
    form = {"void_scope": scope, "void_serials": serials}
    try:
        with session.begin_nested():
            changed = void(
                session, actor, selection=_selection(session, actor, run_id, scope, serials)
            )
    except DomainError as error:
        errors = {"void": error_text(request, error)}
        return render_run_page(
            request, session, actor, run_id, errors=errors, form=form, status_code=error.status_code
        )
    return see_other(f"/portal/runs/{run_id}?note=voided&n={changed}")


@router.get("/stamps")
def stamps_page(
    request: Request,
    session: SessionDep,
    actor: Viewer,
    status: Annotated[str, Query(max_length=20)] = "",
    after: Cursor = "",
) -> Response:
    context: dict[str, Any] = {"status": status, "statuses": STATUSES, "next_url": None}
    try:
        rows = list_stamps(session, actor, status=status or None, after=after or None, limit=PAGE)
    except InvalidInput as error:  # a hand-typed filter or cursor: say so above the list
        context |= {"rows": [], "names": {}, "status": "", "error": error_text(request, error)}
        return portal_page(request, "stamps/stamps.html", context, status_code=400)
    if len(rows) == PAGE:
        query = {"after": rows[-1].cursor, **({"status": status} if status else {})}
        context["next_url"] = f"/portal/stamps?{urlencode(query)}"
    names = organization_names(session, {row.holder_org_id for row in rows})
    context |= {"rows": rows, "names": names}
    return portal_page(request, "stamps/stamps.html", context)
