"""Shopper-facing scan pages: static product codes and the typed-code form.

The dynamic `/v/{code}` endpoint itself lives in scans/dynamic.py (the hot path).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from chinhhang.deps import PagesDep, ReadSessionDep
from chinhhang.errors import NotFound
from chinhhang.i18n import N_
from chinhhang.scans.dynamic import DynamicScan
from chinhhang.scans.services import (
    static_scan,
)
from chinhhang.stamps.codes import InvalidCode, normalise
from chinhhang.templating import language_of, pages_of

NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


async def check_code(request: Request) -> Response:
    """The home page's form: a shopper types the code printed under the scratch-off layer."""
    text = request.query_params.get("code", "").strip()
    lang = language_of(request)
    if not text:  # an empty form is not a fake product: back to the form
        return RedirectResponse(f"/?lang={lang}", status_code=303)
    try:
        code = normalise(text)
    except InvalidCode:
        return pages_of(request).render_fixed(request, "scans/unknown.html", 404, dict(NO_STORE))
    return RedirectResponse(f"/v/{code}?lang={lang}", status_code=303)


_dynamic_scan = DynamicScan()
routes = [
    Route("/v/{code:path}", _dynamic_scan, methods=["GET", "HEAD", "POST"]),
    # The QR form of the URL is upper case (alphanumeric mode gives a smaller symbol).
    Route("/V/{code:path}", _dynamic_scan, methods=["GET", "HEAD", "POST"]),
    Route("/check", check_code, methods=["GET"]),
]


router = APIRouter(include_in_schema=False)


def _product_page(
    request: Request, session: ReadSessionDep, pages: PagesDep, **where: Any
) -> Response:
    page = static_scan(
        session,
        request.app.state.scanner.store,
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
    gtin: str, request: Request, session: ReadSessionDep, pages: PagesDep
) -> Response:
    return _product_page(request, session, pages, gtin=gtin)


@router.api_route("/01/{gtin}/10/{lot}", methods=["GET", "HEAD"])
def product_lot_page(
    gtin: str, lot: str, request: Request, session: ReadSessionDep, pages: PagesDep
) -> Response:
    return _product_page(request, session, pages, gtin=gtin, lot=lot)


@router.api_route("/p/{product_id}", methods=["GET", "HEAD"])
# Upper case too: printed QR codes carry `/P/…`, which packs into QR's alphanumeric mode.
@router.api_route("/P/{product_id}", methods=["GET", "HEAD"], include_in_schema=False)
def product_page(
    product_id: str, request: Request, session: ReadSessionDep, pages: PagesDep
) -> Response:
    if not product_id.isascii() or not product_id.isdigit() or len(product_id) > 18:
        raise NotFound(N_("No such product."))
    return _product_page(request, session, pages, product_id=int(product_id))
