"""The GS1 Digital Link resolver over HTTP (SPEC section 6, docs/traceability.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import create_organization
from chinhhang.catalog.models import Product, ProductLink, Promotion, PromotionProduct
from chinhhang.catalog.services import create_product, get_or_create_batch
from chinhhang.db import session_scope
from chinhhang.localtime import vietnam_today
from chinhhang.scans.models import ScanEvent
from chinhhang.trace.compression import compress
from tests.factories import gtin as new_gtin

VOC = "https://gs1.org/voc/"


@dataclass
class Made:
    product_id: int
    gtin: str


@pytest.fixture
def made(sessions) -> Made:
    """An approved maker's product with a GTIN and one batch, LOT-7."""
    with session_scope(sessions) as session:
        org = create_organization(session, name="Công ty Nước mắm", kind="manufacturer")
        product = create_product(
            session, Actor.command_line(org.id), name="Nước mắm Phú Quốc", gtin=new_gtin()
        )
        get_or_create_batch(session, product_id=product.id, lot="LOT-7")
        return Made(product.id, str(product.gtin))


def add_link(sessions, made: Made, link_type: str, href: str, **fields: object) -> None:
    with session_scope(sessions) as session:
        session.add(
            ProductLink(
                product_id=made.product_id,
                link_type=link_type,
                href=href,
                title=str(fields.pop("title", "Trang của hãng")),
                hreflang=fields.pop("hreflang", "vi"),
                **fields,
            )
        )


def set_product(sessions, made: Made, **values: object) -> None:
    with session_scope(sessions) as session:
        product = session.get(Product, made.product_id)
        for name, value in values.items():
            setattr(product, name, value)


def static_scans(engine) -> list[ScanEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(ScanEvent).where(ScanEvent.kind == "static")))


def location(client, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers, follow_redirects=False)
    assert response.status_code == 307, response.text
    return str(response.headers["location"])


def linkset_header(gtin: str, qualifiers: str = "") -> str:
    return (
        f"<http://testserver/01/{gtin}{qualifiers}?linkType=linkset>; "
        'rel="linkset"; type="application/linkset+json"'
    )


def test_a_scan_redirects_to_the_product_page_and_counts_once(client, engine, made) -> None:
    response = client.get(f"/01/{made.gtin}", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == f"http://testserver/product/{made.product_id}?lang=vi"
    assert response.headers["link"] == linkset_header(made.gtin)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Location" in response.headers["access-control-expose-headers"]
    page = client.get(response.headers["location"])
    assert "Nước mắm Phú Quốc" in page.text
    assert len(static_scans(engine)) == 1  # the redirect counted, its landing page did not


def test_what_does_not_count(client, engine, made) -> None:
    client.head(f"/01/{made.gtin}")
    client.options(f"/01/{made.gtin}")
    client.get(f"/01/{made.gtin}?linkType=linkset")
    client.get(f"/01/{made.gtin}", headers={"User-Agent": "WhatsApp/2.23"})
    client.get(f"/product/{made.product_id}")
    client.get(f"/01/{made.gtin}?linkType=gs1:promotion")  # 404
    assert static_scans(engine) == []
    client.get(f"/P/{made.product_id}")  # the printed form of a GTIN-less product's code
    assert len(static_scans(engine)) == 1


def test_the_lot_is_kept_and_an_unknown_one_falls_back(client, engine, made) -> None:
    target = location(client, f"/01/{made.gtin}/10/LOT-7")
    assert parse_qs(urlsplit(target).query)["lot"] == ["LOT-7"]
    assert "LOT-7" in client.get(target).text
    assert static_scans(engine)[0].batch_id is not None
    unknown = location(client, f"/01/{made.gtin}/10/NOPE/21/12345")
    assert "lot" not in parse_qs(urlsplit(unknown).query)


def test_the_manufacturers_default_link_lot_level_first(client, sessions, made) -> None:
    add_link(sessions, made, "gs1:pip", "https://brand.example/sp", is_default=True)
    add_link(sessions, made, "gs1:pip", "https://brand.example/lo7", lot="LOT-7", is_default=True)
    assert location(client, f"/01/{made.gtin}") == "https://brand.example/sp"
    assert location(client, f"/01/{made.gtin}/10/LOT-7") == "https://brand.example/lo7"
    assert location(client, f"/01/{made.gtin}/10/LOT-8") == "https://brand.example/sp"


def test_the_manufacturers_website_when_chosen(client, sessions, engine, made) -> None:
    set_product(sessions, made, website="https://brand.example/nuoc-mam", redirect_to_website=True)
    assert location(client, f"/01/{made.gtin}") == "https://brand.example/nuoc-mam"
    assert len(static_scans(engine)) == 1


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("gs1:verificationService", "http://testserver/?lang=vi#code"),
        ("https://gs1.org/voc/traceability", "/product/{id}?lang=vi#journey"),
        ("pip", "/product/{id}?lang=vi"),
        ("gs1:epcis", "/epcis/events?MATCH_epcClass=https%3A%2F%2Fid.gs1.org%2F01%2F{gtin}"),
    ],
)
def test_link_types_of_the_platform(client, made, asked: str, expected: str) -> None:
    target = location(client, f"/01/{made.gtin}?linkType={asked}")
    assert target.endswith(expected.format(id=made.product_id, gtin=made.gtin))


