"""What the browser tests share: the live server, the browser's contexts, logging in, pictures.

The fixtures in conftest.py hand these out; test modules import the plain functions
(`login`, `screenshot`, `new_context`) from here.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, Playwright
from sqlalchemy import Engine, create_engine, func, select

from chinhhang.accounts.models import Organization
from chinhhang.catalog.models import Product
from chinhhang.demo import DEMO_PASSWORD, MANUFACTURER
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import grouped, serial_for
from tests.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
# The flags the issue names: no sandbox (containers), no GPU, and none of Chromium's own
# traffic (updates, sync, field trials), so the only requests are the ones a page makes.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SCREENSHOTS = Path(__file__).parent / "screenshots"
# A cheap Android phone's Chrome, and a desktop's: the app takes agents that do not start with
# "Mozilla/" or name a bot for link previews, which never count a scan (scans/previews.py).
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
)
DESKTOP_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
PHONE = {
    "viewport": {"width": 360, "height": 800},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": PHONE_AGENT,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "user_agent": DESKTOP_AGENT}
SERVER_START_SECONDS = 60
# Unknown codes per client per 10 minutes: big enough that no test trips it by accident, small
# enough to reach on purpose (pages.py's guessing page sends this many from one address).
GUESS_LIMIT = 40
# Scans per client per minute (the default): pages.py's throttled page is reached by spending it.
SCAN_RATE_LIMIT = 120


@dataclass(frozen=True)
class DemoStamp:
    code: str
    sequence: int
    product_id: int | None

    @property
    def serial(self) -> str:
        """As the pages show it: "0000 0001 2345"."""
        return grouped(serial_for(self.sequence))

    @property
    def path(self) -> str:
        return f"/v/{self.code}"


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    url: str

    @property
    def path(self) -> str:
        """The path and query of the address answered (after redirects)."""
        parts = urllib.parse.urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class LiveServer:
    """The app served by uvicorn on a loopback port, on its own SQLite database with the demo.

    `engine` reads and writes that database (SQLAlchemy). Tests change what they use, so each
    claims its stamps with `claim_stamps`: no two tests get the same stamp, whatever the order.
    """

    url: str
    database_url: str
    engine: Engine
    data_dir: Path
    log_path: Path
    _claimed: set[str] = field(default_factory=set)
    _addresses: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def claim_stamps(
        self,
        count: int = 1,
        *,
        status: str = "active",
        scan_limit: int = 1,
        holder: str | None = None,
        in_stock: bool = False,
        product_id: int | None = None,
    ) -> list[DemoStamp]:
        """`count` never-scanned stamps of the demo manufacturer with consecutive serials (so a
        range "FIRST-LAST" names exactly them), no test's before. `holder` is an organization's
        name: only stamps it holds (None: any holder); `in_stock`: only stamps the manufacturer
        holds and that travel in no shipment (free to ship)."""
        query = (
            select(Stamp.code, Stamp.sequence, Stamp.product_id)
            .join(Organization, Organization.id == Stamp.org_id)
            .where(
                Organization.name == MANUFACTURER,
                Stamp.status == status,
                Stamp.scan_limit == scan_limit,
                Stamp.scan_count == 0,
            )
            .order_by(Stamp.sequence)
        )
        if holder is not None:  # a NULL holder is the issuer (stamps/models.py)
            held_by = func.coalesce(Stamp.holder_org_id, Stamp.org_id)
            query = query.where(held_by == self.org_id(holder))
        if in_stock:
            query = query.where(Stamp.holder_org_id.is_(None), Stamp.shipment_id.is_(None))
        if product_id is not None:
            query = query.where(Stamp.product_id == product_id)
        with self.engine.connect() as conn:
            rows = [DemoStamp(*row) for row in conn.execute(query)]
        free = [row for row in rows if row.code not in self._claimed]
        for start in range(len(free) - count + 1):
            block = free[start : start + count]
            if block[-1].sequence - block[0].sequence == count - 1:
                self._claimed.update(stamp.code for stamp in block)
                return block
        raise LookupError(f"no {count} unclaimed consecutive {status} stamps (limit {scan_limit})")

    def claim_stamp(self, **filters: Any) -> DemoStamp:
        return self.claim_stamps(1, **filters)[0]

    def org_id(self, name: str) -> int:
        with self.engine.connect() as conn:
            found = conn.scalar(select(Organization.id).where(Organization.name == name))
        if found is None:
            raise LookupError(name)
        return found

    def product_id(self, name_start: str) -> int:
        """The demo product whose name starts so ("Nước mắm", "Máy lọc nước")."""
        with self.engine.connect() as conn:
            found = conn.scalar(select(Product.id).where(Product.name.startswith(name_start)))
        if found is None:
            raise LookupError(name_start)
        return found

    def new_address(self) -> str:
        """A client address of its own (in 198.18.0.0/15, set aside for network tests by RFC
        2544), sent as X-Forwarded-For, which uvicorn takes from loopback: each browser context
        is another phone to the scan throttle and the guessing watch, as in a shop, instead of
        every test spending 127.0.0.1's budget."""
        number = next(self._addresses)
        return f"198.{18 + (number >> 16)}.{(number >> 8) & 255}.{number & 255}"

    def fetch(
        self,
        path: str,
        *,
        form: dict[str, str] | None = None,
        address: str | None = None,
        method: str | None = None,
    ) -> Answer:
        """A plain HTTP request with a phone's user agent (so a scan counts). A POSTed form
        follows the 303 that answers it."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(  # noqa: S310 - the test's own loopback server
            self.url + path,
            data=data,
            method=method,
            headers={
                "User-Agent": PHONE_AGENT,
                "Accept-Language": "vi",
                "X-Forwarded-For": address or self.new_address(),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return Answer(answer.status, answer.read().decode(), answer.url)
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, error.read().decode(), error.url)

    def scan(self, stamp: DemoStamp, address: str | None = None) -> str:
        """Scan a stamp as another phone would (it counts); the page's HTML."""
        answer = self.fetch(stamp.path, address=address)
        if answer.status != 200:
            raise AssertionError(f"scanning {stamp.code} answered {answer.status}")
        return answer.text


