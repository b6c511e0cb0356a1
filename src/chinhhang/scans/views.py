"""Shopper-facing scan routes: dynamic `/v/{code}` and static product codes.

The dynamic route is a bare Starlette endpoint, not a FastAPI route: no dependency injection,
no response model, no body parsing. Those layers cost more than the database write itself
(docs/benchmarks.md). On SQLite the scan runs right on the event loop: it is a few tens of
microseconds of local I/O, and the thread pool hand-off would cost more and add queueing. On
PostgreSQL it runs in the thread pool, so network round trips overlap.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from chinhhang.deps import PagesDep, SessionDep
from chinhhang.errors import NotFound
from chinhhang.i18n import N_
from chinhhang.scans import grace
from chinhhang.scans.services import (
    GENUINE,
    PREVIEW,
    UNKNOWN,
    Scanner,
    ScanRequest,
    Verdict,
    static_scan,
)
from chinhhang.stamps.codes import InvalidCode, normalise
from chinhhang.stamps.serials import grouped
from chinhhang.templating import clock, hole, pages_of, when

NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
GRACE_COOKIE_SECONDS = 24 * 3600


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def dynamic_scan(request: Request) -> Response:
    state = request.app.state
    json_wanted = wants_json(request)
    client = request.client.host if request.client else None
    if not state.throttle.allow(client):
        return throttled(request, json_wanted)
    scan = ScanRequest(
        code_text=request.path_params["code"],
        user_agent=request.headers.get("user-agent"),
        client_address=client,
        seen_cookie=request.cookies.get(grace.COOKIE_NAME) if "cookie" in request.headers else None,
        method=request.method,
        wants_json=json_wanted,
        confirmed=request.method == "POST",
    )
    scanner: Scanner = state.scanner
    if scanner.store.runs_on_event_loop:
        verdict = scanner.scan(scan)
    else:
        verdict = await run_in_threadpool(scanner.scan, scan)
    response = _answer(request, verdict, json_wanted)
    if verdict.set_cookie:
        # Written by hand: the value is base64url, digits, ":", "~" and "." (all legal unquoted),
        # and http.cookies' general encoder is slow for the hot path.
        secure = "; Secure" if state.settings.base_url.startswith("https://") else ""
        response.headers.append(
            "set-cookie",
            f"{grace.COOKIE_NAME}={verdict.set_cookie}; Max-Age={GRACE_COOKIE_SECONDS}; "
            f"Path=/; HttpOnly; SameSite=lax{secure}",
        )
    return response


def _answer(request: Request, verdict: Verdict, json_wanted: bool) -> Response:
    status = 404 if verdict.outcome == UNKNOWN else 200
    if json_wanted:
        return JSONResponse(verdict.as_json(), status_code=status, headers=NO_STORE)
    if verdict.outcome == UNKNOWN:
        return pages_of(request).render_fixed(request, "scans/unknown.html", 404, dict(NO_STORE))
    if verdict.outcome == PREVIEW:
        context = {"verdict": verdict}
        return pages_of(request).render(request, "scans/preview.html", context, 200, NO_STORE)
    return _verdict_page(request, verdict)


def _verdict_page(request: Request, verdict: Verdict) -> Response:
    """The verdict page from a per-product skeleton: only the stamp's own values vary."""
    template = "scans/genuine.html" if verdict.outcome == GENUINE else "scans/warning.html"
    skeleton = replace(
        verdict,
        serial=hole("serial") if verdict.serial else None,
        scan_count=hole("count"),  # type: ignore[arg-type]
        scan_limit=hole("limit"),  # type: ignore[arg-type]
        first_scanned_at=hole("first") if verdict.first_scanned_at else None,  # type: ignore[arg-type]
        seen_at=hole("seen") if verdict.seen_at else None,  # type: ignore[arg-type]
    )
    key = (
        verdict.outcome,
        verdict.product["id"] if verdict.product else None,
        verdict.batch["id"] if verdict.batch else None,
        verdict.serial is not None,
        verdict.first_scanned_at is not None,
        verdict.seen_at is not None,
    )
    fills = {
        "serial": grouped(verdict.serial) if verdict.serial else "",
        "count": str(verdict.scan_count),
        "limit": str(verdict.scan_limit),
        "first": when(verdict.first_scanned_at),
        "seen": clock(verdict.seen_at),
    }
    return pages_of(request).render_skeleton(
        request, template, key, {"verdict": skeleton}, fills, 200, NO_STORE
    )


def throttled(request: Request, json_wanted: bool) -> Response:
    headers = {**NO_STORE, "Retry-After": "60"}
    if json_wanted:
        return JSONResponse(
            {"error": {"code": "throttled", "message": "Too many scans from this client."}},
            status_code=429,
            headers=headers,
        )
    return pages_of(request).render_fixed(request, "errors/throttled.html", 429, headers)


async def check_code(request: Request) -> Response:
    """The home page's form: a shopper types the code printed under the scratch-off layer."""
    text = request.query_params.get("code", "")
    try:
        code = normalise(text)
    except InvalidCode:
        return pages_of(request).render_fixed(request, "scans/unknown.html", 404, dict(NO_STORE))
    return RedirectResponse(f"/v/{code}", status_code=303)


routes = [
    Route("/v/{code:path}", dynamic_scan, methods=["GET", "HEAD", "POST"]),
    # The QR form of the URL is upper case (alphanumeric mode gives a smaller symbol).
    Route("/V/{code:path}", dynamic_scan, methods=["GET", "HEAD", "POST"]),
    Route("/check", check_code, methods=["GET"]),
]


router = APIRouter(include_in_schema=False)


def _product_page(request: Request, session: SessionDep, pages: PagesDep, **where: Any) -> Response:
    page = static_scan(
        session,
        user_agent=request.headers.get("user-agent"),
        client_address=request.client.host if request.client else None,
        count=request.method != "HEAD",
        **where,
    )
    if page.redirect_to:
        return RedirectResponse(page.redirect_to, status_code=307)
    return pages.render(request, "catalog/product.html", {"page": page})


@router.api_route("/01/{gtin}", methods=["GET", "HEAD"])
def product_by_gtin_page(
    gtin: str, request: Request, session: SessionDep, pages: PagesDep
) -> Response:
    return _product_page(request, session, pages, gtin=gtin)


@router.api_route("/01/{gtin}/10/{lot}", methods=["GET", "HEAD"])
def product_lot_page(
    gtin: str, lot: str, request: Request, session: SessionDep, pages: PagesDep
) -> Response:
    return _product_page(request, session, pages, gtin=gtin, lot=lot)


@router.api_route("/p/{product_id}", methods=["GET", "HEAD"])
def product_page(
    product_id: str, request: Request, session: SessionDep, pages: PagesDep
) -> Response:
    if not product_id.isascii() or not product_id.isdigit() or len(product_id) > 18:
        raise NotFound(N_("No such product."))
    return _product_page(request, session, pages, product_id=int(product_id))
