"""The shopper's scan: from the text in a QR code to a verdict (SPEC section 2).

Order matters and is cheapest first: the code's tag is checked before any database work, so a
forged or mistyped code costs no I/O; previews and HEAD requests stop before counting; a browser
inside its grace period is answered from a read; only then is a scan counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from anyio.to_thread import run_sync

# ProductPage is re-exported: the product pages' code and tests know it from here.
from chinhhang.catalog.services import ProductPage
from chinhhang.db import utcnow
from chinhhang.observability import metrics
from chinhhang.scans import grace, tokens
from chinhhang.scans.previews import is_preview_agent
from chinhhang.scans.privacy import clip_user_agent, truncate_address
from chinhhang.scans.sql import GENUINE, UNKNOWN, ScanContext, StampState, StaticView
from chinhhang.scans.store import ScanStore
from chinhhang.stamps.codes import InvalidCode, Keyring, verify
from chinhhang.stamps.serials import serial_for

# Not an outcome of the JSON contract: the neutral page for previews and HEAD.
PREVIEW = "preview"


@dataclass(frozen=True, slots=True)
class ScanRequest:
    code_text: str
    user_agent: str | None = None
    client_address: str | None = None
    seen_cookie: str | None = None
    view_token: str | None = None
    method: str = "GET"
    wants_json: bool = False
    # The preview page's button posts: a person asked, whatever their browser calls itself.
    confirmed: bool = False


@dataclass(slots=True)
class Verdict:
    outcome: str
    code: str | None = None
    serial: str | None = None
    scan_count: int | None = None
    scan_limit: int | None = None
    first_scanned_at: datetime | None = None
    product: dict[str, Any] | None = None
    batch: dict[str, Any] | None = None
    manufacturer: dict[str, Any] | None = None
    # Set when the answer comes from this browser's earlier scan (grace period): nothing counted.
    seen_at: datetime | None = None
    set_cookie: str | None = field(default=None, repr=False)
    # For the page's language link: re-showing this verdict in the other language is not a scan.
    view_token: str | None = field(default=None, repr=False)
    # For what the shopper does next (place, report, warranty): scans/tokens.py.
    scan_token: str | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "serial": self.serial,
            "scan_count": self.scan_count,
            "scan_limit": self.scan_limit,
            "first_scanned_at": self.first_scanned_at.isoformat()
            if self.first_scanned_at
            else None,
            "verified_on_this_device_at": self.seen_at.isoformat() if self.seen_at else None,
            "product": self.product,
            "batch": self.batch,
            "manufacturer": self.manufacturer,
        }


@dataclass(frozen=True, slots=True)
class _Pending:
    code: str
    now: datetime
    context: ScanContext
    seen_cookie: str | None


class Scanner:
    def __init__(
        self,
        store: ScanStore,
        keyring: Callable[[], Keyring],
        cookie_key: bytes,
        clock: Callable[[], datetime] = utcnow,
        token_key: bytes | None = None,
    ) -> None:
        self.store = store
        self.keyring = keyring  # the keys as they are now (keys rotate/retire, no restart)
        self.cookie_key = cookie_key
        self.clock = clock
        self.token_key = token_key or cookie_key + b"/scan-token"

    def scan(self, request: ScanRequest) -> Verdict:
        """Never raises for bad input: a malformed or forged code is simply `unknown`."""
        checked = self._check(request)
        return checked if isinstance(checked, Verdict) else self._scan_code(checked, request)

    def tag_checked(self, code_text: str) -> str | None:
        """The canonical code if its tag is right, else None (malformed or forged): the one
        check a forged code costs, before the scan route builds anything else for it."""
        try:
            return verify(self.keyring(), code_text)
        except InvalidCode:
            return None

    async def scan_soon(self, request: ScanRequest, code: str | None = None) -> Verdict:
        """`scan` for the event loop: the checks that need no I/O run here, and the count is
        group-committed (ScanStore.consume_soon) while the loop goes on. On PostgreSQL, a
        browser that may be within its grace period is answered in the thread pool instead:
        that needs a read first, which must not block the loop. `code`: the request's code as
        `tag_checked` returned it, so that its tag is not checked twice."""
        checked = self._check(request, code)
        if isinstance(checked, Verdict):
            return checked
        if not self.store.runs_on_event_loop and self._may_remember(checked, request):
            return await run_sync(self._scan_code, checked, request)
        step = self._prepare(checked, request)
        if isinstance(step, Verdict):
            return step
        counted = await self.store.consume_soon(step.code, step.now, step.context)
        return self._conclude(step, counted)

    def _check(self, request: ScanRequest, code: str | None = None) -> Verdict | str:
        """The checks without I/O: the code's tag (unless `code` is the tag-checked code),
        then previews. A verdict, or the code."""
        if code is None:
            code = self.tag_checked(request.code_text)
            if code is None:
                return Verdict(UNKNOWN)
        if not request.confirmed and looks_only(
            request.method, request.user_agent, request.wants_json
        ):
            return Verdict(PREVIEW, code=code)
        return code

    def _scan_code(self, code: str, request: ScanRequest) -> Verdict:
        step = self._prepare(code, request)
        if isinstance(step, Verdict):
            return step
        return self._conclude(step, self.store.consume(step.code, step.now, step.context))

    def _prepare(self, code: str, request: ScanRequest) -> Verdict | _Pending:
        """After the checks, before the count: the grace period's answer, or the scan."""
        now = self.clock()
        remembered = self._within_grace(code, request, now)
        if remembered is not None:
            return remembered
        context = ScanContext(
            truncate_address(request.client_address), clip_user_agent(request.user_agent)
        )
        return _Pending(code, now, context, request.seen_cookie)

    def _conclude(self, step: _Pending, counted: tuple[str, StampState] | None) -> Verdict:
        if counted is None:
            return Verdict(UNKNOWN)
        outcome, state = counted
        verdict = self._verdict(outcome, step.code, state)
        verdict.scan_token = tokens.make(self.token_key, step.code, outcome, step.now)
        if outcome == GENUINE:
            seen = grace.read(self.cookie_key, step.seen_cookie)
            verdict.set_cookie = grace.write(self.cookie_key, seen, step.code, step.now)
            verdict.view_token = grace.view_token(self.cookie_key, step.code, step.now)
        return verdict

    def _may_remember(self, code: str, request: ScanRequest) -> bool:
        """Whether `_within_grace` would read the stamp: the browser says it saw this code."""
        return request.view_token is not None or (
            request.seen_cookie is not None
            and code in grace.read(self.cookie_key, request.seen_cookie)
        )

    def _within_grace(self, code: str, request: ScanRequest, now: datetime) -> Verdict | None:
        """This browser verified the code a moment ago: show it again, count nothing.

        Either its grace cookie says so (within the run's grace period), or the URL carries a
        view token from that genuine page's language link (within VIEW_TOKEN_MINUTES).
        """
        seen_at = grace.read(self.cookie_key, request.seen_cookie).get(code)
        window: timedelta | None = None
        if seen_at is None:
            seen_at = grace.read_view_token(self.cookie_key, code, request.view_token, now)
            window = timedelta(minutes=grace.VIEW_TOKEN_MINUTES)
        if seen_at is None:
            return None
        found = self.store.peek(code)
        if found is None:
            return None
        state, grace_minutes = found
        if window is None:
            window = timedelta(minutes=grace_minutes)
        if state.status != "active" or now - seen_at > window:
            return None
        verdict = self._verdict(GENUINE, code, state)
        verdict.seen_at = seen_at
        verdict.view_token = grace.view_token(self.cookie_key, code, seen_at)
        verdict.scan_token = tokens.make(self.token_key, code, GENUINE, seen_at)
        return verdict

    def _verdict(self, outcome: str, code: str, state: StampState) -> Verdict:
        described = self.store.describe(state.product_id, state.batch_id)
        return Verdict(
            outcome,
            code=code,
            serial=serial_for(state.sequence),
            scan_count=state.scan_count,
            scan_limit=state.scan_limit,
            first_scanned_at=state.first_scanned_at,
            **described,
        )


