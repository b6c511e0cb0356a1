"""The EPCIS 2.0 REST interface under /epcis: capture and query (docs/traceability.md).

Paths, parameters, status codes and headers are the EPCIS 2.0 REST binding's: `POST /capture`
answers 202 with the capture job's Location; `POST /events` captures one event; `GET /events`
takes the standard query parameters and pages with `perPage` and `nextPageToken`, the next
page's address in a `Link: <…>; rel="next"` header. Routes parse and render only; capture.py
and query.py hold the rules.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.api_support import bearer
from chinhhang.db import utcnow
from chinhhang.deps import SessionDep, SettingsDep
from chinhhang.forms import MAX_BIG_ID
from chinhhang.trace.epcis.answer import query_document
from chinhhang.trace.epcis.capture import capture, capture_event, capture_job, list_captures
from chinhhang.trace.epcis.http import (
    CAPTURE_HEADERS,
    DOCUMENT_TYPES,
    LD_JSON,
    AsciiJSON,
    EpcisRequires,
    EpcisRoute,
    LdJSON,
    document_body,
    problems,
)
from chinhhang.trace.epcis.params import (
    DEFAULT_PER_PAGE,
    LISTS,
    MAX_PER_PAGE,
    PAGE_TOKEN,
    PER_PAGE,
    TIMES,
    encode_token,
    parse_query,
)
from chinhhang.trace.epcis.query import event_by_id, find_events
from chinhhang.trace.epcis.schemas import CaptureJob, EventCaptured


class _AnyText(PathConvertor):
    """An eventID in the path: any text, slashes (`ni:///…`) and line breaks included, so that
    no decoded id misses the route and gets the HTML 404 page instead of a problem."""

    regex = r"[\s\S]+"


register_url_convertor("eventid", _AnyText())

router = APIRouter(
    prefix="/epcis", tags=["EPCIS"], route_class=EpcisRoute, dependencies=[Depends(bearer)]
)

Capturer = Annotated[Actor, Depends(EpcisRequires("capture_events"))]
Viewer = Annotated[Actor, Depends(EpcisRequires("view"))]
DocumentBody = Annotated[bytes, Depends(document_body)]
PerPage = Annotated[
    int, Query(alias=PER_PAGE, ge=1, le=MAX_PER_PAGE, description="Items per page.")
]

_DOCUMENT = {"type": "object", "description": "An EPCIS 2.0 document or event (JSON-LD)."}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {media_type: {"schema": _DOCUMENT} for media_type in sorted(DOCUMENT_TYPES)},
    }
}
_QUERY_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An EPCISQueryDocument: the events in `epcisBody.queryResults."
        'resultsBody.eventList`, oldest first; a `Link: <…>; rel="next"` header when more '
        "follow.",
        "content": {LD_JSON: {"schema": _DOCUMENT}, "application/json": {"schema": _DOCUMENT}},
    }
}


def _documented_parameters() -> list[dict[str, Any]]:
    """The query parameters, documented from the one table that parses them (params.py)."""
    listed = [
        {"name": name, "in": "query", "description": text, "schema": {"type": "string"}}
        for name, (_, text) in {**LISTS, **TIMES}.items()
    ]
    return [
        *listed,
        {
            "name": PER_PAGE,
            "in": "query",
            "description": f"Events per page (default {DEFAULT_PER_PAGE}).",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        },
        {
            "name": PAGE_TOKEN,
            "in": "query",
            "description": "From the previous page's Link header.",
            "schema": {"type": "string"},
        },
    ]


def _ld(request: Request, document: dict[str, Any]) -> Response:
    """JSON-LD, or plain JSON for a client that asks only for application/json."""
    accept = request.headers.get("accept", "")
    if "application/json" in accept and LD_JSON not in accept:
        return AsciiJSON(document)
    return LdJSON(document)


def _next_link(response: Response, request: Request, base_url: str, token: str | None) -> None:
    if token is not None:
        query = request.url.include_query_params(**{PAGE_TOKEN: token}).query
        response.headers["Link"] = f'<{base_url}{request.url.path}?{query}>; rel="next"'


# --- Capture -------------------------------------------------------------------------------


@router.post(
    "/capture",
    summary="Capture an EPCIS document (all events or none)",
    status_code=202,
    openapi_extra=_BODY,
    responses=problems(400, 401, 403, 409, 413, 415),
)
def capture_document(
    response: Response, session: SessionDep, actor: Capturer, body: DocumentBody
) -> CaptureJob:
    job = capture(session, actor, body)
    response.headers["Location"] = f"/epcis/capture/{job.id}"
    return CaptureJob.of(job)


@router.get(
    "/capture",
    summary="The organization's captures, newest first",
    response_model=list[CaptureJob],
    responses=problems(400, 401, 403),
)
def captures(
    request: Request,
    session: SessionDep,
    actor: Viewer,
    settings: SettingsDep,
    per_page: PerPage = DEFAULT_PER_PAGE,
    next_page_token: Annotated[
        int | None, Query(alias=PAGE_TOKEN, ge=1, le=MAX_BIG_ID, description="From Link.")
    ] = None,
) -> Response:
    jobs = list_captures(session, actor, before=next_page_token, limit=per_page + 1)
    shown = [CaptureJob.of(job) for job in jobs[:per_page]]
    answer = AsciiJSON([job.model_dump(mode="json", by_alias=True) for job in shown])
    more = len(jobs) > per_page
    _next_link(answer, request, settings.base_url, shown[-1].capture_id if more else None)
    return answer


@router.get(
    "/capture/{capture_id}",
    summary="A capture job",
    responses=problems(400, 401, 403, 404),
)
def capture_status(
    session: SessionDep,
    actor: Viewer,
    capture_id: Annotated[int, Path(ge=1, le=MAX_BIG_ID)],
) -> CaptureJob:
    return CaptureJob.of(capture_job(session, actor, capture_id))


# Discovery (OPTIONS, GET /epcis) needs no token and is described by the standard, not by
# this API's document, which lists operations that need a permission.
@router.options("/capture", summary="What capture takes", status_code=204, include_in_schema=False)
def capture_options() -> Response:
    return Response(status_code=204, headers={"Allow": "OPTIONS, GET, POST", **CAPTURE_HEADERS})


# --- Events --------------------------------------------------------------------------------


@router.post(
    "/events",
    summary="Capture one event",
    status_code=201,
    openapi_extra=_BODY,
    responses=problems(400, 401, 403, 409, 413, 415),
)
def capture_one(
    response: Response, session: SessionDep, actor: Capturer, body: DocumentBody
) -> EventCaptured:
    job, event_id = capture_event(session, actor, body)
    response.headers["Location"] = f"/epcis/events/{quote(event_id, safe='')}"
    return EventCaptured(capture_id=str(job.id), event_id=event_id)


@router.get(
    "/events",
    summary="Query events (EPCIS 2.0 query parameters)",
    openapi_extra={"parameters": _documented_parameters()},
    response_class=LdJSON,
    responses={**_QUERY_ANSWER, **problems(400, 401, 403)},
)
def events(request: Request, session: SessionDep, actor: Viewer, settings: SettingsDep) -> Response:
    wanted = parse_query(request.query_params.multi_items())
    page = find_events(session, actor, wanted, base_url=settings.base_url)
    response = _ld(request, query_document(page.events, utcnow()))
    token = encode_token(page.next_key) if page.next_key is not None else None
    _next_link(response, request, settings.base_url, token)
    return response


@router.get(
    "/events/{event_id:eventid}",
    summary="One event, by its URL-encoded eventID",
    response_class=LdJSON,
    responses={**_QUERY_ANSWER, **problems(400, 401, 403, 404)},
)
def event(
    request: Request,
    session: SessionDep,
    actor: Viewer,
    settings: SettingsDep,
    event_id: Annotated[str, Path(min_length=1, max_length=2000)],
) -> Response:
    found = event_by_id(session, actor, event_id, base_url=settings.base_url)
    return _ld(request, query_document([found], utcnow()))


@router.options(
    "/events",
    summary="What the events resource takes",
    status_code=204,
    include_in_schema=False,
)
def events_options() -> Response:
    return Response(status_code=204, headers={"Allow": "OPTIONS, GET, POST"})


# --- Discovery -----------------------------------------------------------------------------


@router.get("", summary="The resources of this EPCIS interface", include_in_schema=False)
def resources() -> list[str]:
    return ["capture", "events"]


@router.options(
    "",
    summary="The EPCIS and CBV versions spoken here",
    status_code=204,
    include_in_schema=False,
)
def options() -> Response:
    versions = {
        f"GS1-{name}-{bound}": "2.0.0" for name in ("EPCIS", "CBV") for bound in ("Min", "Max")
    }
    return Response(status_code=204, headers={"Allow": "OPTIONS, GET", **versions})
