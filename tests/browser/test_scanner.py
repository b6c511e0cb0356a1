"""The camera scanners, for real: Chromium's fake camera plays a video made here from the QR
codes of real stamps, and the pages decode it with the zxing-wasm build `make` put in static/.

A warehouse worker's phone (`/portal/scan`) reads the boxes of a shipment one after another
and receives it; a shopper's phone (`/scan`) reads a stamp and lands on its verdict, while a
look-alike site's code is shown and never followed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.demo import DISTRIBUTOR, MANUFACTURER
from chinhhang.printing.urls import stamp_print_url
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.services import Selection, ship
from tests.browser.fake_camera import write_y4m
from tests.browser.helpers import DemoStamp, LiveServer, login, new_context, screenshot
from tests.conftest import IN_CI

DISTRIBUTOR_EMAIL = "kho@miennam.demo"
# The issue asks for at least five different stamps decoded from the video.
BOXES = 6
DECODE_SECONDS = 60
DECODER = Path(__file__).parents[2] / "src/chinhhang/static/vendor/zxing/zxing_reader.wasm"
if not DECODER.exists():
    reason = "the QR decoder is not built (make decoder: needs npm)"
    if IN_CI:
        raise RuntimeError(f"camera tests cannot run under CI=true: {reason}")
    pytestmark = pytest.mark.skip(reason=reason)


def _camera(launch_browser: Callable[..., Browser], video: Path) -> Browser:
    return launch_browser(
        [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ]
    )


def _ship_to_distributor(server: LiveServer, stamps: list[DemoStamp]) -> int:
    with Session(server.engine) as session, session.begin():
        shipment = ship(
            session,
            Actor.command_line(server.org_id(MANUFACTURER)),
            to_org_id=server.org_id(DISTRIBUTOR),
            selection=Selection(sequences=tuple(s.sequence for s in stamps)),
            reference="PX-CAMERA",
        )
        return shipment.id


def _phone(browser: Browser, server: LiveServer) -> tuple[BrowserContext, list[str]]:
    """A phone allowed to use the (fake) camera, and the JavaScript errors of its pages."""
    context = new_context(browser, server, "phone", permissions=["camera"])
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    return context, errors


def _stamp_rows(server: LiveServer, stamps: list[DemoStamp]) -> list[tuple[int | None, int]]:
    with server.engine.connect() as conn:
        rows = conn.execute(
            select(Stamp.holder_org_id, Stamp.scan_count)
            .where(Stamp.code.in_([s.code for s in stamps]))
            .order_by(Stamp.sequence)
        )
        return [(holder, count) for holder, count in rows]


def _scan_events(server: LiveServer) -> int:
    with server.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(ScanEvent)) or 0)


def _listed(page: Page) -> list[str]:
    return [line for line in page.input_value("#codes").split() if line]


def test_a_warehouse_phone_reads_the_boxes_and_receives_the_shipment(
    launch_browser: Callable[..., Browser], live_server: LiveServer, tmp_path: Path
) -> None:
    stamps = live_server.claim_stamps(BOXES, in_stock=True)
    copied = live_server.claim_stamp()
    shipment_id = _ship_to_distributor(live_server, stamps)
    texts = [stamp_print_url(live_server.url, s.code) for s in stamps]
    # Among the boxes, a product's own (static) code, and a look-alike site's label carrying a
    # real code: both read, refused and never listed.
    texts.insert(2, f"{live_server.url.upper()}/P/1")
    texts.insert(4, f"HTTPS://CHINHHANG-CHECK.EXAMPLE/V/{copied.code}")
    video = write_y4m(tmp_path / "boxes.y4m", texts)
    events = _scan_events(live_server)

    browser = _camera(launch_browser, video)
    context, errors = _phone(browser, live_server)
    page = context.new_page()
    login(page, DISTRIBUTOR_EMAIL)
    page.goto("/portal/scan")
    page.click("[data-camera-start]")
    expect(page.locator("[data-scan-count]")).to_have_text(
        str(BOXES), timeout=DECODE_SECONDS * 1000
    )
    # The video loops: every box passes the camera again, and none is listed twice.
    expect(page.locator("[data-camera-status]")).to_contain_text(
        "Đã có trong danh sách", timeout=DECODE_SECONDS * 1000
    )
    assert sorted(_listed(page)) == sorted(s.code for s in stamps)
    screenshot(page, "scanner-phone-list")

    page.check("input[name=action][value=receive]")
    page.click("form[data-scan-form] button[type=submit]")
    page.wait_for_url(f"**/portal/shipments/{shipment_id}?note=received")
    expect(page.locator(".flash")).to_be_visible()
    screenshot(page, "scanner-phone-received")
    distributor = live_server.org_id(DISTRIBUTOR)
    # Custody moved; the shoppers' scans are all still there, and no scan was recorded.
    assert _stamp_rows(live_server, stamps) == [(distributor, 0)] * BOXES
    assert _scan_events(live_server) == events
    context.close()
    assert not errors


def test_a_shoppers_phone_opens_the_stamp_it_reads_and_not_a_look_alike(
    launch_browser: Callable[..., Browser], live_server: LiveServer, tmp_path: Path
) -> None:
    stamp = live_server.claim_stamp()
    look_alike = "https://chinhhang-check.example/v/0000000000000000000000000"
    video = write_y4m(
        tmp_path / "shop.y4m",
        [look_alike, stamp_print_url(live_server.url, stamp.code)],
        frames_each=10,
    )
    browser = _camera(launch_browser, video)
    context, errors = _phone(browser, live_server)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(_host(request)))
    page = context.new_page()
    page.goto("/scan")
    # The page itself does not carry the decoder: it comes when the camera starts.
    assert not any("zxing" in url for url in requested)
    page.click("[data-camera-start]")
    page.wait_for_url(f"**/V/{stamp.code}", timeout=DECODE_SECONDS * 1000)
    expect(page.locator(".verdict.ok")).to_be_visible()
    screenshot(page, "scan-page-genuine")
    assert _stamp_rows(live_server, [stamp])[0][1] == 1
    assert all(host == _host_of(live_server.url) for host in requested), requested
    context.close()
    assert not errors


def test_the_scan_page_says_what_a_foreign_code_is(
    launch_browser: Callable[..., Browser], live_server: LiveServer, tmp_path: Path
) -> None:
    video = write_y4m(tmp_path / "foreign.y4m", ["https://chinhhang-check.example/x"])
    browser = _camera(launch_browser, video)
    context, errors = _phone(browser, live_server)
    page = context.new_page()
    page.goto("/scan")
    page.click("[data-camera-start]")
    status = page.locator("[data-camera-status]")
    expect(status).to_contain_text("chinhhang-check.example", timeout=DECODE_SECONDS * 1000)
    expect(status).to_contain_text("không phải Chính Hãng")
    assert page.url.endswith("/scan")
    screenshot(page, "scan-page-foreign")
    context.close()
    assert not errors


def _host(request: Request) -> str:
    return _host_of(request.url)


def _host_of(url: str) -> str:
    return url.split("/")[2] if "://" in url else url
