"""The business portal in a real browser: a manufacturer at a desktop makes a product, a batch
and a run, activates it and downloads its labels; a distributor's warehouse receives a
shipment on a phone; the market-control agency opens its dashboard. Each flow leaves a
full-page screenshot in tests/browser/screenshots/.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from chinhhang.catalog.models import Batch
from chinhhang.demo import DISTRIBUTOR, MANUFACTURER
from chinhhang.i18n import translator
from chinhhang.stamps.models import Shipment, Stamp, StampRun
from chinhhang.stamps.serials import serial_for
from tests.browser.helpers import LiveServer, login, screenshot
from tests.browser.pages import DISTRIBUTOR_OWNER, OWNER, REGULATOR_OWNER

VI = translator("vi")
RUN_QUANTITY = 12
ISSUING_SECONDS = 60


def note(page: Page) -> str:
    return page.locator("p.flash").inner_text()


def new_id(page: Page, pattern: str) -> int:
    page.wait_for_url(re.compile(pattern))
    found = re.search(pattern, page.url)
    assert found is not None
    return int(found.group(1))


@pytest.mark.usefixtures("label_font")  # PDF labels need a Unicode font (tests/conftest.py)
def test_manufacturer_issues_activates_and_downloads_labels(
    desktop: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    suffix = secrets.token_hex(3).upper()
    name, lot = f"Trà xanh Thái Nguyên {suffix}", f"TX-{suffix}"
    login(desktop, OWNER)
    desktop.goto("/portal/products/new")
    desktop.fill("#name", name)
    desktop.fill("#brand", "Sen Vàng")
    desktop.fill("#origin", "Thái Nguyên, Việt Nam")
    desktop.locator("form[action='/portal/products/new'] button[type=submit]").click()
    product_id = new_id(desktop, r"/portal/products/(\d+)\?note=created")

    desktop.fill("#lot", lot)
    desktop.fill("#production_date", "2026-11-02")
    desktop.fill("#expiry_date", "2028-11-02")
    desktop.fill("#facility", "Nhà máy chè Tân Cương")
    desktop.locator(f"form[action='/portal/products/{product_id}/batches'] button").click()
    desktop.wait_for_url(re.compile(r"\?note=batch"))
    expect(desktop.locator("#batches-title ~ .table-wrap")).to_contain_text(lot)
    with live_server.engine.connect() as conn:
        batch_id = conn.scalar(
            select(Batch.id).where(Batch.product_id == product_id, Batch.lot == lot)
        )
    assert batch_id is not None

    desktop.goto("/portal/runs/new")
    desktop.fill("#quantity", str(RUN_QUANTITY))
    desktop.fill("#scan_limit", "1")
    desktop.locator("form[action='/portal/runs/new'] button[type=submit]").click()
    run_id = new_id(desktop, r"/portal/runs/(\d+)")
    # Issuing runs in the background; the page reloads itself until the run is ready.
    expect(desktop.locator("#run-title")).to_have_text(VI("Ready"), timeout=ISSUING_SECONDS * 1000)

    desktop.select_option("#activate-product", str(product_id))
    desktop.fill("#activate-lot", lot)
    desktop.locator(f"form[action='/portal/runs/{run_id}/activate'] button").click()
    desktop.wait_for_url(re.compile(r"\?note=activated"))
    assert note(desktop) == VI("Stamps activated: %(n)s.", n=RUN_QUANTITY)
    with live_server.engine.connect() as conn:
        run = conn.execute(select(StampRun).where(StampRun.id == run_id)).one()
        stamps = conn.execute(
            select(Stamp.status, Stamp.product_id, Stamp.batch_id).where(Stamp.run_id == run_id)
        ).all()
    assert stamps == [("active", product_id, batch_id)] * RUN_QUANTITY

    desktop.select_option("#export-format", "pdf")
    with desktop.expect_download() as downloading:
        desktop.locator(f"form[action='/portal/runs/{run_id}/export'] button").click()
    download = downloading.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    content = saved.read_bytes()
    assert saved.suffix == ".pdf"
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    with live_server.engine.connect() as conn:
        exports = conn.scalar(select(StampRun.export_count).where(StampRun.id == run_id))
    assert exports == run.export_count + 1
    desktop.goto(f"/portal/runs/{run_id}")
    screenshot(desktop, "manufacturer-run")


def test_distributor_receives_a_shipment(
    contexts: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    boxes = live_server.claim_stamps(3)
    serials = f"{serial_for(boxes[0].sequence)}-{serial_for(boxes[-1].sequence)}"
    reference = f"PX-{secrets.token_hex(3).upper()}"
    maker = contexts("desktop").new_page()
    login(maker, OWNER)
    maker.goto("/portal/shipments/new")
    maker.select_option("#to_org_id", label=DISTRIBUTOR)
    maker.check("input[name=scope][value=serials]")
    maker.fill("#serials", serials)
    maker.fill("#reference", reference)
    maker.locator("form[action='/portal/shipments/new'] button[type=submit]").click()
    shipment_id = new_id(maker, r"/portal/shipments/(\d+)\?note=shipped")

    warehouse = contexts("phone").new_page()  # staff at the warehouse, with a phone
    login(warehouse, DISTRIBUTOR_OWNER)
    warehouse.goto("/portal/shipments")
    incoming = warehouse.locator("#incoming-title ~ .table-wrap tr", has_text=reference)
    incoming.get_by_role("link").click()
    warehouse.get_by_role("button", name=VI("Receive this shipment")).click()
    warehouse.wait_for_url(re.compile(rf"/portal/shipments/{shipment_id}\?note=received"))
    assert note(warehouse) == VI("The shipment was received; its stamps are now in your custody.")
    screenshot(warehouse, "distributor-received")

    codes = [box.code for box in boxes]
    with live_server.engine.connect() as conn:
        shipment = conn.execute(select(Shipment).where(Shipment.id == shipment_id)).one()
        holders = set(conn.scalars(select(Stamp.holder_org_id).where(Stamp.code.in_(codes))))
    assert (shipment.status, shipment.reference, shipment.quantity) == ("received", reference, 3)
    assert shipment.received_at is not None
    assert holders == {live_server.org_id(DISTRIBUTOR)}


def test_regulator_opens_the_market_control_dashboard(phone: Page, live_server: LiveServer) -> None:
    login(phone, REGULATOR_OWNER)
    phone.get_by_role("link", name=VI("Statistics")).click()
    phone.wait_for_url(re.compile(r"/regulator"))
    expect(phone.locator("h1")).to_have_text(VI("Market control"))
    with live_server.engine.connect() as conn:
        issued = conn.scalar(select(func.count()).select_from(Stamp))
    stat = phone.locator(".stats .stat", has_text=VI("stamps issued"))
    expect(stat.locator("b")).to_have_text(str(issued))
    expect(phone.locator("#scans svg")).to_be_visible()
    expect(phone.locator(".scope-note")).to_contain_text(VI("Figures of every organization."))
    assert MANUFACTURER in phone.locator("#f-org").inner_text()
    screenshot(phone, "regulator-dashboard")
