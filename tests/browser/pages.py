"""Every page the accessibility and page-weight checks open: what a shopper sees, and the
portal's main pages.

A page is a name and a `prepare` step that makes what it needs (claims its own demo stamps,
scans them, files a report…) and says where to go, as whom and what status to expect. Every
visit prepares its page afresh, so no check depends on another or on the order of tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from chinhhang.alerts.models import Alert, ShopperReport
from chinhhang.catalog.models import Product
from chinhhang.demo import MANUFACTURER, RETAILER
from chinhhang.localtime import vietnam_today
from chinhhang.stamps.models import Shipment, StampRun
from tests.browser.helpers import GUESS_LIMIT, SCAN_RATE_LIMIT, LiveServer, scan_token

OWNER = "owner@senvang.demo"
DISTRIBUTOR_OWNER = "kho@miennam.demo"
REGULATOR_OWNER = "thanhtra@qltt.demo"
# Well formed, but never issued: its tag cannot verify under any test server's random key.
UNKNOWN_CODE = "0WB7323SFWMMS6ZC66RGG6DS"
FISH_SAUCE = "Nước mắm"
WATER_FILTER = "Máy lọc nước"
ALERT_WAIT_SECONDS = 20


@dataclass(frozen=True)
class Visit:
    path: str
    status: int = 200
    # The client address the browser must come from (X-Forwarded-For), when the page depends
    # on what that address did before (the guessing and throttled pages).
    address: str | None = None


@dataclass(frozen=True)
class PageSpec:
    name: str
    prepare: Callable[[LiveServer], Visit]
    user: str | None = None  # portal pages: who is logged in (None: nobody)
    # A page whose answer depends on a one-minute window (the scan throttle): if the window
    # turned between preparing and opening, prepare and open once more.
    windowed: bool = False


def _path(path: str, status: int = 200) -> Callable[[LiveServer], Visit]:
    return lambda _server: Visit(path, status)


# -- shopper pages ---------------------------------------------------------------------------


def _genuine(server: LiveServer) -> Visit:
    return Visit(server.claim_stamp().path)


def _genuine_with_journey(server: LiveServer) -> Visit:
    """A water filter that went maker → distributor → retailer: journey, warranty, promotion."""
    return Visit(server.claim_stamp(scan_limit=3, holder=RETAILER).path)


def _over_limit(server: LiveServer) -> Visit:
    stamp = server.claim_stamp()
    server.scan(stamp)
    return Visit(stamp.path)


def _not_activated(server: LiveServer) -> Visit:
    return Visit(server.claim_stamp(status="issued").path)


def _void(server: LiveServer) -> Visit:
    return Visit(server.claim_stamp(status="void").path)


def _product_page(server: LiveServer) -> Visit:
    return Visit(f"/p/{server.product_id(FISH_SAUCE)}")


def _product_lot_page(server: LiveServer) -> Visit:
    """Where the GS1 resolver sends a lot's code: the product with its lot and journey."""
    return Visit(f"/product/{server.product_id(WATER_FILTER)}?lot=RO-2611")


def _digital_link(server: LiveServer) -> Visit:
    with server.engine.connect() as conn:
        gtin = conn.scalar(select(Product.gtin).where(Product.name.startswith(FISH_SAUCE)))
    return Visit(f"/01/{gtin}/10/L2026-11A")


def _report_from_warning(server: LiveServer) -> Visit:
    stamp = server.claim_stamp()
    server.scan(stamp)
    return Visit(f"/report?t={scan_token(server.scan(stamp))}")


def _report_status(server: LiveServer) -> Visit:
    answer = server.fetch("/report", form={"shop_name": "Tạp hóa Cô Ba", "province": ""})
    assert answer.status == 200, answer.text
    return Visit(answer.path)


def _warranty_token(server: LiveServer) -> str:
    """A genuine scan's token for a water filter (24 months' warranty) the maker still holds:
    the five the retailer holds are left for the journey pages."""
    water_filter = server.product_id(WATER_FILTER)
    stamp = server.claim_stamp(scan_limit=3, holder=MANUFACTURER, product_id=water_filter)
    return scan_token(server.scan(stamp))


def _warranty_register(server: LiveServer) -> Visit:
    return Visit(f"/warranty/register?t={_warranty_token(server)}")


def _warranty_registered(server: LiveServer) -> Visit:
    form = {
        "t": _warranty_token(server),
        "name": "Nguyễn Văn An",
        "phone": "0912 345 678",
        "purchase_date": vietnam_today().isoformat(),
        "shop": "Điện máy Quận 7",
    }
    answer = server.fetch("/warranty/register", form=form)
    assert answer.status == 200, answer.text
    assert answer.path.startswith("/warranty/registered"), answer.path
    return Visit(answer.path)


def _place(server: LiveServer) -> Visit:
    return Visit(f"/place?t={scan_token(server.scan(server.claim_stamp()))}")


def _guessing(server: LiveServer) -> Visit:
    """An address that sent more unknown codes than the guessing budget."""
    address = server.new_address()
    for _ in range(GUESS_LIMIT):
        server.fetch(f"/v/{UNKNOWN_CODE}", address=address)
    return Visit(f"/v/{UNKNOWN_CODE}", 429, address)


