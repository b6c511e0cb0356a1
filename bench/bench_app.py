"""The real app plus a raw no-op ASGI route, so that both are measured on the same server."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from chinhhang.web import create_app


async def noop(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def noop4k(_request: Request) -> HTMLResponse:
    return HTMLResponse("x" * 4096)


def create_bench_app() -> FastAPI:
    app = create_app()
    # Right after the scan routes, so both pay the same route matching.
    paths = [getattr(route, "path", None) for route in app.router.routes]
    position = paths.index("/check") + 1
    app.router.routes[position:position] = [Route("/_noop", noop), Route("/_noop4k", noop4k)]
    return app
