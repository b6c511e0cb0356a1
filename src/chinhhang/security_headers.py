"""The security headers of every answer: a strict Content-Security-Policy and its companions.

One layer for the whole app (pages, the API, error pages, static and uploaded files) instead
of a constant per route, so no route can forget them. A pure ASGI layer (Starlette's
BaseHTTPMiddleware would add a task and a stream per request) around the scan hot path too:
the header list is built once per app, and each answer only gets the ones it does not carry
already, a set lookup per header it has (~1 µs). A route's own value wins: the scan pages'
`Referrer-Policy: no-referrer` stays stricter than the default here.

The policy allows no inline script and no inline style (no `style=` attribute, no `<style>`
block, no `on…=` handler in any template: tests/unit/test_security_headers.py reads them), so
text that got into a page cannot run or restyle it. What each source is for:

- `script-src 'self' 'wasm-unsafe-eval'`: our files under /static/ only; the camera pages
  compile the vendored zxing WebAssembly decoder (static/vendor/zxing/), which browsers allow
  only with 'wasm-unsafe-eval'. It permits compiling WebAssembly, never JavaScript's eval.
- `img-src 'self' https:`: our files and uploads, and a product's picture given as a link
  (`image_url`, checked to be http(s); an http:// one is mixed content on an https page
  anyway). Nothing uses data: or blob: images; the camera's picture is a MediaStream
  (`srcObject`), which no fetch directive governs.
- `default-src 'self'` covers the rest: fetch() of the live alert panel and the place form
  (connect-src), the zxing .wasm file, the manifest, fonts, media.
- `object-src 'none'`, `base-uri 'none'`, `form-action 'self'`, `frame-ancestors 'none'`:
  no plugins, no <base> redirecting relative links, forms post here only, no framing
  (X-Frame-Options: DENY says the same to browsers older than CSP 2).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Header = tuple[bytes, bytes]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' https:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Links to other sites (a maker's website, a promotion) learn nothing of the page they came
# from; the portal's own requests keep their full referrer. Routes may send a stricter one.
REFERRER_POLICY = "same-origin"
# A year, this host only (the base URL may be a company's bare domain, whose other sites the
# app knows nothing about); sent only when the configured address is https (an http
# development server must not pin browsers to https for its host).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def security_headers(base_url: str) -> tuple[Header, ...]:
    """The headers every answer carries, as ASGI wants them (lower-case names, bytes)."""
    headers = [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", REFERRER_POLICY),
    ]
    if base_url.startswith("https://"):
        headers.append(("strict-transport-security", STRICT_TRANSPORT_SECURITY))
    return tuple((name.encode("ascii"), value.encode("ascii")) for name, value in headers)


class SecurityHeaders:
    """Adds `headers` to every HTTP answer that does not already carry each one.

    Header names are compared as sent: ASGI servers and Starlette write them in lower case,
    as does the scan path (scans/dynamic.py). Other scopes (lifespan) pass untouched.
    """

    def __init__(self, app: ASGIApp, headers: Sequence[Header]) -> None:
        self.app = app
        self.headers = tuple(headers)
        self.names = frozenset(name for name, _value in self.headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        add, names = self.headers, self.names

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = message.get("headers", ())
                carried = [name for name, _value in given if name in names]
                if carried:
                    missing = [header for header in add if header[0] not in carried]
                    message["headers"] = [*given, *missing]
                else:
                    message["headers"] = [*given, *add]
            await send(message)

        await self.app(scope, receive, send_with_headers)