def looks_only(method: str, user_agent: str | None, wants_json: bool) -> bool:
    """HEAD never counts; a preview agent's GET does not either, unless it asked for JSON.

    A program that asks for JSON is a verification client acting for a person, not a chat app
    drawing a preview card (those ask for HTML).
    """
    if method == "HEAD":
        return True
    return not wants_json and is_preview_agent(user_agent)


def count_static_scan(
    store: ScanStore, page: ProductPage, *, user_agent: str | None, client_address: str | None
) -> bool:
    """Count one scan of a printed static code (previews excepted); returns if counted.

    Callers count once per scan of the printed code: `/p/{id}` and `/P/{id}` when they show
    the page, the GS1 resolver when it redirects (trace may not import scans: web.py hands it
    this function bound to the store, as `app.state.count_static_scan`); the page the
    resolver redirects to (`/product/{id}`) counts nothing (docs/scanning.md).
    """
    batch_id = page.batch.id if page.batch else None
    return count_static_view(
        store,
        StaticView(page.product.id, batch_id, page.product.org_id),
        user_agent=user_agent,
        client_address=client_address,
    )


def count_static_view(
    store: ScanStore, view: StaticView, *, user_agent: str | None, client_address: str | None
) -> bool:
    """`count_static_scan` from the ids alone."""
    context = _static_context(user_agent, client_address)
    if context is None:
        return False
    store.record_static(view, utcnow(), context)
    metrics.count_static_scan()
    return True


async def count_static_view_soon(
    store: ScanStore, view: StaticView, *, user_agent: str | None, client_address: str | None
) -> bool:
    """`count_static_view` on the event loop, for a page served from memory."""
    context = _static_context(user_agent, client_address)
    if context is None:
        return False
    await store.record_static_soon(view, utcnow(), context)
    metrics.count_static_scan()
    return True


def _static_context(user_agent: str | None, client_address: str | None) -> ScanContext | None:
    """What a static scan's event keeps of its client; None for a link preview (not counted)."""
    if is_preview_agent(user_agent):
        return None
    return ScanContext(truncate_address(client_address), clip_user_agent(user_agent))
