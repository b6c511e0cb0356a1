"""The composition root: builds the app from settings. Wiring only, no rules."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles

from chinhhang.config import Settings, derive_key
from chinhhang.db import make_engine, make_read_sessionmaker, make_sessionmaker
from chinhhang.errors import DomainError
from chinhhang.i18n import N_, translator
from chinhhang.scans import views as scan_views
from chinhhang.scans.services import Scanner
from chinhhang.scans.store import ScanStore
from chinhhang.scans.throttle import Throttle
from chinhhang.templating import Pages, language_of, pages_of

log = logging.getLogger("chinhhang")
STATIC_DIR = Path(__file__).parent / "static"
# Allocations between young-generation collections (CPython's default is 700); requests make
# little cyclic garbage, so collecting less often costs little memory and saves time.
GC_THRESHOLD = 20_000
# PostgreSQL connections per worker for scans (the thread pool runs up to 40 at once).
SCAN_POOL_SIZE = 20


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings)
    # The scan store's own pool, without a ping per checkout (a round trip per scan): a
    # connection that failed is dropped by the store instead (ScanStore._connection).
    # A fixed pool: overflow connections are closed on return, and reconnecting under load
    # cost more than the scans. Threads beyond it wait for a connection.
    scan_engine = make_engine(
        settings, pool_pre_ping=False, pool_recycle=300, pool_size=SCAN_POOL_SIZE, max_overflow=0
    )
    store = ScanStore(scan_engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything built at start-up lives as long as the process. Freezing it keeps the
        # cyclic collector from walking those objects again and again: its full collections
        # were the scan path's worst latency (p99 ~100 ms, docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, 20, 50)
        yield
        store.close()
        scan_engine.dispose()
        engine.dispose()

    app = FastAPI(
        title="Chính Hãng",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.read_sessions = make_read_sessionmaker(engine)
    app.state.pages = Pages()
    app.state.throttle = Throttle(settings.scan_rate_limit, settings.redis_url)
    app.state.scanner = Scanner(
        store, settings.keyring, derive_key(settings.secret, "grace-cookie")
    )

    # The scan routes first: the router tries routes in order and these are the hot path.
    app.router.routes[0:0] = scan_views.routes
    app.include_router(scan_views.router)
    app.add_api_route("/", home, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route("/healthz", healthz, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_error_pages(app)
    return app


def home(request: Request) -> Response:
    return pages_of(request).render_fixed(request, "home.html")


def healthz(request: Request) -> Response:
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy", not a 500
        log.exception("health check failed")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _install_error_pages(app: FastAPI) -> None:
    def answer(request: Request, status: int, message: str, values: dict[str, object]) -> Response:
        gettext = translator(language_of(request))
        text_ = gettext(message, **values)
        if "application/json" in request.headers.get("accept", "") or request.url.path.startswith(
            "/api/"
        ):
            return JSONResponse({"error": {"code": str(status), "message": text_}}, status)
        return pages_of(request).render(
            request, "errors/error.html", {"status": status, "message": text_}, status
        )

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        return answer(request, error.status_code, error.message, error.values)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        messages = {
            404: N_("This page does not exist."),
            405: N_("This address does not accept that kind of request."),
        }
        message = messages.get(error.status_code, N_("The request could not be handled."))
        return answer(request, error.status_code, message, {})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, _error: RequestValidationError) -> Response:
        return answer(request, 400, N_("The request is not valid."), {})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, _error: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return answer(request, 500, N_("Something went wrong on our side. Please try again."), {})
