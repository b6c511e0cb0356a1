"""The composition root: builds the app from settings. Wiring only, no rules."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import State
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from chinhhang import api_docs
from chinhhang.accounts import admin_views as account_admin_views
from chinhhang.accounts import api as account_api
from chinhhang.accounts import views as account_views
from chinhhang.alerts import api as alert_api
from chinhhang.alerts import channel_views as alert_channel_views
from chinhhang.alerts import report_api as alert_report_api
from chinhhang.alerts import report_views as alert_report_views
from chinhhang.alerts import views as alert_views
from chinhhang.alerts.worker import AlertWorker
from chinhhang.catalog import api as catalog_api
from chinhhang.catalog import promotion_views as catalog_promotion_views
from chinhhang.catalog import views as catalog_views
from chinhhang.catalog.images import MEDIA_FOLDER
from chinhhang.config import Settings, derive_key
from chinhhang.consumer import api as consumer_api
from chinhhang.consumer import views as consumer_views
from chinhhang.consumer.extras import GenuineExtras
from chinhhang.db import make_engine, make_read_sessionmaker, make_sessionmaker, session_scope
from chinhhang.deps import LoginRequired
from chinhhang.errors import DomainError
from chinhhang.i18n import N_, translator
from chinhhang.observability import wiring as observability
from chinhhang.observability.middleware import route_template
from chinhhang.portal import login_redirect
from chinhhang.printing import api as printing_api
from chinhhang.printing import views as printing_views
from chinhhang.regulator import views as regulator_views
from chinhhang.regulator.rollups import RollupWorker
from chinhhang.scans import api as scan_api
from chinhhang.scans import camera_views as scan_camera_views
from chinhhang.scans import place_views as scan_place_views
from chinhhang.scans import portal_views as scan_portal_views
from chinhhang.scans import views as scan_views
from chinhhang.scans.guessing import GuessWatch
from chinhhang.scans.services import Scanner, count_static_scan
from chinhhang.scans.store import ScanStore
from chinhhang.scans.throttle import Throttle
from chinhhang.security_headers import SecurityHeaders, security_headers
from chinhhang.stamps import api as stamp_api
from chinhhang.stamps import views as stamp_views
from chinhhang.stamps.background import RunFiller
from chinhhang.stamps.services import unfinished_runs
from chinhhang.templating import Pages, language_of, pages_of
from chinhhang.trace import journey as trace_journey
from chinhhang.trace import record_views as trace_record_views
from chinhhang.trace import views as trace_views
from chinhhang.trace.epcis import api as epcis_api
from chinhhang.trace.journey_page import GenuineJourney

log = logging.getLogger("chinhhang")
STATIC_DIR = Path(__file__).parent / "static"
# Allocations between young-generation collections (CPython's default is 700); requests make
# little cyclic garbage, so collecting less often costs little memory and saves time.
GC_THRESHOLD = 20_000
# PostgreSQL connections per worker for scans (the thread pool runs up to 40 at once).
SCAN_POOL_SIZE = 20
# Per address and per e-mail: enough for typos, too few for guessing passwords.
LOGIN_RATE_LIMIT = "10/minute"
API_PREFIX = "/api/v1"


class _AppState(State):
    """`app.state` whose attributes are also plain instance attributes.

    Starlette's State keeps them in a dictionary behind `__getattr__`, which Python calls only
    after the normal lookup has failed and raised inside: about a microsecond per read on the
    reference machine, and the scan route reads eight per scan (docs/benchmarks.md). Reads now
    find the instance attribute; writes and deletes keep both places the same."""

    def __setattr__(self, key: str, value: object) -> None:
        super().__setattr__(key, value)
        object.__setattr__(self, key, value)

    def __delattr__(self, key: str) -> None:
        super().__delattr__(key)
        object.__delattr__(self, key)

    def __setitem__(self, key: str, value: object) -> None:
        setattr(self, key, value)

    def __delitem__(self, key: str) -> None:
        delattr(self, key)


class _App(FastAPI):
    """FastAPI with the security headers (security_headers.py) as its outermost layer.

    `add_middleware` installs a layer inside Starlette's ServerErrorMiddleware, whose 500 page
    would then go out without them; wrapping the whole stack covers every answer. Starlette
    builds the stack once, at the first call (lifespan start-up), after create_app is done.
    Its `state` is an _AppState, read on every scan."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.state = _AppState()

    def build_middleware_stack(self) -> ASGIApp:
        headers = security_headers(self.state.settings.base_url)
        return SecurityHeaders(super().build_middleware_stack(), headers)


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
    sessions = make_sessionmaker(engine)
    filler = RunFiller(engine, settings.keyring_watch, sessions)
    alert_worker = AlertWorker(sessions, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _resume_unfinished_runs(sessions, filler)
        if settings.alert_worker:
            alert_worker.start()
        rollup_worker = RollupWorker.in_server(sessions, settings)
        # Everything built at start-up lives as long as the process. Freezing it keeps the
        # cyclic collector from walking those objects again and again: its full collections
        # were the scan path's worst latency (p99 ~100 ms, docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, 20, 50)
        yield
        rollup_worker.close()
        alert_worker.close()
        observability.close(_app)
        filler.close()
        await store.aclose()
        scan_engine.dispose()
        engine.dispose()

    app = _App(
        title="Chính Hãng",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry layer asks on every request whether a provider is set
        # (reading the environment): ~4 % of a forged code's CPU. The platform's metrics are
        # Prometheus (observability/); no OpenTelemetry provider is ever configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.filler = filler
    app.state.media_dir = settings.data_dir / MEDIA_FOLDER
    app.state.login_throttle = Throttle(LOGIN_RATE_LIMIT, settings.redis_url, name="login")
    app.state.read_sessions = make_read_sessionmaker(engine)
    app.state.pages = Pages()
    app.state.throttle = Throttle(settings.scan_rate_limit, settings.redis_url)
    app.state.guessing = GuessWatch(settings.guess_limit, settings.redis_url)
    app.state.scan_token_key = derive_key(settings.secret, "scan-token")
    app.state.scanner = Scanner(
        store,
        settings.keyring_watch,
        derive_key(settings.secret, "grace-cookie"),
        token_key=app.state.scan_token_key,
    )

    _include_routers(app)
    # The run's page (stamps) shows the export form of printing, which stamps cannot import.
    app.state.run_page_parts = (printing_views.run_export_part,)
    # The dashboard (scans) shows the live alert panel, which is alerts'.
    app.state.dashboard_parts = (alert_views.dashboard_part,)
    # The genuine and product pages (scans) show the journey, which is trace's.
    # The genuine page's from memory (trace/journey_page.py), the product page's per request.
    app.state.journey_of_stamp = GenuineJourney(app.state.read_sessions)
    app.state.journey_of_lot = trace_journey.lot_journey
    # And the warranty and current promotions (consumer/extras.py), also from memory mostly.
    app.state.verdict_extras = GenuineExtras(app.state.read_sessions)
    # The GS1 resolver (trace) counts its redirects as static scans, which are scans' own.
    app.state.count_static_scan = partial(count_static_scan, store)
    app.add_api_route("/", home, methods=["GET", "HEAD"], include_in_schema=False)
    # /healthz, /readyz, /metrics and the request id, metrics and access line of every request.
    observability.install(app, settings, engine)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=app.state.media_dir), name="media")
    # Last: compressed Digital Links are one path segment, which must not shadow any page.
    app.router.routes.extend(trace_views.late_routes)
    _install_error_pages(app)
    return app