def test_a_manufacturer_link_comes_first_in_the_shoppers_language(client, sessions, made) -> None:
    add_link(sessions, made, "gs1:registerProduct", "https://brand.example/bao-hanh")
    add_link(sessions, made, "gs1:pip", "https://brand.example/vi", hreflang="vi")
    add_link(sessions, made, "gs1:pip", "https://brand.example/en", hreflang="en")
    path = f"/01/{made.gtin}?linkType=gs1:registerProduct"
    assert location(client, path) == "https://brand.example/bao-hanh"
    english = location(client, f"/01/{made.gtin}?linkType=gs1:pip", **{"Accept-Language": "en"})
    assert english == "https://brand.example/en"
    assert location(client, f"/01/{made.gtin}?linkType=gs1:pip") == "https://brand.example/vi"


def test_a_missing_link_type_is_404_and_an_unknown_one_400(client, made) -> None:
    missing = client.get(f"/01/{made.gtin}?linkType=gs1:recallStatus")
    assert missing.status_code == 404
    assert missing.headers["link"] == linkset_header(made.gtin)
    unknown = client.get(f"/01/{made.gtin}?linkType=gs1:nope&lang=en")
    assert unknown.status_code == 400
    assert "gs1:pip" in unknown.text


def test_the_linkset_has_the_rfc_9264_shape(client, sessions, made) -> None:
    add_link(sessions, made, "gs1:promotion", "https://brand.example/km", lot="LOT-7")
    add_link(sessions, made, "gs1:certificationInfo", "https://brand.example/cn", hreflang=None)
    gtin13 = made.gtin[1:]  # asked with a GTIN-13, answered with the GTIN-14
    response = client.get(f"/01/{gtin13}/10/LOT-7?linkType=linkset")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/linkset+json"
    assert response.headers["link"].startswith(linkset_header(made.gtin, "/10/LOT-7"))
    (context,) = response.json()["linkset"]
    assert context["anchor"] == f"http://testserver/01/{made.gtin}/10/LOT-7"
    for name in ("pip", "verificationService", "traceability", "epcis", "promotion"):
        assert VOC + name in context
    assert context[VOC + "promotion"][0]["href"] == "https://brand.example/km"
    assert context[VOC + "certificationInfo"][0]["hreflang"] == ["und"]
    assert context[VOC + "defaultLink"] == [context[VOC + "pip"][0]]
    assert len(context[VOC + "defaultLinkMulti"]) == 2  # the product page in vi and en
    for key, targets in context.items():
        if key != "anchor":
            for target in targets:
                assert set(target) == {"href", "title", "hreflang", "type"}
                assert target["title"]
                assert isinstance(target["hreflang"], list)


def test_other_ways_to_ask_for_the_linkset(client, made) -> None:
    by_accept = client.get(f"/01/{made.gtin}", headers={"Accept": "application/linkset+json"})
    assert by_accept.headers["content-type"] == "application/linkset+json"
    older = client.get(f"/01/{made.gtin}?linkType=all")
    assert older.json() == by_accept.json()
    plain = client.get(f"/01/{made.gtin}?linkType=linkset", headers={"Accept": "application/json"})
    assert plain.headers["content-type"] == "application/json"


def test_warranty_registration_is_offered_as_register_product(client, sessions, made) -> None:
    path = f"/01/{made.gtin}?linkType=gs1:registerProduct"
    assert client.get(path).status_code == 404  # no warranty, no link
    assert (
        VOC + "registerProduct"
        not in client.get(f"/01/{made.gtin}?linkType=linkset").json()["linkset"][0]
    )
    set_product(sessions, made, warranty_months=24)
    target = location(client, path)
    assert target == f"http://testserver/warranty?product={made.product_id}&lang=vi"
    english = location(client, path, **{"Accept-Language": "en"})
    assert english.endswith("&lang=en")
    (context,) = client.get(f"/01/{made.gtin}?linkType=linkset").json()["linkset"]
    assert {t["hreflang"][0] for t in context[VOC + "registerProduct"]} == {"vi", "en"}
    page = client.get(english)
    assert page.status_code == 200
    assert "Nước mắm Phú Quốc" in page.text
    assert "24 months" in page.text


