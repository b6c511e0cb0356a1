"""Per request: a request id, latency and count by route template, an access line.

A pure ASGI middleware (Starlette's BaseHTTPMiddleware would add a task and a stream per
request), wrapped around every route including the scan hot path, so it is written to cost
a few microseconds: the request id is taken from the headers or 8 random bytes; the route's
template is read from the scope after routing (`scope["route"]`, set by the router), never
the path, which holds stamp codes; the metric children are cached per template and method.

An unhandled error passes through (Starlette's outermost layer answers it 500): it is counted
and logged here as a 500, and the error handler's own log line carries the request id too
(the context variable outlives this call within the request's task). That 500 page alone
lacks the X-Request-ID header.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import re
from collections.abc import Awaitable, Callable, MutableMapping
from time import perf_counter
from typing import Any

from prometheus_client import Counter, Histogram

from chinhhang.observability.logs import ACCESS_LOGGER, REQUEST_ID
from chinhhang.observability.metrics import LATENCY, REQUESTS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = b"x-request-id"
# A caller's id is kept when it is short and plain (it goes into logs and a header).
_SANE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
ROUTES_ATTRIBUTE = "_observability_plain_routes"
UNMATCHED = "unmatched"  # no route: the path is not a label (it is anything a client sends)
access_log = logging.getLogger(ACCESS_LOGGER)


def route_template(scope: Scope) -> str:
    """The matched route's template (`/v/{code}`, `/api/v1/runs/{run_id}`), or "unmatched".

    Read after routing. FastAPI (0.16x) keeps an included router's routes unflattened: the
    full template is on its effective-route context, and `scope["route"]` holds the route
    without the router's prefix; plain Starlette routes and mounts (the scan routes, /static)
    set neither, only `scope["endpoint"]`, which `_PlainRoutes` maps back to its template.
    tests/functional/test_observability.py pins each case.
    """
    context = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(context, "path_format", None)
    if isinstance(template, str):
        return template
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str):
        return template
    endpoint = scope.get("endpoint")
    app = scope.get("app")
    if endpoint is None or app is None:
        return UNMATCHED
    return _plain_routes(app).template(endpoint, scope["path"])


class _PlainRoutes:
    """The app's top-level Starlette routes and mounts by endpoint, built at first use (the
    route table is complete once requests arrive). Routes sharing an endpoint (`/v/` and
    `/V/`) are told apart by the literal start of their template."""

    def __init__(self, routes: list[Any]) -> None:
        self.by_endpoint: dict[int, list[tuple[str, str]]] = {}
        for route in routes:
            template = getattr(route, "path_format", None)
            endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
            if isinstance(template, str) and endpoint is not None:
                prefix = template.split("{", 1)[0]
                self.by_endpoint.setdefault(id(endpoint), []).append((prefix, template))
        for candidates in self.by_endpoint.values():
            candidates.sort(key=lambda candidate: -len(candidate[0]))

    def template(self, endpoint: object, path: str) -> str:
        candidates = self.by_endpoint.get(id(endpoint))
        if not candidates:
            return UNMATCHED
        if len(candidates) > 1:
            for prefix, template in candidates:
                if path.startswith(prefix):
                    return template
        return candidates[0][1]


def _plain_routes(app: Any) -> _PlainRoutes:
    """The app's table, kept on the app itself (a module-level map by id() could hand a
    new app the table of a collected one)."""
    table: _PlainRoutes | None = getattr(app, ROUTES_ATTRIBUTE, None)
    if table is None:
        table = _PlainRoutes(list(getattr(app, "routes", ())))
        setattr(app, ROUTES_ATTRIBUTE, table)
    return table


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID when sane, else a new one (16 hex digits)."""
    for name, value in headers:
        if name == HEADER:
            if _SANE_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return _ids.new()


class _Ids:
    """A random half per process (renewed in a forked child), a counter for the other: as
    unique as 8 random bytes a request in practice, at a fraction of the cost of reading
    them from the kernel each time."""

    def __init__(self) -> None:
        self.sequence = itertools.count(int.from_bytes(os.urandom(4)))
        self.renew()

    def renew(self) -> None:
        self.prefix = os.urandom(4).hex()

    def new(self) -> str:
        return f"{self.prefix}{next(self.sequence) & 0xFFFFFFFF:08x}"


_ids = _Ids()
os.register_at_fork(after_in_child=_ids.renew)


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, access_log_sample: float = 1.0) -> None:
        self.app = app
        self.sample = access_log_sample
        self._latency: dict[tuple[str, str], Histogram] = {}
        self._requests: dict[tuple[str, str, int], Counter] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        request_id = request_id_of(scope["headers"])
        REQUEST_ID.set(request_id)
        echoed = (HEADER, request_id.encode("ascii"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope["method"]
        if method not in METHODS:
            method = "other"
        timer = self._latency.get((route, method))
        if timer is None:
            timer = self._latency[(route, method)] = LATENCY.labels(route, method)
        timer.observe(seconds)
        counter = self._requests.get((route, method, status))
        if counter is None:
            counter = REQUESTS.labels(route, method, str(status))
            self._requests[(route, method, status)] = counter
        counter.inc()
        if not access_log.isEnabledFor(logging.INFO):
            return
        if status < 500 and self.sample < 1.0 and random.random() >= self.sample:
            return
        access_log.info(
            "%s %s %s",
            method,
            route,
            status,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
