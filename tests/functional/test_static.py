"""Static product codes: GS1 Digital Link paths (through the resolver) and /p/{id}, each scan
counted once for statistics."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.catalog.models import Product
from chinhhang.db import session_scope
from chinhhang.scans.models import ScanEvent
from tests.factories import make_run


def static_events(engine) -> list[ScanEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(ScanEvent).where(ScanEvent.kind == "static")))


def gtin_of(sessions, product_id: int) -> str:
    with session_scope(sessions) as session:
        return str(session.get(Product, product_id).gtin)


def test_gtin_page_shows_the_product_and_counts(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    gtin = gtin_of(sessions, run.product_id)
    for path in (f"/01/{gtin}", f"/01/{gtin[1:]}", f"/p/{run.product_id}", f"/P/{run.product_id}"):
        page = client.get(path)  # the resolver's redirect is followed to the product page
        assert page.status_code == 200
        assert "Nước mắm thử nghiệm" in page.text
    assert len(static_events(engine)) == 4


def test_the_resolver_redirects_and_its_landing_page_does_not_count_again(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions)
    gtin = gtin_of(sessions, run.product_id)
    response = client.get(f"/01/{gtin}", follow_redirects=False)
    assert response.status_code == 307
    landing = response.headers["location"]
    assert landing == f"http://testserver/product/{run.product_id}?lang=vi"
    assert len(static_events(engine)) == 1
    for _ in range(3):  # reloading the page it landed on is not another scan of the code
        assert "Nước mắm thử nghiệm" in client.get(landing).text
    assert len(static_events(engine)) == 1


def test_lot_page_shows_the_batch(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, lot="LOT-7")
    gtin = gtin_of(sessions, run.product_id)
    page = client.get(f"/01/{gtin}/10/LOT-7")
    assert "LOT-7" in page.text
    assert static_events(engine)[0].batch_id is not None
    unknown_lot = client.get(f"/01/{gtin}/10/NOPE")  # falls back to the product
    assert unknown_lot.status_code == 200
    assert "Lô sản xuất" not in unknown_lot.text
    without_gtin = client.get(f"/p/{run.product_id}?lot=LOT-7")
    assert "LOT-7" in without_gtin.text
    assert [event.batch_id is not None for event in static_events(engine)] == [True, False, True]


def test_previews_and_head_are_not_counted(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    gtin = gtin_of(sessions, run.product_id)
    for path in (f"/p/{run.product_id}", f"/01/{gtin}"):
        client.get(path, headers={"User-Agent": "WhatsApp/2.23"})
        client.head(path)
    assert static_events(engine) == []


def test_redirect_to_the_manufacturers_page(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    with session_scope(sessions) as session:
        product = session.get(Product, run.product_id)
        product.website = "https://brand.example/nuoc-mam"
        product.redirect_to_website = True
    gtin = gtin_of(sessions, run.product_id)
    for path in (f"/p/{run.product_id}", f"/01/{gtin}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 307
        assert response.headers["location"] == "https://brand.example/nuoc-mam"
    assert len(static_events(engine)) == 2
    # The platform's own page stays reachable (the linkset offers it beside the maker's).
    assert client.get(f"/product/{run.product_id}", follow_redirects=False).status_code == 200


def test_withdrawn_product_is_gone(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    with session_scope(sessions) as session:
        session.get(Product, run.product_id).withdrawn = True
    gtin = gtin_of(sessions, run.product_id)
    for path in (f"/p/{run.product_id}", f"/01/{gtin}", f"/product/{run.product_id}"):
        response = client.get(path)
        assert response.status_code == 410
        assert "thu hồi" in response.text
