"""The real app plus a raw no-op ASGI route, so that both are measured on the same server."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from chinhhang.web import create_app


async def noop(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def create_bench_app() -> FastAPI:
    app = create_app()
    app.router.routes.insert(0, Route("/_noop", noop))
    return app
