"""The browser suite: Debian's Chromium, driven by Playwright, against the app served for real.

Without /usr/bin/chromium or the `playwright` package the whole folder skips with the reason;
with CI=true that is a failure instead (`make test` installs Chromium: target browser-deps).

One server and one browser for the browser tests (package-scoped, so they stop when these tests
are done); every test opens its own contexts (fresh profiles) in that browser, so tests share
nothing but the database, and take their own stamps from it.

The interface, for test modules (tests/browser/test_scanner.py among them):

- `live_server` (package): the app served by `chinhhang serve` (uvicorn) on a random loopback
  port, on a fresh SQLite database (`chinhhang db upgrade`, then `chinhhang demo` while the
  server starts); a random secret key; the alert worker on, so scans make real alerts. A
  `helpers.LiveServer` with `.url`, `.database_url`, `.engine` (SQLAlchemy, to read and write
  that database), `.claim_stamps(count, status=, scan_limit=, holder=, in_stock=, product_id=)`
  (never-scanned demo stamps with consecutive serials that no other test gets: `.code`,
  `.serial`, `.sequence`, `.path`), `.claim_stamp(...)`, `.org_id(name)`,
  `.product_id(name_start)`, `.fetch(path, form=, address=, method=)` and `.scan(stamp)` (plain
  HTTP as a phone: a scan counts), `.new_address()` (a client address of its own, sent as
  X-Forwarded-For: each context gets one, so throttles see separate phones).
- `launch_browser(extra_args=())`: launches another headless Chromium with the suite's flags
  plus `extra_args` (e.g. `--use-fake-device-for-media-stream`,
  `--use-fake-ui-for-media-stream`, `--use-file-for-fake-video-capture=FILE`); everything it
  launched is closed after the test. Open contexts on it with
  `helpers.new_context(browser, live_server, "phone" | "desktop", **options)`.
- `browser` (package): the default Chromium. `contexts(kind="phone", **options)`: a new context
  in it (closed after the test). `phone`: a page at 360×800 (touch, scale 2, Vietnamese
  locale); `desktop`: a page at 1280×900. Pages resolve relative URLs against the server.
- `helpers.login(page, email)`: through the real login form (demo password `chinhhang-demo`);
  `helpers.screenshot(page, name)`: a full-page PNG in tests/browser/screenshots/ (git-ignored).
- `shopper_visits`, `portal_visits` (package): each page of pages.py opened once, weighed and
  checked by axe-core (checks.py), for test_page_weight.py and test_accessibility.py.

A page opened through `contexts` that throws a JavaScript error fails its test (at teardown).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

try:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        Page,
        Playwright,
        sync_playwright,
    )
except ImportError:  # every test module here needs it: they are skipped, or fail in CI
    PLAYWRIGHT_MISSING: str | None = (
        "the playwright package is not installed (pip install -e '.[test]')"
    )
else:
    PLAYWRIGHT_MISSING = None
    from tests.browser.checks import Visits
    from tests.browser.helpers import SCREENSHOTS, LiveServer, launch, new_context, serve
    from tests.browser.pages import PORTAL_PAGES, SHOPPER_PAGES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = (
    None if CHROMIUM.exists() else "Debian's Chromium is missing at /usr/bin/chromium"
)

if PLAYWRIGHT_MISSING is not None:
    if IN_CI:  # the test modules cannot even be imported: refuse the run
        raise RuntimeError(f"browser tests cannot run under CI=true: {PLAYWRIGHT_MISSING}")

    class _SkippedModule(pytest.Module):
        """A test module of this folder, reported as skipped instead of failing its import."""

        def collect(self) -> Any:
            pytest.skip(f"browser tests skipped: {PLAYWRIGHT_MISSING}")

    def pytest_pycollect_makemodule(module_path: Path, parent: Any) -> pytest.Module:
        return _SkippedModule.from_parent(parent, path=module_path)


HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, every browser test goes to the same worker: one server and one
    Chromium for the lot, instead of one per worker, set up again each time a worker moves
    between these modules and the rest (Playwright's event loop must end before any other test
    runs, and page-weight.json is written once, whole)."""
    if not config.pluginmanager.hasplugin("xdist"):
        return  # `-p no:xdist`: the mark would not be registered (--strict-markers)
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.xdist_group("browser"))


# Package-scoped: the server and Chromium stop when the browser tests are done, instead of idling
# through the rest of the suite.
@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory.mktemp("live-server")) as server:
        yield server


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Every browser test comes here first: without Chromium it is skipped, or fails in CI."""
    if CHROMIUM_MISSING is not None:
        reason = f"{CHROMIUM_MISSING} (make browser-deps installs it)"
        if IN_CI:
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(f"browser tests skipped: {reason}")
    with sync_playwright() as driver:
        yield driver
    # While it lives, the sync API runs an event loop in this thread; every later test that
    # starts one (asyncio.run, TestClient) would fail if it were still running.
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop()
        pytest.fail("Playwright left an event loop running in the test thread", pytrace=False)


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def launch_browser(playwright: Playwright) -> Iterator[Callable[..., Browser]]:
    launched: list[Browser] = []

    def _launch(extra_args: Sequence[str] = ()) -> Browser:
        launched.append(launch(playwright, extra_args))
        return launched[-1]

    yield _launch
    for chromium in launched:
        chromium.close()


@pytest.fixture
def contexts(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., BrowserContext]]:
    opened: list[BrowserContext] = []
    errors: list[str] = []

    def _open(kind: str = "phone", **options: Any) -> BrowserContext:
        context = new_context(browser, live_server, kind, **options)
        context.on("weberror", lambda error: errors.append(str(error.error)))
        opened.append(context)
        return context

    yield _open
    for context in opened:
        context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"


@pytest.fixture
def phone(contexts: Callable[..., BrowserContext]) -> Page:
    return contexts("phone").new_page()


@pytest.fixture
def desktop(contexts: Callable[..., BrowserContext]) -> Page:
    return contexts("desktop").new_page()


@pytest.fixture(scope="package")
def shopper_visits(browser: Browser, live_server: LiveServer) -> Iterator[Visits]:
    """Each shopper page opened once (together, on first demand), weighed and checked by
    axe-core (checks.py); the weights are written to screenshots/page-weight.json at the end."""
    visits = Visits(browser, live_server, SHOPPER_PAGES)
    yield visits
    if visits.weights():
        SCREENSHOTS.mkdir(exist_ok=True)
        figures = json.dumps(visits.weights(), indent=2)
        (SCREENSHOTS / "page-weight.json").write_text(figures + "\n")


@pytest.fixture(scope="package")
def portal_visits(browser: Browser, live_server: LiveServer) -> Visits:
    """Each portal page of pages.py opened once (together, on first demand), signed in as its
    user, and checked by axe-core."""
    return Visits(browser, live_server, PORTAL_PAGES)
