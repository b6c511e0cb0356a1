"""The real app plus a raw no-op ASGI route, so that both are measured on the same server.

Run as `python bench_app.py PORT WORKERS`, it is served as `chinhhang serve` serves the real
app: with several workers, each listens on a socket of its own (chinhhang/serving.py).
"""

from __future__ import annotations

import sys
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from chinhhang import serving
from chinhhang.web import create_app

APP = "bench_app:create_bench_app"


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


def main() -> None:
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    options: dict[str, Any] = {
        "factory": True,
        "port": port,
        "workers": workers,
        "access_log": False,
        "log_level": "warning",
    }
    serving.run(APP, **options)


if __name__ == "__main__":
    main()
