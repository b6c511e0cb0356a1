"""`/v/{code}`: the dynamic-code scan, as a bare ASGI endpoint.

This is the hot path (DESIGN.md allows hand-tuning it). It reads the few headers it needs
straight from the ASGI scope and writes its answer with two `send` calls: no Request object,
no dependency injection, no Response class. Those layers cost more per scan than the database
write itself (docs/benchmarks.md). The rules are all in scans/services.py; this module only
parses and renders.

The scan runs on the event loop, and scans that arrive together are committed together
(ScanStore.consume_soon), on the loop itself on both databases (scans/writer.py, pg_writer.py).

The genuine page also shows the stamp's journey, which belongs to `trace` (which `scans` may not
import): web.py hands over trace's GenuineJourney as `app.state.journey_of_stamp`. It is asked
after the scan was counted, and only for genuine verdicts; it answers from memory on the event
loop, reading the database in the thread pool only when its index is due a refresh
(trace/journey_page.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import replace
from typing import Any, Protocol
from urllib.parse import parse_qsl

from anyio.to_thread import run_sync
from markupsafe import Markup

from chinhhang.db import utcnow
from chinhhang.errors import Unavailable
from chinhhang.i18n import negotiate
from chinhhang.observability.metrics import GRACE, GUESSING, THROTTLED, UNAVAILABLE, count_scan
from chinhhang.scans import grace
from chinhhang.scans.guessing import GuessWatch
from chinhhang.scans.place import describe_place
from chinhhang.scans.privacy import truncate_address
from chinhhang.scans.services import PREVIEW, Scanner, ScanRequest, Verdict
from chinhhang.scans.sql import GENUINE, OVER_LIMIT, UNKNOWN
from chinhhang.stamps.serials import grouped
from chinhhang.templating import Pages, clock, hole, when

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

log = logging.getLogger(__name__)
GRACE_COOKIE_SECONDS = 24 * 3600
_PRIVATE = [
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-robots-tag", b"noindex"),
    (b"vary", b"Accept-Language, Accept, Cookie"),
]
_HTML = (b"content-type", b"text/html; charset=utf-8")
_JSON = (b"content-type", b"application/json")
_WANTED = {
    b"user-agent": "user-agent",
    b"accept": "accept",
    b"accept-language": "accept-language",
    b"cookie": "cookie",
}


class JourneyOfStamp(Protocol):
    """web.py's `app.state.journey_of_stamp` (trace's GenuineJourney)."""

    async def html(self, lang: str, verdict: Verdict) -> str | None:
        """The journey part of a genuine verdict's page (escaped HTML), or None; never raises
        for a database failure: the shopper keeps the verdict they were counted for."""
        ...


class VerdictExtras(Protocol):
    """web.py's `app.state.verdict_extras`: what a genuine page offers beyond the verdict
    (the warranty, current promotions), from domains above scans."""

    async def html(self, lang: str, verdict: Verdict) -> str | None:
        """Escaped HTML, or None; never raises for a database failure."""
        ...


class DynamicScan:
    """The ASGI app behind `/v/{code}` and `/V/{code}` (GET, HEAD, POST)."""

    async def __call__(self, scope: Scope, _receive: Receive, send: Send) -> None:
        state = scope["app"].state
        headers = _headers(scope)
        accept = headers.get("accept", "")
        json_wanted = "application/json" in accept and "text/html" not in accept
        client = scope["client"][0] if scope.get("client") else None
        lang = negotiate(_query(scope, "lang"), headers.get("accept-language"))
        guesses: GuessWatch = state.guessing
        if guesses.blocked(client):
            count_scan(GUESSING)
            await _guessing(send, state.pages, lang, json_wanted, guesses.window_seconds)
            return
        if not state.throttle.allow(client):
            count_scan(THROTTLED)
            await _throttled(send, state.pages, lang, json_wanted)
            return
        scanner: Scanner = state.scanner
        # A trailing slash is something people and link shorteners add; it is not the code.
        code = scanner.tag_checked(scope["path_params"]["code"].removesuffix("/"))
        try:
            if code is None:  # malformed or forged: nothing else to build or look up
                verdict = Verdict(UNKNOWN)
            else:
                scan = ScanRequest(
                    code_text=code,
                    user_agent=headers.get("user-agent"),
                    client_address=client,
                    seen_cookie=_cookie(headers.get("cookie")),
                    view_token=_query(scope, "seen"),
                    method=scope["method"],
                    wants_json=json_wanted,
                    confirmed=scope["method"] == "POST",
                )
                verdict = await scanner.scan_soon(scan, code)
            if verdict.outcome == UNKNOWN and guesses.unknown(client):
                await scanner.store.record_guessing_soon(truncate_address(client), utcnow())
        except Unavailable:
            count_scan(UNAVAILABLE)
            await _busy(send, state.pages, lang, json_wanted)
            return
        count_scan(GRACE if verdict.seen_at is not None else verdict.outcome)
        extra = [(b"content-language", lang.encode())]
        if verdict.set_cookie:
            secure = "; Secure" if state.settings.base_url.startswith("https://") else ""
            # Written by hand: the value is base64url, digits, ":", "~" and "." (all legal
            # unquoted), and http.cookies' general encoder is slow for the hot path.
            cookie = (
                f"{grace.COOKIE_NAME}={verdict.set_cookie}; Max-Age={GRACE_COOKIE_SECONDS}; "
                f"Path=/; HttpOnly; SameSite=lax{secure}"
            )
            extra.append((b"set-cookie", cookie.encode()))
        status = 404 if verdict.outcome == UNKNOWN else 200
        if json_wanted:
            body = json.dumps(verdict.as_json(), ensure_ascii=False).encode()
            await _send(send, status, body, [_JSON, *_PRIVATE, *extra])
            return
        journey = extras = place = None
        if verdict.outcome == GENUINE:
            journey = await _journey(state, lang, verdict)
            extras = await _extras(state, lang, verdict)
        elif verdict.outcome == OVER_LIMIT:  # one read more, on this path only
            place = await _first_place(state, verdict)
        body = _page(state.pages, lang, verdict, journey, extras, place)
        await _send(send, status, body, [_HTML, *_PRIVATE, *extra])


async def _journey(state: Any, lang: str, verdict: Verdict) -> str | None:
    """The stamp's journey for a genuine page (the caller asks for genuine verdicts only)."""
    journey: JourneyOfStamp | None = getattr(state, "journey_of_stamp", None)
    if journey is None or verdict.code is None:
        return None
    return await journey.html(lang, verdict)


