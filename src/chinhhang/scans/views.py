"""Shopper-facing scan pages: static product codes and the typed-code form.

The dynamic `/v/{code}` endpoint itself lives in scans/dynamic.py (the hot path).
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from chinhhang.catalog.promotions import current_promotions
from chinhhang.catalog.services import static_product
from chinhhang.deps import read_session
from chinhhang.errors import NotFound
from chinhhang.i18n import N_
from chinhhang.scans.dynamic import DynamicScan
from chinhhang.scans.page_cache import PageCache, StaticPage
from chinhhang.scans.services import count_static_view_soon
from chinhhang.scans.sql import StaticView
from chinhhang.stamps.codes import InvalidCode, normalise
from chinhhang.templating import language_of, pages_of
from chinhhang.web_headers import NO_STORE


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


async def _product_page(request: Request, product_id: str, *, printed: bool) -> Response:
    """A printed code's page counts the scan and follows the maker's redirect choice; the
    page the resolver sends people to does neither (the resolver did both). The page itself
    is the same for every shopper, so it is built once per language and query and kept a few
    seconds (scans/page_cache.py); the scan is counted every time, on the event loop, so a
    burst on one printed code costs no thread of the pool (and no ORM session) per scan."""
    if not product_id.isascii() or not product_id.isdigit() or len(product_id) > 18:
        raise NotFound(N_("No such product."))
    key = (printed, int(product_id), language_of(request), request.url.query)
    page = await _page_cache(request).page(
        key, partial(_build_product_page, request, int(product_id), printed)
    )
    if printed and request.method != "HEAD":
        await count_static_view_soon(
            request.app.state.scanner.store,
            page.view,
            user_agent=request.headers.get("user-agent"),
            client_address=request.client.host if request.client else None,
        )
    if printed and page.redirect_to:
        return RedirectResponse(page.redirect_to, status_code=307)
    return Response(page.body, headers=dict(page.headers))


def _build_product_page(request: Request, product_id: int, printed: bool) -> StaticPage:
    """In the thread pool, on a cache miss: the only part of the page that opens a session."""
    with read_session(request) as session:
        return _render_product_page(request, session, product_id, printed=printed)


def _render_product_page(
    request: Request, session: Session, product_id: int, *, printed: bool
) -> StaticPage:
    lot = request.query_params.get("lot") or None
    page = static_product(session, product_id=product_id, lot=lot)
    view = StaticView(page.product.id, page.batch.id if page.batch else None, page.product.org_id)
    if printed and page.redirect_to:
        return StaticPage(view, page.redirect_to, b"", ())
    # The lot's journey comes from trace, which scans may not import: web.py hands it over.
    journey_of_lot = getattr(request.app.state, "journey_of_lot", None)
    journey = (
        journey_of_lot(session, page.product.id, page.batch.id if page.batch else None)
        if journey_of_lot
        else None
    )
    response = pages_of(request).render(
        request,
        "catalog/product.html",
        # The language link keeps the lot: Pages.render keeps the query but for `lang`.
        {
            "page": page,
            "journey": journey,
            "promotions": current_promotions(session, page.product.id),
        },
    )
    headers = tuple(
        (name, value) for name, value in response.headers.items() if name != "content-length"
    )
    return StaticPage(view, None, bytes(response.body), headers)


def _page_cache(request: Request) -> PageCache:
    """One per app (each app has its own database)."""
    state = request.app.state
    cache: PageCache | None = getattr(state, "static_pages", None)
    if cache is None:
        cache = state.static_pages = PageCache()
    return cache


@router.api_route("/p/{product_id}", methods=["GET", "HEAD"])
# Upper case too: printed QR codes carry `/P/…`, which packs into QR's alphanumeric mode.
@router.api_route("/P/{product_id}", methods=["GET", "HEAD"], include_in_schema=False)
async def product_page(product_id: str, request: Request) -> Response:
    """The printed static code of a product without a GTIN (`?lot=` for one lot): counts."""
    return await _product_page(request, product_id, printed=True)


@router.api_route("/product/{product_id}", methods=["GET", "HEAD"])
async def resolved_product_page(product_id: str, request: Request) -> Response:
    """The platform's product page, where the GS1 resolver (`/01/…`) sends people: it counts
    nothing (the resolver counted the scan when it redirected; one scan counts once) and never
    redirects to the maker's page (it is the `gs1:pip` link the linkset offers beside it)."""
    return await _product_page(request, product_id, printed=False)