def _include_routers(app: FastAPI) -> None:
    # The scan routes first: the router tries routes in order and these are the hot path.
    app.router.routes[0:0] = scan_views.routes
    app.include_router(scan_views.router)
    # The GS1 resolver (`/01/…`) and the EPCIS interface keep the standards' own paths.
    app.include_router(trace_views.router)
    app.include_router(epcis_api.router)
    app.include_router(trace_record_views.router)
    for api in (
        account_api,
        catalog_api,
        stamp_api,
        scan_api,
        printing_api,
        alert_api,
        alert_report_api,
        consumer_api,
    ):
        app.include_router(api.router, prefix=API_PREFIX)
    api_docs.install(app)
    for views in (
        scan_portal_views,
        account_views,
        account_admin_views,
        catalog_views,
        stamp_views,
        printing_views,
        # /portal/alerts/channels before /portal/alerts/{alert_id}
        alert_channel_views,
        alert_views,
        alert_report_views,
        scan_place_views,
        scan_camera_views,
        consumer_views,
        catalog_promotion_views,
        regulator_views,
    ):
        app.include_router(views.router)


def _resume_unfinished_runs(sessions: sessionmaker[Session], filler: RunFiller) -> None:
    """Runs whose filling a restart interrupted carry on from their last committed chunk.

    With several workers each would try: `fill_run` resumes from `filled`, and the stamps'
    (org, sequence) key makes a second writer of the same chunk fail instead of duplicating.
    """
    with session_scope(sessions) as session:
        runs = list(unfinished_runs(session))
        session.expunge_all()
    for run in runs:
        log.warning("resuming stamp run %s at %s of %s", run.id, run.filled, run.quantity)
        filler.submit(run)


def home(request: Request) -> Response:
    return pages_of(request).render_fixed(request, "home.html")


def _first(error: RequestValidationError) -> str:
    """Which field, and what is wrong with it (pydantic's English words), e.g.
    "scan_limit: Input should be greater than or equal to 1". The value itself is not echoed."""
    problems = error.errors()
    if not problems:
        return "?"
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query"))
    return f"{where or 'body'}: {first.get('msg', 'invalid')}"[:200]


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

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, error: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            response = answer(request, 401, error.message, error.values)
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        return login_redirect(request)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        response = answer(request, error.status_code, error.message, error.values)
        response.headers.update(error.headers)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        messages = {
            401: N_("Please log in."),
            403: N_("You may not do this."),
            404: N_("This page does not exist."),
            405: N_("This address does not accept that kind of request."),
        }
        message = messages.get(error.status_code, N_("The request could not be handled."))
        return answer(request, error.status_code, message, {})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        return answer(
            request, 400, N_("The request is not valid: %(detail)s"), {"detail": _first(error)}
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, _error: Exception) -> Response:
        # The route's template, not the path: a path may hold a stamp code.
        log.exception("unexpected error on %s", route_template(request.scope))
        return answer(request, 500, N_("Something went wrong on our side. Please try again."), {})