def test_a_current_promotion_is_offered_as_promotion(client, sessions, made) -> None:
    today = vietnam_today()
    with session_scope(sessions) as session:
        org_id = session.get(Product, made.product_id).org_id
        for title, first, last in (("Past", -5, -1), ("Later", 1, 5)):
            promotion = Promotion(
                org_id=org_id,
                title=title,
                starts_on=today + timedelta(days=first),
                ends_on=today + timedelta(days=last),
            )
            session.add(promotion)
            session.flush()
            session.add(PromotionProduct(promotion_id=promotion.id, product_id=made.product_id))
    path = f"/01/{made.gtin}/10/LOT-7?linkType=gs1:promotion"
    assert client.get(path).status_code == 404
    with session_scope(sessions) as session:
        later = session.scalars(select(Promotion).where(Promotion.title == "Later")).one()
        later.starts_on = today
    target = location(client, path)
    assert target == f"http://testserver/product/{made.product_id}?lot=LOT-7&lang=vi#promotions"
    (context,) = client.get(f"/01/{made.gtin}?linkType=linkset").json()["linkset"]
    assert len(context[VOC + "promotion"]) == 2  # the product page's, in vi and en
    assert "Later" in client.get(target).text


def test_query_pairs_pass_through_to_the_target(client, sessions, made) -> None:
    add_link(sessions, made, "gs1:pip", "https://brand.example/sp?ref=qr&x=1", is_default=True)
    target = location(client, f"/01/{made.gtin}/?17=261231&x=2&linkType=gs1:pip")
    assert target == "https://brand.example/sp?ref=qr&17=261231&x=2"


def test_a_withdrawn_product_is_gone_whatever_is_asked(client, sessions, engine, made) -> None:
    set_product(sessions, made, withdrawn=True)
    for query in ("", "?linkType=gs1:pip", "?linkType=linkset"):
        response = client.get(f"/01/{made.gtin}{query}")
        assert response.status_code == 410
        assert "thu hồi" in response.text
        assert response.headers["link"] == linkset_header(made.gtin)
    assert static_scans(engine) == []


