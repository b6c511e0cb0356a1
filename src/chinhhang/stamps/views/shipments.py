"""Shipments in the portal: the incoming and outgoing lists, shipping stamps, receiving them."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import list_organizations
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError, InvalidInput
from chinhhang.forms import IdPath, LongText, ShortText, optional_id
from chinhhang.i18n import N_
from chinhhang.portal import error_text, portal_page, see_other
from chinhhang.stamps.models import IN_TRANSIT
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import (
    Selection,
    list_runs,
    list_shipments,
    list_stamps,
    organization_names,
    receive,
    receivers,
    ship,
    shipment_with_ranges,
)

router = APIRouter(include_in_schema=False)
PAGE = 50
RUN_CHOICES = 200
Viewer = Annotated[Actor, Depends(Requires("view"))]
Shipper = Annotated[Actor, Depends(Requires("ship_stamps"))]
Receiver = Annotated[Actor, Depends(Requires("receive_stamps"))]


@router.get("/shipments")
def shipments_page(request: Request, session: SessionDep, actor: Viewer) -> Response:
    incoming = list_shipments(session, actor, direction="incoming", limit=PAGE)
    outgoing = list_shipments(session, actor, direction="outgoing", limit=PAGE)
    ids = {s.from_org_id for s in incoming} | {s.to_org_id for s in outgoing}
    context = {
        "incoming": incoming,
        "outgoing": outgoing,
        "names": organization_names(session, ids),
    }
    return portal_page(request, "stamps/shipments.html", context)


def _new_shipment_page(
    request: Request,
    session: Session,
    actor: Actor,
    form: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    organizations = list_organizations(session, actor)
    context = {
        "form": form,
        "error": error,
        "receivers": receivers(session, actor),
        "issuers": [o for o in organizations if o.kind == "manufacturer"],
        "runs": list_runs(session, actor, limit=RUN_CHOICES),
    }
    return portal_page(request, "stamps/shipment_new.html", context, status_code=status_code)


@router.get("/shipments/new")
def new_shipment_form(request: Request, session: SessionDep, actor: Shipper) -> Response:
    return _new_shipment_page(request, session, actor, {"scope": "serials"})


@router.post("/shipments/new", dependencies=[CsrfDep])
def new_shipment(
    request: Request,
    session: SessionDep,
    actor: Shipper,
    to_org_id: ShortText = "",
    scope: ShortText = "serials",
    run_id: ShortText = "",
    serials: LongText = "",
    issuer_org_id: ShortText = "",
    reference: ShortText = "",
) -> Response:
    form = {
        "to_org_id": to_org_id,
        "scope": scope,
        "run_id": run_id,
        "serials": serials,
        "issuer_org_id": issuer_org_id,
        "reference": reference,
    }
    try:
        with session.begin_nested():
            receiver = optional_id(to_org_id)
            if receiver is None:
                raise InvalidInput(N_("Choose who receives the stamps."))
            by_run = scope == "run"
            selection = Selection.parse(
                run_id=optional_id(run_id) if by_run else None,
                serials=None if by_run else serials,
                issuer_org_id=optional_id(issuer_org_id),
            )
            shipment = ship(
                session, actor, to_org_id=receiver, selection=selection, reference=reference
            )
    except DomainError as error:
        text = error_text(request, error)
        return _new_shipment_page(request, session, actor, form, text, error.status_code)
    return see_other(f"/portal/shipments/{shipment.id}?note=shipped")


def _shipment_page(
    request: Request,
    session: Session,
    actor: Actor,
    shipment_id: int,
    *,
    after: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    shipment, ranges = shipment_with_ranges(session, actor, shipment_id)
    stamps = list_stamps(session, actor, shipment_id=shipment.id, after=after, limit=PAGE)
    next_url = None
    if len(stamps) == PAGE:
        next_url = f"/portal/shipments/{shipment.id}?{urlencode({'after': stamps[-1].cursor})}"
    ids = {shipment.from_org_id, shipment.to_org_id, shipment.issuer_org_id}
    context: dict[str, Any] = {
        "shipment": shipment,
        "ranges": [
            (grouped(serial_for(r.first_sequence)), grouped(serial_for(r.last_sequence)))
            for r in ranges
        ],
        "stamps": stamps,
        "names": organization_names(session, ids | {row.holder_org_id for row in stamps}),
        "next_url": next_url,
        "receivable": shipment.status == IN_TRANSIT and shipment.to_org_id == actor.org_id,
        "error": error,
    }
    return portal_page(request, "stamps/shipment.html", context, status_code=status_code)


@router.get("/shipments/{shipment_id}")
def shipment_page(
    request: Request,
    session: SessionDep,
    actor: Viewer,
    shipment_id: IdPath,
    after: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    return _shipment_page(request, session, actor, shipment_id, after=after or None)


@router.post("/shipments/{shipment_id}/receive", dependencies=[CsrfDep])
def shipment_receive(
    request: Request, session: SessionDep, actor: Receiver, shipment_id: IdPath
) -> Response:
    try:
        with session.begin_nested():
            receive(session, actor, shipment_id)
    except DomainError as error:
        text = error_text(request, error)
        return _shipment_page(
            request, session, actor, shipment_id, error=text, status_code=error.status_code
        )
    return see_other(f"/portal/shipments/{shipment_id}?note=received")
