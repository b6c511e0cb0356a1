"""The Content-Security-Policy (security_headers.py) in Chromium: the main shopper and portal
pages work under it without one violation, the camera pages' WebAssembly decoder included.

A refused script or style does not break a page loudly: Chromium drops it and says so in the
console. Each page is watched both ways: a `securitypolicyviolation` listener put in before
any of the page's own code (an init script, which the policy does not govern), and the console
lines naming the policy. A first test makes a violation on purpose, so a watch that saw
nothing is known to have been looking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    WebError,
    expect,
)

from chinhhang.security_headers import CONTENT_SECURITY_POLICY
from tests.browser.helpers import LiveServer, launch, login, new_context
from tests.browser.pages import PORTAL_PAGES, SHOPPER_PAGES, PageSpec

# Chromium's fake camera (a moving test pattern): the camera pages start for real, and so
# load and compile the zxing decoder, which needs 'wasm-unsafe-eval'.
FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
CAMERA_PAGES = frozenset({"scan-camera", "scanner"})
CAMERA_SECONDS = 60
DECODER = Path(__file__).parents[2] / "src/chinhhang/static/vendor/zxing/zxing_reader.wasm"
SHOPPER = ("home", "genuine", "genuine-journey-warranty", "over-limit", "product", "scan-camera")
PORTAL = ("login", "dashboard", "run", "product", "scanner", "regulator-dashboard")
LISTENER = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.reportCspViolation([location.pathname, event.effectiveDirective, event.blockedURI,
    event.sourceFile + ":" + event.lineNumber, event.sample].join(" "));
}, true);
"""


@dataclass
class CspWatch:
    """What the policy refused in one browser context, from the event and the console."""

    violations: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        # Methods, not list.append: Playwright cannot wrap a builtin as a callback.
        context.expose_function("reportCspViolation", self._violation)
        context.add_init_script(LISTENER)
        context.on("console", self._console)
        context.on("weberror", self._error)

    def _violation(self, text: str) -> None:
        self.violations.append(text)

    def _error(self, error: WebError) -> None:
        self.script_errors.append(str(error.error))

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)


@pytest.fixture(scope="module")
def camera_browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch(playwright, FAKE_CAMERA)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def signed_in(camera_browser: Browser, live_server: LiveServer) -> Callable[[str], Any]:
    """A user's cookies after logging in once through the form: a login costs an argon2 hash,
    and the portal allows ten a minute per e-mail address."""
    states: dict[str, Any] = {}

    def state(email: str) -> Any:
        if email not in states:
            context = new_context(camera_browser, live_server, "phone")
            try:
                login(context.new_page(), email)
                states[email] = context.storage_state()
            finally:
                context.close()
        return states[email]

    return state


@pytest.fixture
def watched(
    camera_browser: Browser, live_server: LiveServer, signed_in: Callable[[str], Any]
) -> Iterator[Callable[[PageSpec], tuple[Page, CspWatch]]]:
    """Opens a page's spec on a phone allowed to use the camera, signed in as the page's user,
    with a watch on it."""
    opened: list[BrowserContext] = []

    def _open_watched(spec: PageSpec) -> tuple[Page, CspWatch]:
        state = signed_in(spec.user) if spec.user else None
        context = new_context(
            camera_browser, live_server, "phone", permissions=["camera"], storage_state=state
        )
        opened.append(context)
        watch = CspWatch()
        watch.attach(context)
        page = context.new_page()
        _open(page, live_server, spec)
        return page, watch

    yield _open_watched
    for context in opened:
        context.close()


def _spec(pages: tuple[PageSpec, ...], name: str) -> PageSpec:
    return next(spec for spec in pages if spec.name == name)


def _open(page: Page, server: LiveServer, spec: PageSpec) -> None:
    """Prepare the page as pages.py does, open it and let it settle; the page must have come
    with the policy."""
    visit = spec.prepare(server)
    response = page.goto(visit.path)
    assert response is not None
    assert response.status == visit.status, visit.path
    assert response.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY
    if spec.name in CAMERA_PAGES:
        _start_camera(page)
    _settle(page)


def _start_camera(page: Page) -> None:
    """Start the camera and wait until it runs: the decoder was fetched and compiled first
    (qr-camera.js), or the page would say that decoding is not available."""
    started = page.locator("[data-camera]").get_attribute("data-text-started")
    assert started
    page.click("[data-camera-start]")
    expect(page.locator("[data-camera-status]")).to_have_text(
        started, timeout=CAMERA_SECONDS * 1000
    )


def _settle(page: Page) -> None:
    """Network quiet, then one more turn of the page's task queue: violation events are
    queued as tasks, and their report comes back through the exposed function."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => new Promise(done => setTimeout(done, 300))")


def _assert_clean(watch: CspWatch) -> None:
    assert watch.violations == []
    assert watch.console == []
    assert watch.script_errors == []


def test_the_watch_sees_a_violation(watched: Callable[[PageSpec], tuple[Page, CspWatch]]) -> None:
    page, watch = watched(_spec(SHOPPER_PAGES, "home"))
    _assert_clean(watch)
    page.evaluate("() => document.body.setAttribute('style', 'color: red')")
    _settle(page)
    assert any("style-src-attr" in violation for violation in watch.violations), watch
    assert watch.console, watch


@pytest.mark.parametrize("name", SHOPPER)
def test_shopper_page_runs_under_the_policy(
    name: str, watched: Callable[[PageSpec], tuple[Page, CspWatch]]
) -> None:
    if name in CAMERA_PAGES and not DECODER.exists():
        pytest.skip("the QR decoder is not built (make decoder: needs npm)")
    _page, watch = watched(_spec(SHOPPER_PAGES, name))
    _assert_clean(watch)


@pytest.mark.parametrize("name", PORTAL)
def test_portal_page_runs_under_the_policy(
    name: str, watched: Callable[[PageSpec], tuple[Page, CspWatch]]
) -> None:
    if name in CAMERA_PAGES and not DECODER.exists():
        pytest.skip("the QR decoder is not built (make decoder: needs npm)")
    _page, watch = watched(_spec(PORTAL_PAGES, name))
    _assert_clean(watch)
