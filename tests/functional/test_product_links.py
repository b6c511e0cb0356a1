"""Product links (GS1 Digital Link), GS1 identifiers and traceability completeness, over the
JSON API and in the portal: what is stored, what is shown, what is refused (4xx, nothing
changed, never a 500)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.gtin import check_digit
from chinhhang.catalog.links import add_link, list_links
from chinhhang.catalog.services import create_product
from chinhhang.db import session_scope
from tests.factories import gtin
from tests.portal_helpers import Browser, member, portal_client, table_counts

API = "/api/v1"
GLN = "893458801234" + str(check_digit("893458801234"))
LINK = {"link_type": "pip", "href": "https://nuicao.example/tra", "title": "Trà Núi Cao"}


# --- the JSON API --------------------------------------------------------------------------


def test_links_are_added_listed_edited_and_deleted(client, world) -> None:
    owner, url = world.maker.auth(), f"{API}/products/{world.maker.product_id}/links"
    made = client.post(url, headers=owner, json={**LINK, "hreflang": "vi", "is_default": True})
    assert made.status_code == 201
    link = made.json()
    assert (link["link_type"], link["lot"], link["is_default"]) == ("gs1:pip", "", True)
    other = client.post(url, headers=owner, json={**LINK, "link_type": "gs1:support"}).json()
    moved = client.patch(f"{url}/{other['id']}", headers=owner, json={"is_default": True})
    assert moved.status_code == 200
    assert moved.json()["is_default"] is True
    listed = client.get(url, headers=world.maker.auth("viewer")).json()["items"]
    assert [(i["id"], i["is_default"]) for i in listed] == [
        (link["id"], False),
        (other["id"], True),
    ]
    cleared = client.patch(f"{url}/{link['id']}", headers=owner, json={"hreflang": None})
    assert cleared.json()["hreflang"] is None
    assert client.delete(f"{url}/{link['id']}", headers=owner).status_code == 204
    assert client.delete(f"{url}/{link['id']}", headers=owner).status_code == 404
    assert [i["id"] for i in client.get(url, headers=owner).json()["items"]] == [other["id"]]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {**LINK, "link_type": "gs1:warranty"},
        {**LINK, "href": "javascript:alert(1)"},
        {**LINK, "href": "http://[::1"},
        {**LINK, "title": ""},
        {**LINK, "title": "x" * 201},
        {**LINK, "hreflang": "not a tag"},
        {**LINK, "lot": "bad lot"},
        {**LINK, "media_type": "html"},
        {**LINK, "is_default": "maybe"},
        {**LINK, "product_id": 1},
    ],
)
def test_bad_link_bodies_are_a_400_and_change_nothing(client, world, sessions, body) -> None:
    before = table_counts(sessions)
    url = f"{API}/products/{world.maker.product_id}/links"
    response = client.post(url, headers=world.maker.auth(), json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "400"
    assert table_counts(sessions) == before


def test_a_bad_edit_is_a_400_and_a_foreign_link_a_404(client, world) -> None:
    owner, url = world.maker.auth(), f"{API}/products/{world.maker.product_id}/links"
    link = client.post(url, headers=owner, json=LINK).json()
    for body in ({"href": None}, {"title": " "}, {"link_type": "gs1:nothing"}, {"lot": "a b"}):
        assert client.patch(f"{url}/{link['id']}", headers=owner, json=body).status_code == 400
    foreign = f"{API}/products/{world.other_maker.product_id}/links"
    assert client.get(foreign, headers=owner).status_code == 404
    assert client.post(foreign, headers=owner, json=LINK).status_code == 404
    assert client.delete(f"{foreign}/{link['id']}", headers=owner).status_code == 404
    assert client.post(url, headers=world.distributor.auth(), json=LINK).status_code == 403
    assert client.get(url, headers=world.regulator.auth()).status_code == 200
    assert client.get(url, headers=owner).json()["items"] == [link]


def test_a_batch_keeps_its_facility_gln_through_the_api(client, world) -> None:
    url = f"{API}/products/{world.maker.product_id}/batches"
    saved = client.post(url, headers=world.maker.auth(), json={"lot": "G1", "facility_gln": GLN})
    assert saved.status_code == 200
    assert saved.json()["facility_gln"] == GLN
    wrong = client.post(url, headers=world.maker.auth(), json={"lot": "G1", "facility_gln": "1"})
    assert wrong.status_code == 400
    assert "facility_gln" in wrong.json()["error"]["message"]


def test_the_organization_keeps_its_gln_and_company_prefix(client, world) -> None:
    owner = world.maker.auth()
    body = {"gln": GLN, "gs1_company_prefix": "8934588"}
    assert client.patch(f"{API}/organization", headers=owner, json=body).status_code == 200
    me = client.get(f"{API}/me", headers=owner).json()["organization"]
    assert (me["gln"], me["gs1_company_prefix"]) == (GLN, "8934588")
    for bad in ({"gln": GLN[:-1] + "0" if GLN[-1] != "0" else GLN[:-1] + "1"}, {"gln": "x"}):
        assert client.patch(f"{API}/organization", headers=owner, json=bad).status_code == 400
    bad_prefix = {"gs1_company_prefix": "123"}
    assert client.patch(f"{API}/organization", headers=owner, json=bad_prefix).status_code == 400
    cleared = client.patch(f"{API}/organization", headers=owner, json={"gln": None})
    assert (cleared.json()["gln"], cleared.json()["gs1_company_prefix"]) == (None, "8934588")


# --- the portal ----------------------------------------------------------------------------


@pytest.fixture
def portal(settings) -> Iterator[TestClient]:
    with portal_client(settings) as test_client:
        yield test_client


@pytest.fixture
def owner(sessions):
    return member(sessions)


@pytest.fixture
def browser(portal, owner) -> Browser:
    browser = Browser(portal)
    browser.login(owner.email)
    return browser


def _product(sessions, org_id: int, code: str | None = None) -> int:
    with session_scope(sessions) as session:
        return create_product(session, Actor.command_line(org_id), name="Trà", gtin=code).id


def test_an_owner_adds_links_makes_one_default_and_deletes_one(browser, owner, sessions) -> None:
    code = gtin()
    product = _product(sessions, owner.org_id, code)
    page_url = f"/portal/products/{product}"
    page = browser.get(page_url).text
    assert f"http://testserver/01/{code}" in page  # the resolver's address
    assert '<option value="gs1:verificationService">' in page
    added = browser.post(f"{page_url}/links", data={**LINK, "is_default": "1"})
    assert added.status_code == 303
    browser.post(f"{page_url}/links", data={**LINK, "link_type": "gs1:support", "lot": "L9"})
    with sessions() as session:
        first, second = list_links(session, Actor.command_line(owner.org_id), product)
    page = browser.get(page_url).text
    assert "Product information" in page
    assert "Customer support" in page
    assert "★</span> default" in page
    assert "L9" in page
    assert f"{page_url}/links/{first.id}/default" not in page  # already the default
    assert browser.post(f"{page_url}/links/{second.id}/default").status_code == 303
    assert browser.post(f"{page_url}/links/{first.id}/delete").status_code == 303
    page = browser.get(page_url).text
    assert "Customer support" in page
    assert f"/links/{first.id}/" not in page
    assert page.count("★</span> default") == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({**LINK, "link_type": "gs1:warranty"}, "Unknown link type"),
        ({**LINK, "href": "ftp://example.vn"}, "must be an http:// or https:// address"),
        ({**LINK, "title": ""}, "A link needs a title of 1 to 200 characters."),
        ({**LINK, "hreflang": "tiếng Việt"}, "language tag"),
        ({**LINK, "lot": "a b"}, "A lot number has 1 to 20"),
    ],
)
def test_a_bad_link_form_is_refused_with_its_values_kept(
    browser, owner, sessions, form, message
) -> None:
    product = _product(sessions, owner.org_id)
    before = table_counts(sessions)
    response = browser.post(f"/portal/products/{product}/links", data=form)
    assert response.status_code == 400
    assert message in response.text
    if form["title"]:
        assert f'value="{form["title"]}"' in response.text
    assert table_counts(sessions) == before


def test_foreign_or_missing_links_are_not_found(browser, owner, sessions) -> None:
    product = _product(sessions, owner.org_id)
    other = member(sessions)
    foreign = _product(sessions, other.org_id)
    with session_scope(sessions) as session:
        link = add_link(session, Actor.command_line(other.org_id), foreign, **LINK).id
    assert browser.post(f"/portal/products/{foreign}/links/{link}/delete").status_code == 404
    response = browser.post(f"/portal/products/{product}/links/{link}/default")
    assert response.status_code == 404
    assert "No such link." in response.text


def test_a_viewer_sees_links_and_completeness_but_no_forms(portal, owner, sessions) -> None:
    product = _product(sessions, owner.org_id)
    with session_scope(sessions) as session:
        add_link(session, Actor.command_line(owner.org_id), product, **LINK)
    browser = Browser(portal)
    browser.login(member(sessions, org_id=owner.org_id, role="viewer").email)
    page = browser.get(f"/portal/products/{product}").text
    assert LINK["href"] in page
    assert "/links/" not in page  # no make-default or delete forms
    assert f'action="/portal/products/{product}/links"' not in page
    assert "2 of 10" in page  # name and producer
    assert "Give the product its GTIN to publish these links" in page


def test_the_product_page_and_list_show_completeness(browser, owner, sessions) -> None:
    product = _product(sessions, owner.org_id, gtin())
    page = browser.get(f"/portal/products/{product}").text
    assert "Traceability data (Circular 02/2024)" in page
    assert "3 of 10" in page  # name, producer and GTIN
    assert "Upload a photo of the product." in page  # the hint for a missing item
    assert f'href="/portal/products/{product}/traceability.json"' in page
    assert ">3/10<" in browser.get("/portal/products").text
    browser.post("/portal/members/profile", data={"address": "Hà Giang", "website": ""})
    browser.post(
        f"/portal/products/{product}/batches",
        data={
            "lot": "L1",
            "facility": "Xưởng 1",
            "facility_gln": GLN,
            "production_date": "2026-01-05",
        },
    )
    page = browser.get(f"/portal/products/{product}").text
    assert "6 of 10" in page  # and the address, the stages, the production time
    assert GLN in page
    assert ">6/10<" in browser.get("/portal/products").text


def test_bad_gs1_numbers_in_the_portal_forms_are_refused(browser, owner, sessions) -> None:
    product = _product(sessions, owner.org_id)
    before = table_counts(sessions)
    wrong = GLN[:-1] + str((int(GLN[-1]) + 1) % 10)
    batch = browser.post(
        f"/portal/products/{product}/batches", data={"lot": "L1", "facility_gln": wrong}
    )
    assert batch.status_code == 400
    assert "The check digit of facility_gln is wrong" in batch.text
    profile = browser.post("/portal/members/profile", data={"gln": "12", "website": ""})
    assert profile.status_code == 400
    assert "gln must be a GLN of 13 digits." in profile.text
    prefix = browser.post("/portal/members/profile", data={"gs1_company_prefix": "12"})
    assert "A GS1 company prefix has 6 to 12 digits." in prefix.text
    assert table_counts(sessions) == before


def test_the_profile_form_keeps_the_gln_and_company_prefix(browser) -> None:
    form = {"address": "Hà Giang", "website": "", "gln": GLN, "gs1_company_prefix": "8934588"}
    assert browser.post("/portal/members/profile", data=form).status_code == 303
    page = browser.get("/portal/members").text
    assert f'value="{GLN}"' in page
    assert 'value="8934588"' in page
