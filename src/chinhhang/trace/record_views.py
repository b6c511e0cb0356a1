"""A product's traceability record for exchange: EPCIS events plus master data (JSON).

The same download in the portal (a signed-in member of the product's organization) and in the
API (a token with `view`); trace/record.py makes it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from chinhhang.accounts.actor import Actor
from chinhhang.api_support import api_router
from chinhhang.deps import Requires, SessionDep, SettingsDep
from chinhhang.forms import IdPath
from chinhhang.portal import PORTAL_HEADERS
from chinhhang.trace.record import MEDIA_TYPE, plan_record, record_stream

router = APIRouter()
portal = APIRouter(prefix="/portal", include_in_schema=False)
api = api_router("catalog")
Viewer = Annotated[Actor, Depends(Requires("view"))]
DOCUMENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An EPCIS 2.0 document (JSON-LD), as an attachment: the product's "
        "events, master data for its product, lots, places and organizations, and its "
        "Circular 02/2024 data items.",
        "content": {MEDIA_TYPE: {"schema": {"type": "object"}}},
    }
}


# One function for both: the portal signs in by session, the API by token (Viewer takes
# either); the answer is the same document.
@portal.get("/products/{product_id}/traceability.json")
@api.get(
    "/products/{product_id}/traceability",
    summary="A product's traceability record: an EPCIS 2.0 document with master data",
    response_class=StreamingResponse,
    responses=DOCUMENT,
)
def record(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Viewer,
    product_id: IdPath,
) -> Response:
    plan = plan_record(session, actor, product_id, base_url=settings.base_url)
    # The events are read in a read session of their own while the download runs.
    stream = record_stream(request.app.state.read_sessions, plan)
    headers = {**PORTAL_HEADERS, "Content-Disposition": f'attachment; filename="{plan.filename}"'}
    return StreamingResponse(stream, media_type=MEDIA_TYPE, headers=headers)


router.include_router(portal)
router.include_router(api, prefix="/api/v1")