@pytest.mark.parametrize(
    ("path", "vietnamese", "english"),
    [
        ("/01/02000000000016", "Số kiểm tra của mã GTIN", "check digit is wrong"),
        ("/01/123", "8, 12, 13 hoặc 14 chữ số", "8, 12, 13 or 14 digits"),
        ("/01/02000000000015/21/X/10/Y", None, "may not come in this order"),
        ("/01/02000000000015?17=261231&17=261231", None, "appears twice"),
    ],
)
def test_malformed_links_say_why(client, path: str, vietnamese: str | None, english: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.headers["access-control-allow-origin"] == "*"
    assert "link" not in response.headers
    if vietnamese:
        assert vietnamese in response.text
    as_json = client.get(path, headers={"Accept": "application/json", "Accept-Language": "en"})
    assert english in as_json.json()["error"]["message"]


def test_an_unknown_gtin_is_404_without_a_linkset(client) -> None:
    response = client.get(f"/01/{new_gtin()}")
    assert response.status_code == 404
    assert "link" not in response.headers


def test_head_and_the_cors_preflight(client, made) -> None:
    head = client.head(f"/01/{made.gtin}", follow_redirects=False)
    assert head.status_code == 307
    assert head.headers["link"] == linkset_header(made.gtin)
    preflight = client.options(f"/01/{made.gtin}", headers={"Origin": "https://app.example"})
    assert preflight.status_code == 204
    assert preflight.headers["allow"] == "GET, HEAD, OPTIONS"
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_the_resolver_describes_itself(client) -> None:
    description = client.get("/.well-known/gs1resolver").json()
    assert description["resolverRoot"] == "http://testserver"
    assert description["supportedPrimaryKeys"] == ["01"]
    assert description["supportedLinkType"][0]["namespace"] == VOC
    assert "gs1:verificationService" in description["linkTypes"]
    assert description["linkTypeDefaultCanBeLinkset"] is False


def test_a_compressed_link_resolves_like_the_uncompressed_one(client, made) -> None:
    segment = compress(f"https://id.gs1.org/01/{made.gtin}/10/LOT-7?17=261231")
    response = client.get(f"/{segment}", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == location(client, f"/01/{made.gtin}/10/LOT-7?17=261231")
    same_as = f'<http://testserver/01/{made.gtin}/10/LOT-7?17=261231>; rel="owl:sameAs"'
    assert same_as in response.headers["link"]
    assert 'rel="linkset"' in response.headers["link"]
    linkset = client.get(f"/{segment}?linkType=linkset").json()
    assert linkset["linkset"][0]["anchor"] == f"http://testserver/01/{made.gtin}/10/LOT-7"


def test_a_compressed_link_to_a_malformed_one_says_why(client) -> None:
    response = client.get("/ARZlXgDkHA")  # (01) 12312312312334, a wrong check digit
    assert response.status_code == 400
    assert "Số kiểm tra của mã GTIN" in response.text
    assert response.headers["access-control-allow-origin"] == "*"


def test_root_pages_are_not_taken_for_compressed_links(client) -> None:
    assert client.get("/nowhere").status_code == 404
    assert client.get("/check", params={"code": ""}, follow_redirects=False).status_code == 303
    assert client.get("/healthz").status_code == 200
    assert client.delete("/healthz").status_code == 405


def test_the_old_short_names_are_read_too(client, made) -> None:
    assert location(client, f"/gtin/{made.gtin}/lot/LOT-7").endswith("lot=LOT-7&lang=vi")


def test_the_platforms_epcis_link_gets_only_its_own_query(client, made) -> None:
    # The EPCIS query refuses any parameter it does not know (400), so the data attributes,
    # `context` and campaign tags a scan carries are not passed on to it.
    query = "17=261231&context=dn&utm_source=qr&lang=en&linkType=gs1:epcis"
    target = location(client, f"/01/{made.gtin}/10/LOT-7?{query}")
    assert parse_qs(urlsplit(target).query) == {
        "MATCH_epcClass": [f"https://id.gs1.org/01/{made.gtin}/10/LOT-7"]
    }
    page = location(client, f"/01/{made.gtin}?17=261231&utm_source=qr&linkType=gs1:pip")
    assert parse_qs(urlsplit(page).query)["17"] == ["261231"]  # other targets still get them
    assert parse_qs(urlsplit(page).query)["utm_source"] == ["qr"]


def test_an_unknown_link_type_of_a_known_product_carries_the_linkset(client, made) -> None:
    unknown = client.get(f"/01/{made.gtin}?linkType=gs1:nope")
    assert unknown.status_code == 400
    assert unknown.headers["link"] == linkset_header(made.gtin)
    nobody = client.get(f"/01/{new_gtin()}?linkType=gs1:nope")
    assert nobody.status_code == 404  # the product is looked up first
    assert "link" not in nobody.headers
    malformed = client.get("/01/02000000000016?linkType=gs1:nope")
    assert malformed.status_code == 400  # a malformed link before any lookup
    assert "link" not in malformed.headers


def test_a_compressed_links_own_query_gives_way_to_the_requests(client, made) -> None:
    segment = compress(f"https://id.gs1.org/01/{made.gtin}?17=261231&linkType=gs1%3Apip")
    linkset = client.get(f"/{segment}?linkType=linkset")
    assert linkset.status_code == 200
    assert linkset.headers["content-type"] == "application/linkset+json"
    target = location(client, f"/{segment}?17=271231")
    assert parse_qs(urlsplit(target).query)["17"] == ["271231"]  # not "appears twice"
    assert location(client, f"/{segment}") == location(client, f"/01/{made.gtin}?17=261231")


@pytest.mark.parametrize("value", ["999999", "261300", "260230", "260431", "270229"])
def test_a_date_attribute_must_be_a_date(client, made, value: str) -> None:
    response = client.get(f"/01/{made.gtin}?17={value}")
    assert response.status_code == 400
    assert "Giá trị của mã định danh ứng dụng GS1 (17) không đúng định dạng" in response.text
    assert "link" not in response.headers


@pytest.mark.parametrize("value", ["261231", "260600", "280229", "000229"])
def test_a_date_attribute_may_leave_the_day_out(client, made, value: str) -> None:
    # YYMM00: the day unspecified (GS1 "yymmd0", every one of AIs 11-17); 2028 is a leap year.
    assert "17=" + value in location(client, f"/01/{made.gtin}?17={value}")


def test_the_language_switch_of_a_refusal_stays_on_the_same_question(client, made) -> None:
    # The 404 page's "English" link was `?lang=en`: it dropped the link type and opened the
    # product page instead of the same answer in English.
    page = client.get(f"/01/{made.gtin}?linkType=gs1:promotion", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert 'href="?linkType=gs1%3Apromotion&amp;lang=en"' in page.text


def test_the_lot_pages_language_switch_keeps_the_lot(client, made) -> None:
    page = client.get(f"/product/{made.product_id}?lot=LOT-7")
    assert 'href="?lot=LOT-7&amp;lang=en"' in page.text
