"""The GS1 Digital Link resolver's routes (SPEC section 6); the rules are trace/resolver.py.

`/01/…` (and the Digital Link 1.0 form `/gtin/…`) in every shape the standard allows, a
trailing slash tolerated; compressed Digital Links as one path segment at the root (a late
route, so no page is shadowed); `/.well-known/gs1resolver`. Every answer carries CORS headers
(resolvers are read by web apps of other origins) and, once the product is known, a `Link`
header to its linkset, redirects and refusals included.

A redirect answering a GET counts one static scan. Counting is `scans`' business, which trace
does not import: web.py hands the counter over as `app.state.count_static_scan` (as it hands
trace's journey to the scan pages), and the route calls it when the resolution says so.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import unquote_plus

from anyio.to_thread import run_sync
from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from chinhhang.catalog.services import ProductPage
from chinhhang.deps import ReadSessionDep
from chinhhang.errors import DomainError, InvalidInput
from chinhhang.templating import language_of
from chinhhang.trace.compression import InvalidCompressedLink, decompress, looks_compressed
from chinhhang.trace.digital_link import DigitalLink, InvalidDigitalLink, parse
from chinhhang.trace.links import LINKSET_MEDIA_TYPE, linkset_header
from chinhhang.trace.resolver import Ask, Resolution, description, linkset_url, resolve, root_of
from chinhhang.web_headers import NO_STORE

router = APIRouter(include_in_schema=False)
# Routes that must come after every other (web.py appends them last).
late_routes: list[BaseRoute] = []

ALLOW = "GET, HEAD, OPTIONS"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": ALLOW,
    "Access-Control-Allow-Headers": "Accept, Accept-Language",
    "Access-Control-Expose-Headers": "Link, Location",
}
# The parser wants a whole URI; the host is not the resolver's business (the request reached
# it), so any well-formed one does.
_ANY_HOST = "https://resolver"
# Lets a client turn the JSON linkset into JSON-LD (GS1-Conformant Resolver 1.2 artefacts).
_LINKSET_CONTEXT = (
    "<https://ref.gs1.org/standards/resolver/linkset-context>; "
    'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)


class StaticScanCounter(Protocol):
    """web.py's `app.state.count_static_scan`: counts one scan of a printed code (previews
    excepted, which it recognises by the user agent) and says whether it did."""

    def __call__(
        self, page: ProductPage, *, user_agent: str | None, client_address: str | None
    ) -> bool: ...


def _asked(request: Request) -> str:
    """The path and query as the client sent them, still percent-encoded, so the parser sees
    the values exactly (an encoded slash or NUL included). One trailing slash is tolerated."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1")
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    query = request.scope.get("query_string", b"").decode("latin-1")
    return path + (f"?{query}" if query else "")


def _parsed(path_and_query: str) -> DigitalLink:
    try:
        return parse(_ANY_HOST + path_and_query)
    except InvalidDigitalLink as error:
        raise InvalidInput(error.message, **error.values) from error


def _ask(request: Request, link: DigitalLink) -> Ask:
    accept = request.headers.get("accept", "")
    return Ask(
        link=link,
        base_url=request.app.state.settings.base_url,
        lang=language_of(request),
        link_type=next((value for key, value in link.extra if key == "linkType"), None),
        wants_linkset=LINKSET_MEDIA_TYPE in accept,
        method=request.method,
    )


def _resolve_and_count(
    session: Session, ask: Ask, count: StaticScanCounter, request: Request
) -> Resolution:
    """resolve(), then the scan counted when the answer is one (a redirect to a GET), in the
    same worker thread, so a counted scan is written before its answer is sent."""
    resolution = resolve(session, ask)
    if resolution.counts and resolution.page is not None:
        count(
            resolution.page,
            user_agent=request.headers.get("user-agent"),
            client_address=request.client.host if request.client else None,
        )
    return resolution


async def _error(request: Request, error: DomainError, headers: dict[str, str]) -> Response:
    """The app's own error answer (web.py: a translated page, or JSON for API clients) with
    the resolver's headers added, which a raised error could not carry."""
    handler: Any = request.app.exception_handlers.get(DomainError)
    if handler is None:  # pragma: no cover - web.py always installs it
        raise error
    response: Response = await handler(request, error)
    # The error page's own Vary (it depends on the cookie too) stays.
    response.headers.update({k: v for k, v in headers.items() if k != "Vary"})
    return response


