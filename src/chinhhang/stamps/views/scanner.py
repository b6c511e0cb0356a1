"""`/portal/scan`: staff read stamps with the phone's camera (or a handheld scanner, or by
typing), then look them up, receive, ship or activate the whole list in one action.

The camera and the list live in the browser (static/qr-camera.js, static/staff-scanner.js);
the list is submitted as one code per line in a plain form, so the page works without
JavaScript and with a keyboard-wedge scanner. The rules are stamps/services/scanned.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.services import list_products
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError, InvalidInput
from chinhhang.forms import ShortText, optional_id, optional_text
from chinhhang.i18n import N_
from chinhhang.portal import can, error_text, portal_page, see_other
from chinhhang.stamps.services import organization_names, receivers
from chinhhang.stamps.services.scanned import (
    MAX_SCANNED,
    URL_LIMIT,
    LineReader,
    ScannedList,
    activate_scanned,
    look_up,
    receive_scanned,
    ship_scanned,
)

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Actor, Depends(Requires("view"))]
PRODUCT_CHOICES = 500
# Twice a full list of printed addresses as a handheld scanner types them (one per line, CR LF),
# so a list somewhat too long reaches the service, which refuses it with the list kept on the
# page to be cut down; far longer (a pasted file) is refused by the form layer.
ScannedLines = Annotated[str, Form(max_length=2 * MAX_SCANNED * (URL_LIMIT + 2))]


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    form: dict[str, str],
    *,
    result: ScannedList | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    signed = getattr(request.state, "signed_in", None)
    names = organization_names(
        session, {row.holder_org_id for row in result.rows} if result else set()
    )
    context: dict[str, Any] = {
        "form": form,
        "result": result,
        "rows": result.rows if result else [],
        "names": names,
        "error": error,
        "base_url": request.app.state.settings.base_url,
        "receivers": receivers(session, actor) if can(signed, "ship_stamps") else [],
        "products": (
            list_products(session, actor, limit=PRODUCT_CHOICES)
            if can(signed, "issue_stamps")
            else []
        ),
    }
    return portal_page(request, "stamps/scanner.html", context, status_code=status_code)


@router.get("/scan")
def scanner_page(request: Request, session: SessionDep, actor: Viewer) -> Response:
    return _page(request, session, actor, {"action": "lookup", "codes": ""})


@router.post("/scan", dependencies=[CsrfDep])
def scanner_action(
    request: Request,
    session: SessionDep,
    actor: Viewer,
    action: ShortText = "lookup",
    codes: ScannedLines = "",
    to_org_id: ShortText = "",
    reference: ShortText = "",
    product_id: ShortText = "",
    lot: ShortText = "",
) -> Response:
    form = {
        "action": action,
        "codes": codes,
        "to_org_id": to_org_id,
        "reference": reference,
        "product_id": product_id,
        "lot": lot,
    }
    settings = request.app.state.settings
    reader = LineReader(settings.keyring, settings.base_url)
    try:
        with session.begin_nested():
            if action == "lookup":
                found = look_up(session, actor, reader, codes)
                return _page(request, session, actor, form, result=found)
            if action == "receive":
                received = receive_scanned(session, actor, reader, codes)
                if len(received) == 1:
                    return see_other(f"/portal/shipments/{received[0].id}?note=received")
                return see_other("/portal/shipments?note=received")
            if action == "ship":
                receiver = optional_id(to_org_id)
                if receiver is None:
                    raise InvalidInput(N_("Choose who receives the stamps."))
                shipment = ship_scanned(
                    session, actor, reader, codes, to_org_id=receiver, reference=reference
                )
                return see_other(f"/portal/shipments/{shipment.id}?note=shipped")
            if action == "activate":
                product = optional_id(product_id)
                if product is None:
                    raise InvalidInput(N_("Choose the product these stamps go on."))
                changed = activate_scanned(
                    session, actor, reader, codes, product_id=product, lot=optional_text(lot)
                )
                return see_other(f"/portal/scan?note=activated&n={changed}")
            raise InvalidInput(N_("Choose what to do with the scanned stamps."))
    except DomainError as error:
        text = error_text(request, error)
        return _page(request, session, actor, form, error=text, status_code=error.status_code)
