"""Products in the portal: create, edit, upload an image (and see it where shoppers look),
batches; every bad input refused with a clear message and nothing stored."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from chinhhang.catalog.models import Batch, Product
from tests.factories import gtin, make_run
from tests.portal_helpers import Browser, location_id, member, portal_client, table_counts


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with portal_client(settings) as test_client:
        yield test_client


@pytest.fixture
def browser(client, sessions) -> Browser:
    browser = Browser(client)
    browser.login(member(sessions).email)
    return browser


def _product(sessions, product_id: int) -> Product:
    with sessions() as session:
        product = session.get(Product, product_id)
        assert product is not None
        session.expunge(product)
        return product


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


FULL = {
    "name": "Trà Shan Tuyết 100 g",
    "brand": "Núi Cao",
    "description": "Trà cổ thụ.",
    "origin": "Hà Giang, Việt Nam",
    "standards": "TCVN 9740:2013",
    "certifications": "VietGAP",
    "shelf_life": "18 tháng",
    "warranty_months": "0",
    "website": "https://nuicao.example/tra",
    "redirect_to_website": "1",
}


def test_create_a_product_with_every_field(browser, sessions) -> None:
    code = gtin()
    response = browser.post("/portal/products/new", data={**FULL, "gtin": code})
    assert response.status_code == 303
    product = _product(sessions, location_id(response))
    assert (product.name, product.gtin, product.origin) == (FULL["name"], code, FULL["origin"])
    assert product.redirect_to_website is True
    page = browser.get(response.headers["location"])
    assert "Created." in page.text
    assert f"http://testserver/01/{code}" in page.text  # the static QR code's address
    assert FULL["name"] in browser.get("/portal/products").text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "A product needs a name of 1 to 200 characters."),
        ({"gtin": "12345"}, "GTIN"),
        ({"warranty_months": "two"}, "warranty_months must be a whole number."),
        ({"warranty_months": "999"}, "The warranty is 0 to 240 months."),
        ({"website": "javascript:alert(1)"}, "must be an http:// or https:// address."),
        ({"origin": "x" * 201}, "origin is longer than 200 characters."),
    ],
)
def test_a_bad_product_form_is_refused_and_nothing_is_stored(
    browser, sessions, fields, message
) -> None:
    before = table_counts(sessions)
    response = browser.post("/portal/products/new", data={**FULL, **fields})
    assert response.status_code == 400
    assert message in response.text
    assert 'class="form-error"' in response.text
    assert table_counts(sessions) == before


def test_edit_a_product_and_its_gtin_is_set_once(browser, sessions) -> None:
    created = browser.post("/portal/products/new", data={"name": "Bánh pía"})
    product_id = location_id(created)
    code = gtin()
    edited = browser.post(
        f"/portal/products/{product_id}",
        data={**FULL, "name": "Bánh pía Sóc Trăng", "gtin": code, "withdrawn": "1"},
    )
    assert edited.status_code == 303
    product = _product(sessions, product_id)
    assert (product.name, product.gtin, product.withdrawn) == ("Bánh pía Sóc Trăng", code, True)
    assert "readonly" in browser.get(f"/portal/products/{product_id}").text
    refused = browser.post(f"/portal/products/{product_id}", data={"name": "X", "gtin": gtin()})
    assert refused.status_code == 409
    assert "cannot be changed once set" in refused.text
    assert _product(sessions, product_id).name == "Bánh pía Sóc Trăng"


def test_a_duplicate_gtin_is_a_conflict(browser, sessions) -> None:
    code = gtin()
    assert browser.post("/portal/products/new", data={"name": "A", "gtin": code}).status_code == 303
    before = table_counts(sessions)
    response = browser.post("/portal/products/new", data={"name": "B", "gtin": code})
    assert response.status_code == 409
    assert "Another product already has GTIN" in response.text
    assert table_counts(sessions) == before


def test_another_manufacturers_product_is_not_found(browser, settings, engine, sessions) -> None:
    other = make_run(settings, engine, sessions, quantity=1)
    assert browser.get(f"/portal/products/{other.product_id}").status_code == 404
    response = browser.post(f"/portal/products/{other.product_id}", data={"name": "Mine now"})
    assert response.status_code == 404
    assert _product(sessions, other.product_id).name != "Mine now"


def test_an_uploaded_image_shows_in_the_portal_and_to_shoppers(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, quantity=1)
    browser = Browser(client)
    browser.login(member(sessions, org_id=run.org_id).email)
    response = browser.post(
        f"/portal/products/{run.product_id}/image",
        files={"image": ("tra.png", _png(), "image/png")},
    )
    assert response.status_code == 303
    stored = _product(sessions, run.product_id).image_file
    assert stored
    assert (settings.data_dir / "media" / stored).is_file()
    assert client.get(f"/media/{stored}").headers["content-type"] == "image/jpeg"
    src = f'src="/media/{stored}"'
    assert src in browser.get(f"/portal/products/{run.product_id}").text
    assert src in client.get(f"/p/{run.product_id}").text
    assert src in client.get(f"/v/{run.codes[0]}").text  # the verdict page


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.png", b"this is text, not a picture", "The image must be a JPEG, PNG or WebP"),
        ("huge.png", b"\x89PNG" + bytes(6 * 1024 * 1024), "The image is larger than 5 MB."),
        ("empty.png", b"", "Choose an image file."),
    ],
)
def test_a_bad_image_is_refused_and_nothing_is_stored(
    client, settings, engine, sessions, name, data, message
) -> None:
    run = make_run(settings, engine, sessions, quantity=1)
    browser = Browser(client)
    browser.login(member(sessions, org_id=run.org_id).email)
    before = table_counts(sessions)
    response = browser.post(
        f"/portal/products/{run.product_id}/image", files={"image": (name, data, "image/png")}
    )
    assert response.status_code == 400
    assert message in response.text
    assert _product(sessions, run.product_id).image_file is None
    assert not list((settings.data_dir / "media").rglob("*.jpg"))
    assert table_counts(sessions) == before


def _batches(sessions, product_id: int) -> list[Batch]:
    with sessions() as session:
        return list(session.scalars(select(Batch).where(Batch.product_id == product_id)))


def test_add_and_update_a_batch(browser, sessions) -> None:
    product_id = location_id(browser.post("/portal/products/new", data={"name": "Mật ong"}))
    url = f"/portal/products/{product_id}/batches"
    added = browser.post(
        url,
        data={"lot": "MO-01", "production_date": "2026-10-01", "expiry_date": "2028-10-01"},
    )
    assert added.status_code == 303
    assert browser.post(url, data={"lot": "MO-01", "facility": "Xưởng Ba Vì"}).status_code == 303
    (batch,) = _batches(sessions, product_id)
    assert (batch.lot, str(batch.production_date), batch.facility) == (
        "MO-01",
        "2026-10-01",
        "Xưởng Ba Vì",
    )
    page = browser.get(f"/portal/products/{product_id}").text
    assert "MO-01" in page
    assert "01/10/2028" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lot": ""}, "A lot number has 1 to 20 letters, digits or symbols."),
        ({"lot": "L 1"}, "A lot number has 1 to 20 letters, digits or symbols."),
        ({"lot": "L1", "production_date": "01/10/2026"}, "must be a date written as YYYY-MM-DD"),
        (
            {"lot": "L1", "production_date": "2026-10-01", "expiry_date": "2026-01-01"},
            "The expiry date is before the production date.",
        ),
    ],
)
def test_a_bad_batch_is_refused_and_nothing_is_stored(browser, sessions, fields, message) -> None:
    product_id = location_id(browser.post("/portal/products/new", data={"name": "Mật ong"}))
    before = table_counts(sessions)
    response = browser.post(f"/portal/products/{product_id}/batches", data=fields)
    assert response.status_code == 400
    assert message in response.text
    assert table_counts(sessions) == before