def _answer(request: Request, resolution: Resolution, headers: dict[str, str]) -> Response:
    if resolution.linkset is not None:
        accept = request.headers.get("accept", "")
        # A client that asked for plain JSON (and not the linkset type) gets plain JSON.
        media_type = (
            "application/json"
            if "application/json" in accept and LINKSET_MEDIA_TYPE not in accept
            else LINKSET_MEDIA_TYPE
        )
        headers["Link"] += f", {_LINKSET_CONTEXT}"
        return JSONResponse(resolution.linkset, headers=headers, media_type=media_type)
    assert resolution.target is not None  # noqa: S101 - a resolution is a redirect or a linkset
    return RedirectResponse(resolution.target, status_code=307, headers=headers)


async def _resolve(
    request: Request, session: ReadSessionDep, asked: str, same_as: str | None = None
) -> Response:
    if request.method == "OPTIONS":  # a CORS preflight: what may be asked, nothing looked up
        return Response(status_code=204, headers={**CORS, "Allow": ALLOW})
    headers = {**CORS, **NO_STORE, "Vary": "Accept, Accept-Language"}
    same = [f'<{same_as}>; rel="owl:sameAs"'] if same_as else []
    if same:
        headers["Link"] = same[0]
    try:
        link = _parsed(asked)
    except InvalidInput as error:
        return await _error(request, error, headers)
    url = linkset_url(request.app.state.settings.base_url, link)
    known = {**headers, "Link": ", ".join([linkset_header(url), *same])}
    count: StaticScanCounter = request.app.state.count_static_scan
    resolution = await run_sync(_resolve_and_count, session, _ask(request, link), count, request)
    if resolution.error is not None:
        return await _error(request, resolution.error, known if resolution.known else headers)
    return _answer(request, resolution, known)


@router.api_route("/01/{rest:path}", methods=["GET", "HEAD", "OPTIONS"])
# Digital Link 1.0's short name, which the parser still reads (`/gtin/…/ser/…`).
@router.api_route("/gtin/{rest:path}", methods=["GET", "HEAD", "OPTIONS"])
async def resolve_digital_link(rest: str, request: Request, session: ReadSessionDep) -> Response:
    del rest  # the raw path is read instead: it keeps the values' percent-encoding
    return await _resolve(request, session, _asked(request))


@router.api_route("/.well-known/gs1resolver", methods=["GET", "HEAD"])
def resolver_description(request: Request) -> JSONResponse:
    return JSONResponse(description(request.app.state.settings.base_url), headers=CORS)


_DECODED = "chinhhang.uncompressed"


class CompressedRoute(APIRoute):
    """Matches a root segment only when it decodes as a compressed Digital Link (or as one
    whose link is malformed, to be refused with the reason): any other `/{word}` stays the
    router's ordinary 404 or 405, as if this route did not exist. The decoding is kept in the
    scope for the endpoint."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is Match.NONE:
            return match, child
        segment = str(child["path_params"]["segment"])
        if not looks_compressed(segment):
            return Match.NONE, {}
        try:
            decoded: str | InvalidInput = decompress(segment)
        except InvalidCompressedLink as error:
            cause = error.__cause__
            if not isinstance(cause, InvalidDigitalLink):
                return Match.NONE, {}
            decoded = InvalidInput(cause.message, **cause.values)
        return match, {**child, _DECODED: decoded}


_late = APIRouter(include_in_schema=False, route_class=CompressedRoute)


@_late.api_route("/{segment}", methods=["GET", "HEAD", "OPTIONS"])
async def compressed_digital_link(
    segment: str, request: Request, session: ReadSessionDep
) -> Response:
    """A compressed Digital Link is resolved as the link it stands for, and the answer names
    that link (`Link: <…>; rel="owl:sameAs"`); the request's own query (`linkType`) applies."""
    del segment  # decoded by CompressedRoute
    decoded: str | InvalidInput = request.scope[_DECODED]
    if isinstance(decoded, InvalidInput):
        return await _error(request, decoded, dict(CORS))
    same_as = root_of(request.app.state.settings.base_url) + decoded
    query = request.scope.get("query_string", b"").decode("latin-1")
    return await _resolve(request, session, with_request_query(decoded, query), same_as)


def with_request_query(decoded: str, query: str) -> str:
    """The decoded link (`/01/…?17=…&linkType=gs1:pip`) with the request's own query
    (`linkType=linkset`). The request's pairs win: a key it gives drops the decoded link's
    pairs of that key (every key, AIs included), since the resolver reads the first
    `linkType` and refuses an AI given twice. Both sides stay as encoded, for the parser."""
    if not query:
        return decoded
    path, _, inner = decoded.partition("?")
    asked = {_query_key(item) for item in query.split("&") if item}
    kept = [item for item in inner.split("&") if item and _query_key(item) not in asked]
    return f"{path}?{'&'.join([*kept, query])}"


def _query_key(item: str) -> str:
    return unquote_plus(item.split("=", 1)[0])


late_routes.extend(_late.routes)