async def _extras(state: Any, lang: str, verdict: Verdict) -> str | None:
    """Warranty and promotions for a genuine page (asked for genuine verdicts only)."""
    extras: VerdictExtras | None = getattr(state, "verdict_extras", None)
    if extras is None or verdict.code is None:
        return None
    return await extras.html(lang, verdict)


async def _first_place(state: Any, verdict: Verdict) -> str | None:
    """Where the stamp's first genuine scan was ("near PLACE"), for over-limit pages only:
    the one extra read of that path (the genuine path never makes it). A failed read leaves
    the place out; the shopper keeps the warning they were counted for."""
    if verdict.code is None:
        return None
    store = state.scanner.store
    try:
        if store.runs_on_event_loop:  # SQLite: a short read on its own connection
            found = store.first_place(verdict.code)
        else:
            found = await run_sync(store.first_place, verdict.code)
    except Exception:  # any database failure: the page without the place, never a 500
        log.warning("first scan's place unreadable for an over-limit page", exc_info=True)
        return None
    return describe_place(found)


def _page(
    pages: Pages,
    lang: str,
    verdict: Verdict,
    journey: str | None = None,
    extras: str | None = None,
    place: str | None = None,
) -> bytes:
    if verdict.outcome == UNKNOWN:
        return pages.fixed_body(lang, "scans/unknown.html")
    if verdict.outcome == PREVIEW:
        return pages.html(lang, "scans/preview.html", {"verdict": verdict}).encode()
    return _verdict_page(pages, lang, verdict, journey, extras, place).encode()


