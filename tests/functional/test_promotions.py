"""Promotions over HTTP (SPEC section 7, docs/engagement.md): published in the portal and
through the API, shown on product and genuine pages only while current, offered by the GS1
resolver as `gs1:promotion`; every refusal is clear and stores nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry, Organization
from chinhhang.accounts.services import issue_token
from chinhhang.catalog.models import Product, Promotion, PromotionProduct
from chinhhang.db import session_scope
from chinhhang.localtime import vietnam_today
from tests.factories import make_run
from tests.portal_helpers import Browser, member, portal_client, table_counts

API = "/api/v1/promotions"


@dataclass
class Maker:
    org_id: int
    product_id: int
    gtin: str
    codes: list[str]
    auth: dict[str, str]


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with portal_client(settings) as test_client:
        yield test_client


def _maker(settings, engine, sessions, role: str = "owner") -> Maker:
    run = make_run(settings, engine, sessions, quantity=4, scan_limit=5)
    with session_scope(sessions) as session:
        org = session.get(Organization, run.org_id)
        secret = issue_token(
            session, org, role=role, name="t", actor=Actor.command_line(run.org_id)
        ).secret
        gtin = session.get(Product, run.product_id).gtin
    return Maker(run.org_id, run.product_id, gtin, run.codes, {"Authorization": f"Bearer {secret}"})


@pytest.fixture
def maker(settings, engine, sessions) -> Maker:
    return _maker(settings, engine, sessions)


def _days(n: int) -> str:
    return (vietnam_today() + timedelta(days=n)).isoformat()


def _body(maker: Maker, title: str, first: int, last: int, **extra: object) -> dict[str, object]:
    return {
        "title": title,
        "text": f"{title}: giảm 20%",
        "starts_on": _days(first),
        "ends_on": _days(last),
        "product_ids": [maker.product_id],
        **extra,
    }


def test_only_current_promotions_are_shown(client, maker) -> None:
    for title, first, last in [
        ("KM đang chạy", -2, 2),
        ("KM sắp tới", 1, 9),
        ("KM đã qua", -9, -1),
        ("KM chỉ hôm nay", 0, 0),
    ]:
        made = client.post(API, headers=maker.auth, json=_body(maker, title, first, last))
        assert made.status_code == 201, made.text
    listed = client.get(API, headers=maker.auth).json()["items"]
    assert {(p["title"], p["status"]) for p in listed} == {
        ("KM đang chạy", "current"),
        ("KM sắp tới", "upcoming"),
        ("KM đã qua", "past"),
        ("KM chỉ hôm nay", "current"),
    }
    for page in (
        client.get(f"/product/{maker.product_id}?lang=en").text,
        client.get(f"/v/{maker.codes[0]}?lang=en").text,  # the genuine page
    ):
        assert 'id="promotions"' in page
        assert "KM đang chạy" in page
        assert "KM chỉ hôm nay" in page
        assert "KM sắp tới" not in page
        assert "KM đã qua" not in page


def test_the_resolver_offers_a_current_promotion_only(client, maker) -> None:
    path = f"/01/{maker.gtin}?linkType=gs1:promotion"
    assert client.get(path, follow_redirects=False).status_code == 404
    future = client.post(API, headers=maker.auth, json=_body(maker, "Sau", 3, 5))
    assert client.get(path, follow_redirects=False).status_code == 404
    linkset = client.get(f"/01/{maker.gtin}?linkType=linkset").json()["linkset"][0]
    assert "https://gs1.org/voc/promotion" not in linkset
    client.patch(f"{API}/{future.json()['id']}", headers=maker.auth, json={"starts_on": _days(0)})
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 307
    # The portal client asks for English pages (Accept-Language: en).
    target = f"http://testserver/product/{maker.product_id}?lang=en#promotions"
    assert answer.headers["location"] == target
    linkset = client.get(f"/01/{maker.gtin}?linkType=linkset").json()["linkset"][0]
    hrefs = [t["href"] for t in linkset["https://gs1.org/voc/promotion"]]
    assert target in hrefs
    assert 'id="promotions"' in client.get(target).text


def test_create_edit_and_delete_in_the_portal(client, sessions, maker) -> None:
    browser = Browser(client)
    browser.login(member(sessions, org_id=maker.org_id, role="operator").email)
    assert browser.get("/portal/promotions/new").status_code == 200
    image = io.BytesIO()
    Image.new("RGB", (60, 40), (10, 120, 200)).save(image, "PNG")
    fields = {
        "title": "Tết sale",
        "text": "Mua 2 tặng 1",
        "link": "https://brand.example/tet",
        "starts_on": _days(-1),
        "ends_on": _days(10),
        "product_ids": [str(maker.product_id)],
    }
    made = browser.post(
        "/portal/promotions/new",
        data=fields,
        files={"image": ("km.png", image.getvalue(), "image/png")},
    )
    assert made.status_code == 303, made.text
    with sessions() as session:
        promotion = session.scalars(select(Promotion)).one()
        assert promotion.image_file
        assert promotion.image_file.startswith("promotions/")
        audit = session.scalars(select(AuditEntry.action)).all()
        assert "promotion.create" in audit
    listing = browser.get("/portal/promotions")
    assert "Tết sale" in listing.text
    shown = client.get(f"/product/{maker.product_id}?lang=en").text
    assert f"/media/{promotion.image_file}" in shown
    assert 'href="https://brand.example/tet"' in shown
    edit = browser.get(f"/portal/promotions/{promotion.id}")
    assert "Mua 2 tặng 1" in edit.text
    saved = browser.post(f"/portal/promotions/{promotion.id}", data={**fields, "title": "Tết 2"})
    assert saved.status_code == 303
    assert "Tết 2" in client.get(f"/product/{maker.product_id}?lang=en").text
    gone = browser.post(f"/portal/promotions/{promotion.id}/delete")
    assert gone.status_code == 303
    assert "Tết 2" not in client.get(f"/product/{maker.product_id}?lang=en").text
    with sessions() as session:
        assert session.scalars(select(PromotionProduct)).all() == []


# Each bad field, with what the refusal says; one test (one database) for all of them.
BAD_FORMS = [
    ({"starts_on": _days(5), "ends_on": _days(1)}, "last day is before its first day"),
    ({"title": ""}, "title of 1 to 200 characters"),
    ({"title": "x" * 201}, "title of 1 to 200 characters"),
    ({"text": "x" * 2001}, "longer than 2000 characters"),
    ({"link": "javascript:alert(1)"}, "http:// or https://"),
    ({"product_ids": []}, "at least one product"),
    ({"product_ids": ["x"]}, "Choose one of the listed options."),
    # A refusal names the field by its label, never by the form's field name.
    ({"starts_on": "tomorrow"}, "First day must be a date written as YYYY-MM-DD."),
    ({"ends_on": "2026-13-01"}, "Last day must be a date written as YYYY-MM-DD."),
    ({"title": "KM\x01"}, "Title contains characters that are not allowed."),
    ({"link": "https://km.example.vn/\x7f"}, "Link contains characters that are not allowed."),
    ({"ends_on": ""}, "a first and a last day"),
]


def test_a_bad_promotion_form_is_refused_and_nothing_is_stored(client, sessions, maker) -> None:
    browser = Browser(client)
    browser.login(member(sessions, org_id=maker.org_id).email)
    before = table_counts(sessions)
    for change, message in BAD_FORMS:
        fields = {
            "title": "KM",
            "starts_on": _days(0),
            "ends_on": _days(3),
            "product_ids": [str(maker.product_id)],
            **change,
        }
        refused = browser.post("/portal/promotions/new", data=fields)
        assert refused.status_code == 400, change
        assert message in refused.text, change
        assert "starts_on must" not in refused.text
        assert "ends_on must" not in refused.text
    bad_image = browser.post(
        "/portal/promotions/new",
        data={"title": "KM", "starts_on": _days(0), "ends_on": _days(3)}
        | {"product_ids": [str(maker.product_id)]},
        files={"image": ("km.png", b"not a picture", "image/png")},
    )
    assert bad_image.status_code == 400
    assert "JPEG, PNG or WebP" in bad_image.text
    assert table_counts(sessions) == before


def test_a_date_refusal_names_the_field_in_vietnamese(client, sessions, maker) -> None:
    browser = Browser(client)
    browser.login(member(sessions, org_id=maker.org_id).email)
    before = table_counts(sessions)
    fields = {"title": "KM", "starts_on": "28/11/2026", "ends_on": _days(3)}
    refused = browser.post(
        "/portal/promotions/new?lang=vi", data=fields | {"product_ids": [str(maker.product_id)]}
    )
    assert refused.status_code == 400
    assert "Trường Ngày bắt đầu phải là ngày theo định dạng YYYY-MM-DD." in refused.text
    assert "starts_on phải" not in refused.text
    assert table_counts(sessions) == before


def test_another_organizations_product_or_promotion_is_not_found(
    client, settings, engine, sessions, maker
) -> None:
    other = _maker(settings, engine, sessions)
    before = table_counts(sessions)
    body = _body(maker, "KM", 0, 3, product_ids=[maker.product_id, other.product_id])
    refused = client.post(API, headers=maker.auth, json=body)
    assert refused.status_code == 404
    assert table_counts(sessions) == before
    theirs = client.post(API, headers=other.auth, json=_body(other, "Của họ", 0, 3)).json()
    assert client.get(f"{API}/{theirs['id']}", headers=maker.auth).status_code == 404
    patched = client.patch(f"{API}/{theirs['id']}", headers=maker.auth, json={"title": "X"})
    assert patched.status_code == 404
    assert client.delete(f"{API}/{theirs['id']}", headers=maker.auth).status_code == 404
    browser = Browser(client)
    browser.login(member(sessions, org_id=maker.org_id).email)
    assert browser.get(f"/portal/promotions/{theirs['id']}").status_code == 404
    assert "Của họ" not in browser.get("/portal/promotions").text
    assert client.get(f"{API}/{theirs['id']}", headers=other.auth).json()["title"] == "Của họ"


def test_the_api_refuses_reversed_dates_and_viewers(client, settings, engine, sessions) -> None:
    maker = _maker(settings, engine, sessions)
    before = table_counts(sessions)
    reversed_ = client.post(API, headers=maker.auth, json=_body(maker, "KM", 3, 1))
    assert reversed_.status_code == 400
    assert "before its first day" in reversed_.json()["error"]["message"]
    viewer = _maker(settings, engine, sessions, role="viewer")
    denied = client.post(API, headers=viewer.auth, json=_body(viewer, "KM", 0, 1))
    assert denied.status_code == 403
    made = client.post(API, headers=maker.auth, json=_body(maker, "KM", 0, 1)).json()
    after_create = table_counts(sessions)
    bad = client.patch(f"{API}/{made['id']}", headers=maker.auth, json={"ends_on": _days(-5)})
    assert bad.status_code == 400
    assert table_counts(sessions) == after_create
    assert before != after_create


def test_scans_arriving_together_share_one_read_of_the_promotions(
    settings, engine, sessions
) -> None:
    """When the cached promotions expire under load, the scans in flight wait for one read."""
    import anyio  # noqa: PLC0415
    from sqlalchemy import event  # noqa: PLC0415

    from chinhhang.consumer.extras import GenuineExtras  # noqa: PLC0415
    from chinhhang.scans.services import Verdict  # noqa: PLC0415

    run = make_run(settings, engine, sessions, quantity=8)
    today = vietnam_today()
    with session_scope(sessions) as session:
        promotion = Promotion(org_id=run.org_id, title="Giảm giá", starts_on=today, ends_on=today)
        session.add(promotion)
        session.flush()
        session.add(PromotionProduct(promotion_id=promotion.id, product_id=run.product_id))
    extras = GenuineExtras(sessions)
    reads: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        if "promotion" in statement:
            reads.append(statement)

    async def eight_scans() -> list[str | None]:
        pages: list[str | None] = []

        async def one(code: str) -> None:
            verdict = Verdict(
                "genuine",
                code=code,
                serial="1",
                scan_count=1,
                scan_limit=1,
                product={"id": run.product_id, "warranty_months": 0},
            )
            pages.append(await extras.html("vi", verdict))

        async with anyio.create_task_group() as group:
            for code in run.codes:
                group.start_soon(one, code)
        return pages

    event.listen(engine, "before_cursor_execute", seen)
    try:
        pages = anyio.run(eight_scans)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(reads) == 1
    assert all(page is not None and "Giảm giá" in page for page in pages)
