"""What a shopper does with a phone (360×800), in a real browser: a stamp verified, the same
stamp seen again by another phone and reported, a product's printed code with its journey, and
the language switch. Each flow leaves a full-page screenshot in tests/browser/screenshots/.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from chinhhang.alerts.models import ShopperReport
from chinhhang.catalog.models import Product
from chinhhang.demo import DISTRIBUTOR, MANUFACTURER, RETAILER
from chinhhang.i18n import translator
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Stamp
from tests.browser.helpers import DemoStamp, LiveServer, screenshot

VI = translator("vi")
EN = translator("en")


def fits_the_screen(page: Page) -> None:
    """Mobile first: nothing wider than the phone, so nobody scrolls sideways to read."""
    assert page.viewport_size is not None
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]


def scan_count(server: LiveServer, stamp: DemoStamp) -> int:
    with server.engine.connect() as conn:
        return int(conn.scalar(select(Stamp.scan_count).where(Stamp.code == stamp.code)) or 0)


def outcomes(server: LiveServer, stamp: DemoStamp) -> list[str]:
    query = select(ScanEvent.outcome).where(ScanEvent.stamp_code == stamp.code)
    with server.engine.connect() as conn:
        return list(conn.scalars(query.order_by(ScanEvent.id)))


def photo() -> bytes:
    """A small PNG, as a phone's camera would attach (the server re-encodes it)."""
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_second_phone_sees_over_limit_and_reports_it(
    contexts: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    stamp = live_server.claim_stamp()
    first = contexts("phone").new_page()
    first.goto(stamp.path)
    expect(first.locator("section.verdict.ok h1")).to_have_text(VI("Genuine product"))
    expect(first.locator(".serial-card .serial")).to_have_text(stamp.serial)
    expect(first.locator(".serial-card .count")).to_have_text(VI("Scan %(n)s of %(k)s", n=1, k=1))
    fits_the_screen(first)
    screenshot(first, "shopper-genuine")
    first.reload()  # the same phone again, within the grace period: still genuine, not counted
    expect(first.locator("section.verdict.ok h1")).to_have_text(VI("Genuine product"))
    assert scan_count(live_server, stamp) == 1

    second = contexts("phone").new_page()
    second.goto(stamp.path)
    warning = second.locator("section.verdict.bad[role=alert]")
    expect(warning.locator("h1")).to_have_text(VI("Warning: this code was already verified"))
    fits_the_screen(second)
    screenshot(second, "shopper-over-limit")
    assert outcomes(live_server, stamp) == ["genuine", "over_limit"]

    second.get_by_role("button", name=VI("Report this product")).click()
    expect(second.locator("#subject-title + dl .mono")).to_have_text(stamp.serial)
    second.fill("#shop_name", "Tạp hóa Cô Ba")
    second.fill("#shop_address", "12 Nguyễn Trãi, Quận 5")
    second.select_option("#province", index=1)
    second.fill("#description", "Tem đã bị quét trước khi tôi mua.")
    second.set_input_files(
        "#photo", {"name": "tem.png", "mimeType": "image/png", "buffer": photo()}
    )
    second.fill("#contact_phone", "0912 345 678")
    fits_the_screen(second)
    second.locator("form.shopper-form button[type=submit]").click()
    second.wait_for_url(re.compile(r"/report/[^/?]+\?new=1"))
    reference = second.locator("#report-title .mono").inner_text()
    expect(second.locator("section.verdict.ok h1")).to_have_text(
        VI("Thank you: your report was sent")
    )
    screenshot(second, "shopper-report-sent")

    with live_server.engine.connect() as conn:
        report = conn.execute(
            select(ShopperReport).where(ShopperReport.reference == reference)
        ).one()
    assert (report.stamp_code, report.outcome) == (stamp.code, "over_limit")
    assert (report.shop_name, report.contact_phone) == ("Tạp hóa Cô Ba", "0912345678")
    assert report.province_code is not None
    assert report.photo_file is not None

    anyone = contexts("phone").new_page()  # the status page, from the link kept by the shopper
    anyone.goto(f"/report/{reference}")
    expect(anyone.locator("#report-title")).to_contain_text(reference)
    expect(anyone.locator(".report-status")).not_to_be_empty()
    expect(anyone.locator("main")).not_to_contain_text("0912")  # the contact is never shown
    screenshot(anyone, "shopper-report-status")


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_printed_product_code_shows_the_product_and_its_journey(
    kind: str, contexts: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    with live_server.engine.connect() as conn:
        product = conn.execute(select(Product).where(Product.name.startswith("Máy lọc"))).one()
    page = contexts(kind).new_page()
    page.goto(f"/01/{product.gtin}/10/RO-2611")  # the GS1 Digital Link printed on the box
    expect(page).to_have_url(re.compile(rf"/product/{product.id}\?lot=RO-2611"))
    expect(page.locator("h1")).to_have_text(product.name)
    expect(page.locator("#batch-title + dl")).to_contain_text("RO-2611")
    journey = page.locator("#journey ol.journey")
    expect(journey.locator("li.stage-made")).to_contain_text(MANUFACTURER)
    expect(journey.locator("li.stage-received")).to_have_count(2)
    expect(journey.locator("li.stage-received").first).to_contain_text(DISTRIBUTOR)
    expect(journey.locator("li.stage-received").last).to_contain_text(RETAILER)
    if kind == "phone":
        fits_the_screen(page)
    screenshot(page, f"shopper-product-journey-{kind}")

    before = _static_scans(live_server, product.id)
    page.goto(f"/P/{product.id}")  # the product's own printed code counts a static scan
    expect(page.locator("h1")).to_have_text(product.name)
    assert _static_scans(live_server, product.id) == before + 1


def _static_scans(server: LiveServer, product_id: int) -> int:
    query = select(ScanEvent.id).where(
        ScanEvent.kind == "static", ScanEvent.product_id == product_id
    )
    with server.engine.connect() as conn:
        return len(list(conn.scalars(query)))


def test_vietnamese_by_default_english_on_request(
    contexts: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    title = "Check that a product is genuine"
    page = contexts("phone").new_page()  # a Vietnamese phone
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("h1")).to_have_text(VI(title))
    assert VI(title) != EN(title)

    page.locator("header a.lang").click()  # the switch on the page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text(EN(title))
    page.locator("header a.brand").click()  # and it stays English on the next page
    expect(page.locator("h1")).to_have_text(EN(title))
    page.locator("header a.lang").click()
    expect(page.locator("h1")).to_have_text(VI(title))

    english = contexts("phone", locale="en-US").new_page()  # Accept-Language: en-US
    english.goto("/")
    expect(english.locator("h1")).to_have_text(EN(title))
    french = contexts("phone", locale="fr-FR").new_page()  # neither language: Vietnamese
    french.goto("/")
    expect(french.locator("h1")).to_have_text(VI(title))
    french.goto("/?lang=en")
    expect(french.locator("h1")).to_have_text(EN(title))

    stamp = live_server.claim_stamp()  # a verdict page switches without spending a scan
    page.goto(stamp.path)
    expect(page.locator("section.verdict.ok h1")).to_have_text(VI("Genuine product"))
    page.locator("header a.lang").click()
    expect(page.locator("section.verdict.ok h1")).to_have_text(EN("Genuine product"))
    assert scan_count(live_server, stamp) == 1
    screenshot(page, "shopper-genuine-english")