def _verdict_page(
    pages: Pages,
    lang: str,
    verdict: Verdict,
    journey: str | None,
    extras: str | None,
    place: str | None = None,
) -> str:
    """The verdict page from a per-product skeleton: only the stamp's own values vary."""
    template = "scans/genuine.html" if verdict.outcome == GENUINE else "scans/warning.html"
    other = "en" if lang == "vi" else "vi"

    def skeleton() -> dict[str, Any]:
        return {
            "other_lang_url": hole("langlink"),
            "journey": hole("journey"),
            "extras": hole("extras"),
            # The first genuine scan's place, on over-limit pages whose first shopper shared it.
            "place": hole("place") if place else None,
            "verdict": replace(
                verdict,
                serial=hole("serial") if verdict.serial else None,
                scan_count=hole("count"),  # type: ignore[arg-type]
                scan_limit=hole("limit"),  # type: ignore[arg-type]
                first_scanned_at=hole("first") if verdict.first_scanned_at else None,  # type: ignore[arg-type]
                seen_at=hole("seen") if verdict.seen_at else None,  # type: ignore[arg-type]
                scan_token=hole("token") if verdict.scan_token else None,
            ),
        }

    key = (
        verdict.outcome,
        verdict.product["id"] if verdict.product else None,
        verdict.batch["id"] if verdict.batch else None,
        verdict.serial is not None,
        verdict.first_scanned_at is not None,
        verdict.seen_at is not None,
        verdict.scan_token is not None,
        place is not None,
    )
    fills = {
        "serial": grouped(verdict.serial) if verdict.serial else "",
        "count": str(verdict.scan_count),
        "limit": str(verdict.scan_limit),
        "first": when(verdict.first_scanned_at),
        "seen": clock(verdict.seen_at),
        "langlink": f"?lang={other}&seen={verdict.view_token}"
        if verdict.view_token
        else f"?lang={other}",
        # Each stamp has its own journey, put in the hole as markup (Markup passes the
        # skeleton's escaping unchanged; the journey's template escaped its values).
        "journey": Markup(journey) if journey is not None else "",  # noqa: S704
        "extras": Markup(extras) if extras is not None else "",  # noqa: S704
        "token": verdict.scan_token or "",
        "place": place or "",
    }
    return pages.skeleton(lang, template, key, skeleton, fills)


async def _guessing(
    send: Send, pages: Pages, lang: str, json_wanted: bool, window_seconds: int
) -> None:
    """Too many unknown codes from this client: nothing is looked at until the window ends."""
    body = (
        b'{"error": {"code": "throttled", "message": "Too many unknown codes from this client; '
        b'retry after the time in Retry-After."}}'
    )
    retry = str(max(window_seconds, 1))
    await _refuse(send, pages, lang, json_wanted, 429, retry, body, "errors/guessing.html")


async def _throttled(send: Send, pages: Pages, lang: str, json_wanted: bool) -> None:
    body = b'{"error": {"code": "throttled", "message": "Too many scans from this client."}}'
    await _refuse(send, pages, lang, json_wanted, 429, "60", body, "errors/throttled.html")


async def _busy(send: Send, pages: Pages, lang: str, json_wanted: bool) -> None:
    """The database could not take the scan (nothing was counted): try again shortly."""
    body = b'{"error": {"code": "unavailable", "message": "Busy; nothing was counted. Retry."}}'
    await _refuse(send, pages, lang, json_wanted, 503, "5", body, "errors/busy.html")


async def _refuse(
    send: Send,
    pages: Pages,
    lang: str,
    json_wanted: bool,
    status: int,
    retry_after: str,
    json_body: bytes,
    template: str,
) -> None:
    headers = [
        *_PRIVATE,
        (b"retry-after", retry_after.encode()),
        (b"content-language", lang.encode()),
    ]
    if json_wanted:
        await _send(send, status, json_body, [_JSON, *headers])
        return
    await _send(send, status, pages.fixed_body(lang, template), [_HTML, *headers])


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[str, str]:
    """The few request headers the scan reads; the first of a repeated header wins."""
    found: dict[str, str] = {}
    for key, value in scope["headers"]:
        name = _WANTED.get(key)
        if name is not None and name not in found:
            found[name] = value.decode("latin-1")
    return found


def _query(scope: Scope, name: str) -> str | None:
    query: bytes = scope.get("query_string", b"")
    if not query:
        return None
    for key, value in parse_qsl(query.decode("latin-1")):
        if key == name:
            return value
    return None


def _cookie(header: str | None) -> str | None:
    """Our grace cookie's value from a Cookie header, without parsing the others."""
    if not header:
        return None
    prefix = grace.COOKIE_NAME + "="
    for part in header.split(";"):
        pair = part.strip()
        if pair.startswith(prefix):
            return pair[len(prefix) :]
    return None
