"""The security-headers layer's cost per answer (issue "security"): a no-op ASGI app, alone
and wrapped in `SecurityHeaders`, called in one run on one event loop.

Prints microseconds per call and the ratio of the wrapped app's calls per second to the bare
one's: the layer sits outside every route, the scan hot path included, so it must stay a few
microseconds. `python bench/security_headers.py` (a few seconds).
"""

from __future__ import annotations

import asyncio
import timeit
from typing import Any

from chinhhang.security_headers import SecurityHeaders, security_headers

CALLS = 20_000
REPEATS = 7
SCOPE = {"type": "http", "method": "GET", "path": "/v/X", "headers": []}


async def noop(_scope: Any, _receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x", b"y")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request"}


async def _discard(_message: Any) -> None:
    return None


def per_call(app: Any, loop: asyncio.AbstractEventLoop) -> float:
    """Best of REPEATS runs of CALLS calls, in seconds per call."""

    async def calls() -> None:
        for _ in range(CALLS):
            await app(SCOPE, _receive, _discard)

    return (
        min(timeit.repeat(lambda: loop.run_until_complete(calls()), number=1, repeat=REPEATS))
        / CALLS
    )


def main() -> None:
    loop = asyncio.new_event_loop()
    wrapped = SecurityHeaders(noop, security_headers("https://chinhhang.example.vn"))
    bare, layered = per_call(noop, loop), per_call(wrapped, loop)
    print(f"no-op ASGI app: {bare * 1e6:.2f} µs a call; with the layer: {layered * 1e6:.2f} µs")
    print(f"layer: {(layered - bare) * 1e6:.2f} µs a call; wrapped/bare {bare / layered:.2f}")


if __name__ == "__main__":
    main()
