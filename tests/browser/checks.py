"""The two checks every shopper page gets, from one visit: what it transfers (and from where)
and what axe-core finds.

A shopper page is opened once per session, cold, in a fresh phone context: its traffic is
recorded, then axe-core runs on it. test_page_weight.py and test_accessibility.py each assert
their part of that visit; whichever test comes first makes the visits of all shopper pages,
a few loading at a time. Opening each page once instead of twice, and several at once, keeps
the suite fast: a cold context, the quiet half second and axe-core cost over a second a page.

The weight is what crossed the network for each response: headers plus body as sent
(compressed, had the server compressed). Product and promotion pictures are left out, and only
they: the uploaded images served under /media/ (a manufacturer's picture is as heavy as they
make it). Everything else counts: HTML, CSS, JavaScript, fonts, icons, the favicon.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Request

from tests.browser.helpers import LiveServer, login, new_context
from tests.browser.pages import PageSpec

AXE = Axe()
AXE_OPTIONS = {"resultTypes": ["violations"]}  # every rule; only violations reported in full
AT_ONCE = 5  # pages open at the same time (visit_all)
BLOCKING = {"serious", "critical"}
IMAGES = "/media/"  # uploaded product and promotion pictures: not weighed (see above)


def blocking_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is, one line per element
    (axe-core is put in the page unless an init script did it already)."""
    if page.evaluate("typeof axe === 'undefined'"):
        page.evaluate(AXE.axe_script)
    return _blocking(page.evaluate("options => axe.run(document, options)", AXE_OPTIONS))


def _blocking(results: dict[str, Any]) -> list[str]:
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        f"{', '.join(str(target) for target in node['target'])}: {node.get('failureSummary', '')}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
        for node in violation["nodes"]
    ]


@dataclass
class Traffic:
    """Every request a page makes, as it makes them."""

    started: list[Request] = field(default_factory=list)
    finished: list[Request] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        # Methods, not list.append: Playwright cannot wrap a builtin as a listener.
        page.on("request", self._started)
        page.on("requestfinished", self._finished)
        page.on("requestfailed", self._failed)

    def _started(self, request: Request) -> None:
        self.started.append(request)

    def _finished(self, request: Request) -> None:
        self.finished.append(request)

    def _failed(self, request: Request) -> None:
        self.failed.append(request.url)


def transferred(request: Request) -> int:
    sizes = request.sizes()
    return int(sizes["responseHeadersSize"]) + int(sizes["responseBodySize"])


@dataclass(frozen=True)
class PageVisit:
    weight: int  # bytes, every response but the pictures under /media/
    elsewhere: list[str]  # requests to any origin but the app's
    failed: list[str]  # requests that got no answer
    unfinished: list[str]  # requests still open when the network went quiet
    broken: list[tuple[str, int]]  # what the page loads, answered 4xx or 5xx
    violations: list[str]  # axe-core's serious and critical findings
    script_errors: list[str]
    too_wide: int  # CSS pixels the page is wider than the phone (0: nobody scrolls sideways)


@dataclass
class _Opening:
    """A page on its way: navigated (committed), still loading."""

    spec: PageSpec
    context: BrowserContext
    page: Page
    traffic: Traffic
    script_errors: list[str]
    weighed: dict[str, Any] = field(default_factory=dict)


def _open(browser: Browser, server: LiveServer, spec: PageSpec, signed_in: Any) -> _Opening:
    """Prepare the page and start loading it cold on a phone (with `signed_in`'s cookies, if
    any); the status is checked at once. axe-core comes in as an init script: compiled while
    the page loads, never fetched."""
    for _attempt in range(2 if spec.windowed else 1):
        visit = spec.prepare(server)
        headers = {"X-Forwarded-For": visit.address} if visit.address else {}
        context = new_context(
            browser, server, "phone", extra_http_headers=headers, storage_state=signed_in
        )
        errors: list[str] = []
        context.on("weberror", lambda error, errors=errors: errors.append(str(error.error)))
        context.add_init_script(AXE.axe_script)
        page = context.new_page()
        traffic = Traffic()
        traffic.watch(page)
        try:
            response = page.goto(visit.path, wait_until="commit")
        except Exception:
            context.close()
            raise
        status = response.status if response is not None else 0
        if status == visit.status:
            return _Opening(spec, context, page, traffic, errors)
        context.close()
    raise AssertionError(f"{spec.name}: {visit.path} answered {status}, not {visit.status}")


