"""JSON API for warranty registrations under /api/v1.

Two public operations, for the shopper's own app or page: register (with the scan token a
genuine scan handed out) and look up (throttled per client). They take no API token, so they
live on a plain router; the owner's list is an ordinary `api_router` route with its
permission.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from chinhhang.accounts.actor import Actor
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
from chinhhang.consumer.edge import check_lookup_budget, scan_of
from chinhhang.consumer.schemas import (
    WarrantyCreate,
    WarrantyList,
    WarrantyLookup,
    WarrantyPublic,
    WarrantyRegistrationPage,
    WarrantyRegistrationPublic,
)
from chinhhang.consumer.services import (
    OwnedRegistration,
    WarrantyForm,
    list_registrations,
    lookup,
    register,
)
from chinhhang.deps import Requires, SessionDep

_PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_response(
        "Bad input (a bad or expired token, phone, serial or date); nothing changed."
    ),
}
_LOOKUP_ERRORS: dict[int | str, dict[str, Any]] = {
    **_PUBLIC_ERRORS,
    404: error_response("No registration matches this serial and phone (the same for either)."),
    429: error_response("Too many lookups from this client; try again later."),
}

router = APIRouter(tags=["warranty"])
owner_router = api_router("warranty")


@router.post(
    "/warranty",
    summary="Register an item's warranty after a genuine scan (no API token)",
    status_code=201,
    responses={**_PUBLIC_ERRORS, **CONFLICT},
    openapi_extra=public_operation("anyone with a genuine scan's token, without an API token"),
)
def register_warranty(
    request: Request, session: SessionDep, body: WarrantyCreate
) -> WarrantyPublic:
    form = WarrantyForm(body.name, body.phone, body.purchase_date, body.shop)
    view = register(session, scan_of(request, body.token), form)
    return WarrantyPublic.model_validate(view)


@router.post(
    "/warranty/lookup",
    summary="Look a warranty up by serial and phone number (no API token; throttled)",
    responses=_LOOKUP_ERRORS,
    openapi_extra=public_operation("anyone, without an API token (throttled per client)"),
)
def lookup_warranty(request: Request, session: SessionDep, body: WarrantyLookup) -> WarrantyList:
    check_lookup_budget(request)
    views = lookup(session, body.serial, body.phone)
    return WarrantyList(items=[WarrantyPublic.model_validate(view) for view in views])


Search = Annotated[
    str | None,
    Query(max_length=40, description="A serial (grouped or not) or a phone number."),
]


@owner_router.get(
    "/warranty/registrations", summary="The organization's warranty registrations, newest first"
)
def registrations(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    q: Search = None,
    before: Before = None,
    limit: Limit = DEFAULT_LIMIT,
) -> WarrantyRegistrationPage:
    rows = list_registrations(session, actor, search=q, before=before, limit=limit + 1)
    items, next_ = page_of(rows, limit, lambda owned: owned.registration.id)
    return WarrantyRegistrationPage(items=[_owned(item) for item in items], next=next_)


def _owned(owned: OwnedRegistration) -> WarrantyRegistrationPublic:
    row = owned.registration
    return WarrantyRegistrationPublic(
        id=row.id,
        serial=row.serial,
        product_id=row.product_id,
        product=owned.product,
        gtin=owned.gtin,
        name=row.name,
        phone=row.phone,
        purchase_date=row.purchase_date,
        ends_on=row.ends_on,
        shop=row.shop,
        registered_at=row.created_at,
    )


router.include_router(owner_router)