def _throttled(server: LiveServer) -> Visit:
    """An address that spent its scan budget (HEAD requests count against it, never a scan)."""
    address = server.new_address()
    stamp = server.claim_stamp()
    for _ in range(SCAN_RATE_LIMIT * 2):
        if server.fetch(stamp.path, address=address, method="HEAD").status == 429:
            return Visit(stamp.path, 429, address)
    raise AssertionError("the scan throttle never answered 429")


SHOPPER_PAGES: tuple[PageSpec, ...] = (
    PageSpec("home", _path("/")),
    PageSpec("genuine", _genuine),
    PageSpec("genuine-journey-warranty", _genuine_with_journey),
    PageSpec("over-limit", _over_limit),
    PageSpec("not-activated", _not_activated),
    PageSpec("void", _void),
    PageSpec("unknown-code", _path(f"/v/{UNKNOWN_CODE}", 404)),
    PageSpec("product", _product_page),
    PageSpec("product-lot-journey", _product_lot_page),
    PageSpec("digital-link", _digital_link),
    PageSpec("report-form", _path("/report")),
    PageSpec("report-from-warning", _report_from_warning),
    PageSpec("report-status", _report_status),
    PageSpec("warranty", _path("/warranty")),
    PageSpec("warranty-register", _warranty_register),
    PageSpec("warranty-registered", _warranty_registered),
    PageSpec("place", _place),
    PageSpec("scan-camera", _path("/scan")),
    PageSpec("not-found", _path("/no/such/page", 404)),
    PageSpec("guessing", _guessing),
    PageSpec("throttled", _throttled, windowed=True),
)


# -- portal pages ----------------------------------------------------------------------------


def _first(server: LiveServer, column: Any, *where: Any) -> int:
    with server.engine.connect() as conn:
        found = conn.scalar(select(column).where(*where).order_by(column).limit(1))
    assert found is not None, f"nothing found for {column}"
    return int(found)


def _portal_product(server: LiveServer) -> Visit:
    return Visit(f"/portal/products/{server.product_id(WATER_FILTER)}")


def _portal_run(server: LiveServer) -> Visit:
    return Visit(f"/portal/runs/{_first(server, StampRun.id)}")


def _portal_shipment(server: LiveServer) -> Visit:
    return Visit(
        f"/portal/shipments/{_first(server, Shipment.id, Shipment.reference == 'PX-0001')}"
    )


def _incoming_shipment(server: LiveServer) -> Visit:
    """The distributor's view of a shipment to it (the demo's PX-0003, sent, not received)."""
    return Visit(
        f"/portal/shipments/{_first(server, Shipment.id, Shipment.reference == 'PX-0003')}"
    )


def _portal_alert(server: LiveServer) -> Visit:
    """An over-limit alert, made by the alert worker from a stamp scanned twice."""
    stamp = server.claim_stamp()
    server.scan(stamp)
    server.scan(stamp)
    deadline = time.monotonic() + ALERT_WAIT_SECONDS
    while time.monotonic() < deadline:
        with server.engine.connect() as conn:
            found = conn.scalar(select(Alert.id).where(Alert.stamp_code == stamp.code))
        if found is not None:
            return Visit(f"/portal/alerts/{found}")
        time.sleep(0.2)
    raise AssertionError("the alert worker made no alert")


def _portal_report(server: LiveServer) -> Visit:
    stamp = server.claim_stamp()
    server.scan(stamp)
    token = scan_token(server.scan(stamp))
    answer = server.fetch(f"/report?t={token}", form={"shop_name": "Chợ Lớn, sạp 12"})
    assert answer.status == 200, answer.text
    reference = answer.path.split("/report/")[1].split("?")[0]
    return Visit(
        f"/portal/reports/{_first(server, ShopperReport.id, ShopperReport.reference == reference)}"
    )


PORTAL_PAGES: tuple[PageSpec, ...] = (
    PageSpec("login", _path("/portal/login")),
    PageSpec("dashboard", _path("/portal"), OWNER),
    PageSpec("products", _path("/portal/products"), OWNER),
    PageSpec("product", _portal_product, OWNER),
    PageSpec("new-product", _path("/portal/products/new"), OWNER),
    PageSpec("runs", _path("/portal/runs"), OWNER),
    PageSpec("run", _portal_run, OWNER),
    PageSpec("new-run", _path("/portal/runs/new"), OWNER),
    PageSpec("shipments", _path("/portal/shipments"), OWNER),
    PageSpec("shipment", _portal_shipment, OWNER),
    PageSpec("new-shipment", _path("/portal/shipments/new"), OWNER),
    PageSpec("stamps", _path("/portal/stamps"), OWNER),
    PageSpec("scans", _path("/portal/scans"), OWNER),
    PageSpec("members", _path("/portal/members"), OWNER),
    PageSpec("alerts", _path("/portal/alerts"), OWNER),
    PageSpec("alert", _portal_alert, OWNER),
    PageSpec("reports", _path("/portal/reports"), OWNER),
    PageSpec("report", _portal_report, OWNER),
    PageSpec("scanner", _path("/portal/scan"), OWNER),
    PageSpec("incoming-shipment", _incoming_shipment, DISTRIBUTOR_OWNER),
    PageSpec("regulator-dashboard", _path("/regulator"), REGULATOR_OWNER),
)