def _weigh(opened: _Opening, origin: tuple[str, str]) -> None:
    """Wait until the network has been quiet for half a second, weigh what came, and start
    axe-core in the page (it runs there while other pages load; `_checked` collects it)."""
    page, traffic = opened.page, opened.traffic
    page.wait_for_load_state("networkidle")
    weighed = [r for r in traffic.finished if not urlsplit(r.url).path.startswith(IMAGES)]
    opened.weighed = {
        "weight": sum(transferred(r) for r in weighed if r.url.startswith("http")),
        "elsewhere": [
            r.url
            for r in traffic.started
            if urlsplit(r.url)[:2] != origin and urlsplit(r.url).scheme != "data"
        ],
        "failed": traffic.failed,
        "unfinished": sorted({r.url for r in traffic.started} - {r.url for r in traffic.finished}),
        "broken": [
            (r.url, answer.status)
            for r in traffic.finished
            # The page itself may be a 404 or a 429 on purpose; what it loads may not.
            if not r.is_navigation_request()
            and (answer := r.response()) is not None
            and answer.status >= 400
        ],
    }
    page.evaluate("options => { window.axeRun = axe.run(document, options); }", AXE_OPTIONS)


def _checked(opened: _Opening) -> PageVisit:
    """The visit, once axe-core has finished with the page."""
    violations = _blocking(opened.page.evaluate("() => window.axeRun"))
    too_wide = opened.page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )
    return PageVisit(
        **opened.weighed,
        violations=violations,
        script_errors=opened.script_errors,
        too_wide=int(too_wide),
    )


def visit_all(
    browser: Browser,
    server: LiveServer,
    specs: Sequence[PageSpec],
    signed_in: Callable[[str], Any],
) -> dict[str, PageVisit | Exception]:
    """Each page's visit (or what went wrong with it), AT_ONCE pages open at a time;
    `signed_in(email)` is the cookies of a user logged in, for the portal's pages.

    Pages load and are checked in parallel, each in its own context: the waits (loading, the
    quiet half second, axe-core's run) overlap and Chromium's processes share the cores,
    which one page after another would leave idle. A page's visit sees only its own page's
    requests."""
    origin = urlsplit(server.url)[:2]
    waiting, loading, checking = list(specs), deque[_Opening](), deque[_Opening]()
    results: dict[str, PageVisit | Exception] = {}

    def step(queue: deque[_Opening], work: Callable[[_Opening], Any]) -> None:
        opened = queue.popleft()
        try:
            done = work(opened)
        except Exception as error:  # raised again by that page's tests
            results[opened.spec.name] = error
            opened.context.close()
            return
        if isinstance(done, PageVisit):
            results[opened.spec.name] = done
            opened.context.close()
        else:
            checking.append(opened)

    try:
        while waiting or loading or checking:
            while waiting and len(loading) + len(checking) < AT_ONCE:
                spec = waiting.pop(0)
                try:
                    state = signed_in(spec.user) if spec.user else None
                    loading.append(_open(browser, server, spec, state))
                except Exception as error:  # raised again by that page's tests
                    results[spec.name] = error
            if loading:
                step(loading, lambda opened: _weigh(opened, origin))
            if checking and (len(checking) > 1 or not loading):
                step(checking, _checked)
    finally:  # interrupted: nothing left open
        for opened in (*loading, *checking):
            opened.context.close()
    return results


class Visits:
    """Every page of a list visited, together on first demand, and kept for the session."""

    def __init__(self, browser: Browser, server: LiveServer, specs: Sequence[PageSpec]) -> None:
        self._browser, self._server, self._specs = browser, server, specs
        self._done: dict[str, PageVisit | Exception] = {}
        self._states: dict[str, Any] = {}

    def of(self, spec: PageSpec) -> PageVisit:
        if spec.name not in self._done:
            waiting = [s for s in self._specs if s.name not in self._done]
            self._done.update(visit_all(self._browser, self._server, waiting, self._signed_in))
        found = self._done[spec.name]
        if isinstance(found, Exception):
            raise found
        return found

    def weights(self) -> dict[str, int]:
        return {
            name: made.weight
            for name, made in sorted(self._done.items())
            if isinstance(made, PageVisit)
        }

    def _signed_in(self, email: str) -> Any:
        """The user's cookies after logging in once through the form (a login costs an
        argon2 hash on the server: once per user, not once per page)."""
        if email not in self._states:
            context = new_context(self._browser, self._server, "phone")
            try:
                page = context.new_page()
                login(page, email)
                self._states[email] = context.storage_state()
            finally:
                context.close()
        return self._states[email]
