"""What the EPCIS routes share: who is asking, refusals as RFC 7807 problems, the GS1 headers.

The EPCIS REST binding answers every refusal with `application/problem+json` and every
response with the `GS1-EPCIS-Version` and `GS1-CBV-Version` headers. The app's error pages
(web.py) answer HTML outside /api/, so these routes answer their own errors: `EpcisRoute`
turns a DomainError, a missing token or a malformed parameter into a problem, translated like
every other message. That happens before the request's unit of work ends, which then commits;
a capture therefore writes in a savepoint (capture.py), so a refused one leaves nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import JSONResponse, Response

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.roles import PERMISSIONS
from chinhhang.accounts.services import require
from chinhhang.accounts.services.access import PLATFORM_ADMIN_ACTIONS
from chinhhang.api_support import permissions_of
from chinhhang.deps import (
    SESSION_COOKIE,
    Requires,
    SessionDep,
    api_actor,
    signed_in_user,
)
from chinhhang.errors import DomainError
from chinhhang.i18n import N_, translator
from chinhhang.templating import language_of
from chinhhang.trace.epcis.capture import MAX_BYTES, MAX_EVENTS, too_large_body
from chinhhang.trace.epcis.schemas import Problem

VERSION_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
LD_JSON = "application/ld+json"
DOCUMENT_TYPES = frozenset({"application/json", LD_JSON})
CAPTURE_HEADERS = {
    "GS1-EPCIS-Capture-Limit": str(MAX_EVENTS),
    "GS1-EPCIS-Capture-File-Size-Limit": str(MAX_BYTES),
    "GS1-Capture-Error-Behaviour": "rollback",
}


class AsciiJSON(JSONResponse):
    """JSON with every non-ASCII character escaped: captured text may hold lone surrogates
    (valid in JSON text, not encodable as UTF-8), which must come back as they came in."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode()


class LdJSON(AsciiJSON):
    media_type = LD_JSON


class EpcisRequires(Requires):
    """`Requires` for /epcis: an API token (`Authorization: Bearer …`), or for reading, the
    portal's session. Writing takes a token only, so no other site can make a signed-in
    browser capture events."""

    def __call__(self, request: Request, session: SessionDep) -> Actor:
        reading = request.method in ("GET", "HEAD")
        if reading and "authorization" not in request.headers and SESSION_COOKIE in request.cookies:
            actor = signed_in_user(request, session).actor
        else:
            actor = api_actor(request, session)
        if self.action in PLATFORM_ADMIN_ACTIONS and actor.platform_admin and actor.org_id is None:
            return actor
        require(session, actor, self.action)
        return actor


_PROBLEM_TYPES = {
    401: "SecurityException",
    403: "SecurityException",
    404: "NoSuchNameException",
    413: "CaptureLimitExceededException",
    503: "ImplementationException",
}


def problem(
    request: Request,
    status: int,
    message: str,
    values: dict[str, Any],
    problems: list[str] | None = None,
) -> Response:
    """An RFC 7807 answer: `title` translated, `errors` each naming a field."""
    kind = _PROBLEM_TYPES.get(status, "ValidationException")
    if status == 400 and request.method == "GET":
        kind = "QueryParameterException"
    body: dict[str, Any] = {
        "type": f"epcisException:{kind}",
        "title": translator(language_of(request))(message, **values),
        "status": status,
    }
    if problems:
        body["detail"] = "; ".join(problems)
        body["errors"] = problems
    response = AsciiJSON(body, status, media_type="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if status == 413:
        response.headers.update(CAPTURE_HEADERS)
    return response


def _invalid_request(request: Request, error: RequestValidationError) -> Response:
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    detail = f"{where or 'request'}: {first.get('msg', 'invalid')}"[:200]
    return problem(request, 400, N_("The request is not valid: %(detail)s"), {"detail": detail})


class EpcisRoute(APIRoute):
    """A route of the EPCIS interface: its `Requires` (at most one) published as
    x-permission, refusals answered as problems, the GS1 version headers on every answer."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        actions = permissions_of(self.dependant)
        if len(actions) > 1:
            raise TypeError(f"EPCIS route {path} has more than one Requires: {actions}")
        if actions:
            self.openapi_extra = {
                **(self.openapi_extra or {}),
                "x-permission": actions[0],
                "x-permission-description": PERMISSIONS[actions[0]].description,
            }

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except DomainError as error:  # LoginRequired too: 401, not the portal's login page
                found = getattr(error, "problems", None)
                response = problem(request, error.status_code, error.message, error.values, found)
            except RequestValidationError as error:
                response = _invalid_request(request, error)
            response.headers.update(VERSION_HEADERS)
            return response

        return answer


class UnsupportedMediaType(DomainError):
    status_code = 415


async def document_body(request: Request) -> bytes:
    """The request's JSON body, read no further than a capture takes (413 past it)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in DOCUMENT_TYPES:
        raise UnsupportedMediaType(
            N_("Send the EPCIS document as application/ld+json or application/json.")
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise too_large_body()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise too_large_body()
        chunks.append(chunk)
    return b"".join(chunks)


# --- The OpenAPI document ------------------------------------------------------------------

_PROBLEM_SCHEMA = Problem.model_json_schema()
_DESCRIPTIONS = {
    400: "Bad input; nothing was stored. `errors` names each faulty field.",
    401: "No API token (or portal session), or a revoked one.",
    403: "The role or kind of organization may not do this (or it awaits approval).",
    404: "No such thing, or another organization's.",
    409: "An eventID was captured before; nothing was stored.",
    413: f"More than {MAX_EVENTS} events or {MAX_BYTES // 2**20} MB; nothing was stored.",
    415: "The body is not application/ld+json or application/json.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these refusals."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}},
        }
        for status in statuses
    }
