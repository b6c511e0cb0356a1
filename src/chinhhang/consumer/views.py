"""Warranty pages: the shopper's (register after a genuine scan, look up, how it works) and
the owner's portal list and CSV export.

The shopper's registration form carries no CSRF token: it has no session to protect, and the
scan token in it is the secret that makes a post count, which another site cannot have.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.services import static_product
from chinhhang.consumer.edge import check_lookup_budget, scan_of
from chinhhang.consumer.export import csv_chunks, plan_export
from chinhhang.consumer.rules import parse_purchase_date
from chinhhang.consumer.services import (
    WarrantyForm,
    list_registrations,
    lookup,
    register,
    registrable,
    registration_shown,
)
from chinhhang.deps import ReadSessionDep, Requires, SessionDep
from chinhhang.errors import DomainError, NotFound
from chinhhang.forms import Before, ShortText
from chinhhang.i18n import N_
from chinhhang.localtime import vietnam_today
from chinhhang.portal import PORTAL_HEADERS, error_text, portal_page, see_other
from chinhhang.templating import language_of, pages_of
from chinhhang.web_headers import NO_STORE

router = APIRouter(include_in_schema=False)
PAGE = 50
Viewer = Annotated[Actor, Depends(Requires("view"))]
Exporter = Annotated[Actor, Depends(Requires("export_warranty"))]
Token = Annotated[str, Form(alias="t", max_length=200)]


def _shopper_page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    # About one person: not cached, no referrer (framing is every answer's, security_headers.py).
    return pages_of(request).render(request, name, context, status_code, dict(NO_STORE))


@router.get("/warranty")
def warranty_page(
    request: Request,
    session: ReadSessionDep,
    product: Annotated[str | None, Query(max_length=18)] = None,
) -> Response:
    """How to register (for one product, when the GS1 resolver's `gs1:registerProduct` link
    sends people here), and the lookup form."""
    shown = None
    if product is not None:
        if not product.isascii() or not product.isdigit():
            raise NotFound(N_("No such product."))
        shown = static_product(session, product_id=int(product)).product
    context: dict[str, Any] = {"product": shown, "form": {}, "found": [], "error": None}
    return _shopper_page(request, "consumer/warranty.html", context)


@router.get("/warranty/lookup")
def lookup_form(request: Request) -> Response:
    context: dict[str, Any] = {"product": None, "form": {}, "found": [], "error": None}
    return _shopper_page(request, "consumer/warranty.html", context)


@router.post("/warranty/lookup")
def lookup_post(
    request: Request, session: ReadSessionDep, serial: ShortText = "", phone: ShortText = ""
) -> Response:
    form = {"serial": serial[:40], "phone": phone[:30]}
    try:
        check_lookup_budget(request)
        found = lookup(session, serial, phone)
    except DomainError as error:
        context: dict[str, Any] = {
            "product": None,
            "form": form,
            "found": [],
            "error": error_text(request, error),
        }
        return _shopper_page(request, "consumer/warranty.html", context, error.status_code)
    context = {"product": None, "form": form, "found": found, "error": None}
    return _shopper_page(request, "consumer/warranty.html", context)


@router.get("/warranty/register")
def register_form(
    request: Request, session: ReadSessionDep, t: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """The form, for the item a genuine scan's token names (or why it cannot be registered)."""
    return _register_page(request, session, t, {})


def _register_page(
    request: Request,
    session: Session,
    token: str,
    form: dict[str, str],
    error: DomainError | None = None,
) -> Response:
    try:
        item = registrable(session, scan_of(request, token))
    except DomainError as refusal:
        item, error = None, error or refusal
    context: dict[str, Any] = {
        "item": item,
        "token": token,
        "form": form,
        "today": vietnam_today().isoformat(),
        "error": error_text(request, error) if error else None,
    }
    status = error.status_code if error else 200
    return _shopper_page(request, "consumer/register.html", context, status)


@router.post("/warranty/register")
def register_post(
    request: Request,
    session: SessionDep,
    t: Token = "",
    name: ShortText = "",
    phone: ShortText = "",
    purchase_date: Annotated[str, Form(max_length=40)] = "",
    shop: ShortText = "",
) -> Response:
    """Register, then redirect (Post/Redirect/Get) to the page showing the registration: a
    reload shows it again instead of posting a second time."""
    sent = {"name": name, "phone": phone, "purchase_date": purchase_date, "shop": shop}
    try:
        with session.begin_nested():  # a refusal leaves nothing behind
            form = WarrantyForm(name, phone, parse_purchase_date(purchase_date), shop)
            register(session, scan_of(request, t), form)
    except DomainError as error:
        return _register_page(request, session, t, sent, error)
    query = urlencode({"t": t, "lang": language_of(request)})
    return see_other(f"/warranty/registered?{query}")


@router.get("/warranty/registered")
def registered_page(
    request: Request, session: ReadSessionDep, t: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """The registration of the item the scan token names (the same token that registered
    it, valid for a day); the form again, with why, when it is not registered."""
    try:
        warranty = registration_shown(session, scan_of(request, t))
    except DomainError as error:
        return _register_page(request, session, t, {}, error)
    return _shopper_page(request, "consumer/registered.html", {"warranty": warranty})


@router.get("/portal/warranty")
def portal_list(
    request: Request,
    session: SessionDep,
    actor: Viewer,
    q: Annotated[str, Query(max_length=40)] = "",
    before: Before = None,
) -> Response:
    """The organization's registrations, newest first; search by serial or phone."""
    try:
        rows = list_registrations(session, actor, search=q, before=before, limit=PAGE)
    except DomainError as error:
        context: dict[str, Any] = {
            "rows": [],
            "q": q,
            "next_url": None,
            "error": error_text(request, error),
        }
        return portal_page(request, "consumer/portal_warranty.html", context, error.status_code)
    next_url = None
    if len(rows) == PAGE:
        next_url = "/portal/warranty?" + urlencode({"q": q, "before": rows[-1].registration.id})
    context = {"rows": rows, "q": q, "next_url": next_url, "error": None}
    return portal_page(request, "consumer/portal_warranty.html", context)


@router.get("/portal/warranty.csv")
def portal_export(request: Request, session: SessionDep, actor: Exporter) -> Response:
    """Every registration as CSV; audited (and committed) before the first byte."""
    org_id = plan_export(session, actor)
    session.commit()
    headers = {
        **PORTAL_HEADERS,
        "Content-Disposition": 'attachment; filename="warranty-registrations.csv"',
    }
    chunks = csv_chunks(request.app.state.read_sessions, org_id)
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=headers)