def scan_token(html: str) -> str:
    """The scan token a verdict page hands out (the place widget's, or the report button's)."""
    found = re.search(r'data-token="([^"]+)"', html) or re.search(r'name="t" value="([^"]+)"', html)
    if found is None:
        raise AssertionError("no scan token on the page")
    return found.group(1)


def _command() -> list[str]:
    """The installed `chinhhang` next to this Python, or `python -m chinhhang`."""
    script = Path(sys.executable).with_name("chinhhang")
    return [str(script)] if script.exists() else [sys.executable, "-m", "chinhhang"]


def server_env(folder: Path, port: int) -> dict[str, str]:
    """The server's environment: none of the developer's CHINHHANG_* settings leak in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHINHHANG_")}
    return {
        **env,
        "CHINHHANG_DATA_DIR": str(folder),
        "CHINHHANG_DATABASE_URL": f"sqlite:///{folder / 'chinhhang.db'}",
        "CHINHHANG_SECRET_KEY": secrets.token_urlsafe(48),
        "CHINHHANG_BASE_URL": f"http://127.0.0.1:{port}",
        "CHINHHANG_GUESS_LIMIT": f"{GUESS_LIMIT}/10minutes",
        "CHINHHANG_SCAN_RATE_LIMIT": f"{SCAN_RATE_LIMIT}/minute",
        # On: the portal's alert pages show alerts the worker made from real scans.
        "CHINHHANG_ALERT_WORKER": "true",
    }


@contextmanager
def serve(folder: Path) -> Iterator[LiveServer]:
    """Migrate and load the demo, serve; stop the server (and wait for it) on the way out.

    `chinhhang demo` migrates the database first, as every command does (cli_support.engine),
    so a separate `chinhhang db upgrade` would only cost another start of the CLI. The server
    starts after the demo, never beside it: at start-up it resumes runs left issuing, and
    would write the demo's runs twice."""
    port = free_port()
    env = server_env(folder, port)
    _run_command(["demo"], env, folder)
    log_path = folder / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            # One worker: the throttle and guessing budgets are per process without Redis,
            # and the pages that spend them (pages.py) must meet the process that counted.
            [*_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        engine = create_engine(env["CHINHHANG_DATABASE_URL"], connect_args={"timeout": 30})
        try:
            _wait_until_up(server, url, log_path)
            yield LiveServer(url, env["CHINHHANG_DATABASE_URL"], engine, folder, log_path)
        finally:
            engine.dispose()
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


def _run_command(arguments: list[str], env: dict[str, str], folder: Path) -> None:
    done = subprocess.run(
        [*_command(), *arguments], env=env, cwd=folder, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"chinhhang {' '.join(arguments)} failed: {done.stdout}{done.stderr}")


def _wait_until_up(server: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer: {log_path.read_text(errors='replace')}")


def launch(playwright: Playwright, extra_args: Sequence[str] = ()) -> Browser:
    """Debian's Chromium, headless, never a browser Playwright downloaded."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )


def new_context(
    browser: Browser, server: LiveServer, kind: str = "phone", **options: Any
) -> BrowserContext:
    """A fresh browser profile (no cookies, no cache) on the server: a phone (360×800, touch,
    Vietnamese) or a desktop (1280×900), from a client address of its own."""
    base: dict[str, Any] = dict(PHONE if kind == "phone" else DESKTOP)
    base.update(locale="vi-VN", base_url=server.url)
    headers = {"X-Forwarded-For": server.new_address(), **options.pop("extra_http_headers", {})}
    context = browser.new_context(**{**base, **options}, extra_http_headers=headers)
    context.set_default_timeout(15_000)
    return context


def login(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the portal's real form; returns on the dashboard."""
    page.goto("/portal/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/portal/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/?(\?.*)?$"))


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG in tests/browser/screenshots/ (git-ignored), for people to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
