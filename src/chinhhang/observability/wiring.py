"""What web.py calls: the middleware, `/healthz`, `/readyz` and `/metrics` on an app."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from chinhhang.config import Settings
from chinhhang.observability.exposition import Exposition, metrics
from chinhhang.observability.health import Readiness, healthz, readyz
from chinhhang.observability.middleware import ObservabilityMiddleware


def install(app: FastAPI, settings: Settings, engine: Engine) -> None:
    app.state.readiness = Readiness(settings, engine)
    app.state.exposition = Exposition(engine)
    app.add_middleware(ObservabilityMiddleware, access_log_sample=settings.access_log_sample)
    for path, endpoint in (("/healthz", healthz), ("/readyz", readyz), ("/metrics", metrics)):
        app.add_api_route(path, endpoint, methods=["GET", "HEAD"], include_in_schema=False)


def close(app: FastAPI) -> None:
    """At shutdown: the probes' own connections."""
    app.state.readiness.close()
