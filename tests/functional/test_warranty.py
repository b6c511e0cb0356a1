"""Warranty registration over HTTP (SPEC section 7, docs/engagement.md): a genuine scan's page
offers it, the shopper registers once, looks it up by serial and phone, and the owner lists and
exports the registrations. Every refusal is clear and stores nothing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry, Organization
from chinhhang.accounts.services import issue_token
from chinhhang.catalog.models import Product
from chinhhang.consumer.models import WarrantyRegistration
from chinhhang.consumer.rules import add_months
from chinhhang.db import session_scope, utcnow
from chinhhang.localtime import vietnam_today
from chinhhang.scans import tokens
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import grouped, serial_for
from tests.factories import make_run
from tests.portal_helpers import Browser, member, portal_client

MONTHS = 12
_REGISTER_LINK = re.compile(r'href="/warranty/register\?t=([^"&]+)&amp;lang=en"')
_ERROR = re.compile(r'<p class="form-error" role="alert">([^<]+)</p>')


@dataclass
class Item:
    org_id: int
    product_id: int
    codes: list[str]
    serials: list[str]  # grouped


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with portal_client(settings) as test_client:
        yield test_client


@pytest.fixture
def item(settings, engine, sessions) -> Item:
    """Three active stamps of a product with a 12-month warranty, applied 400 days ago."""
    run = make_run(settings, engine, sessions, quantity=3)
    with session_scope(sessions) as session:
        session.get(Product, run.product_id).warranty_months = MONTHS
        session.execute(
            update(Stamp)
            .where(Stamp.run_id == run.run_id)
            .values(activated_at=utcnow() - timedelta(days=400))
        )
    serials = [grouped(serial_for(n)) for n in range(1, 4)]
    return Item(run.org_id, run.product_id, run.codes, serials)


def registration_link(client: TestClient, code: str) -> str:
    page = client.get(f"/v/{code}?lang=en")
    assert page.status_code == 200
    assert "Register the warranty (12 months)" in page.text
    found = _REGISTER_LINK.search(page.text)
    assert found, "the genuine page has no registration link"
    return found.group(1)


def registrations(sessions) -> list[WarrantyRegistration]:
    with sessions() as session:
        rows = list(session.scalars(select(WarrantyRegistration).order_by(WarrantyRegistration.id)))
        session.expunge_all()
        return rows


def error_of(html: str) -> str:
    found = _ERROR.search(html)
    assert found, "the page shows no error"
    return found.group(1)


def form(token: str, **fields: str) -> dict[str, str]:
    purchased = add_months(vietnam_today(), -3)
    return {
        "t": token,
        "name": "Nguyễn Văn An",
        "phone": "+84 912 345 678",
        "purchase_date": purchased.isoformat(),
        "shop": "Siêu thị Điện Máy Xanh, Quận 1",
        **fields,
    }


def test_register_once_look_up_list_and_export(client, sessions, item) -> None:
    token = registration_link(client, item.codes[0])
    shown = client.get(f"/warranty/register?t={token}&lang=en")
    assert shown.status_code == 200
    assert item.serials[0] in shown.text
    sent = form(token)
    posted = client.post("/warranty/register?lang=en", data=sent)
    # Post/Redirect/Get: the registration is shown by a page a reload does not post again.
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"].startswith("/warranty/registered?t=")
    done = client.get(posted.headers["location"])
    assert done.status_code == 200
    ends_on = add_months(date.fromisoformat(sent["purchase_date"]), MONTHS)
    assert f"Warranty registered until {ends_on:%d/%m/%Y}." in done.text
    assert item.serials[0] in done.text
    assert sent["name"] not in done.text  # no name or phone on it
    reloaded = client.get(posted.headers["location"])
    assert (reloaded.status_code, reloaded.text) == (200, done.text)
    (row,) = registrations(sessions)
    assert (row.serial, row.phone, row.ends_on) == (serial_for(1), "0912345678", ends_on)
    assert (row.name, row.org_id, row.product_id) == (sent["name"], item.org_id, item.product_id)

    again = client.post("/warranty/register?lang=en", data=form(token, name="Kẻ Khác"))
    assert again.status_code == 409
    assert "already registered" in again.text
    assert [(r.id, r.name) for r in registrations(sessions)] == [(row.id, sent["name"])]

    # The same browser reopens its genuine page (grace period): the warranty shows as registered.
    reopened = client.get(f"/v/{item.codes[0]}?lang=en")
    assert f"Warranty registered until {ends_on:%d/%m/%Y}." in reopened.text
    assert "/warranty/register" not in reopened.text

    _lookups(client, item, ends_on)
    _owner_views(client, sessions, item, sent, ends_on)


def _lookups(client: TestClient, item: Item, ends_on: date) -> None:
    found = client.post(
        "/warranty/lookup?lang=en", data={"serial": item.serials[0], "phone": "0912.345.678"}
    )
    assert found.status_code == 200
    assert "Nước mắm thử nghiệm" in found.text
    assert f"{ends_on:%d/%m/%Y}" in found.text
    assert "Under warranty" in found.text
    assert "Nguyễn Văn An" not in found.text  # the lookup shows no name
    wrong_phone = client.post(
        "/warranty/lookup?lang=en", data={"serial": item.serials[0], "phone": "0987654321"}
    )
    unknown = client.post(
        "/warranty/lookup?lang=en", data={"serial": item.serials[1], "phone": "0912345678"}
    )
    assert wrong_phone.status_code == unknown.status_code == 404
    assert error_of(wrong_phone.text) == error_of(unknown.text)
    api = "/api/v1/warranty/lookup"
    digits = item.serials[0].replace(" ", "")
    listed = client.post(api, json={"serial": digits, "phone": "+84912345678"})
    assert listed.status_code == 200
    (one,) = listed.json()["items"]
    assert (one["serial"], one["ends_on"], one["status"]) == (
        item.serials[0],
        ends_on.isoformat(),
        "valid",
    )
    assert "name" not in one
    no_1 = client.post(api, json={"serial": item.serials[0], "phone": "0987654321"})
    no_2 = client.post(api, json={"serial": item.serials[2], "phone": "0912345678"})
    assert no_1.status_code == no_2.status_code == 404
    assert no_1.json() == no_2.json()
    typo = client.post(
        api, json={"serial": digits[:-1] + str((int(digits[-1]) + 1) % 10), "phone": "0912345678"}
    )
    assert typo.status_code == 400
    assert "not a valid serial number" in typo.json()["error"]["message"]


def _owner_views(client, sessions, item: Item, sent: dict[str, str], ends_on: date) -> None:
    browser = Browser(client)
    browser.login(member(sessions, org_id=item.org_id, role="owner").email)
    listed = browser.get("/portal/warranty")
    assert listed.status_code == 200
    assert sent["name"] in listed.text
    assert "0912345678" in listed.text
    assert sent["name"] in browser.get("/portal/warranty?q=0912+345+678").text
    assert sent["name"] not in browser.get("/portal/warranty?q=0987654321").text
    assert browser.get("/portal/warranty?q=hello").status_code == 400
    exported = browser.get("/portal/warranty.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "serial",
        "product",
        "gtin",
        "name",
        "phone",
        "purchase_date",
        "ends_on",
        "shop",
        "registered_at",
    ]
    assert rows[1][:8] == [
        item.serials[0],
        "Nước mắm thử nghiệm",
        rows[1][2],
        sent["name"],
        "0912345678",
        sent["purchase_date"],
        ends_on.isoformat(),
        sent["shop"],
    ]
    assert len(rows) == 2
    with sessions() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "warranty.export")
        ).all()
        assert [entry.org_id for entry in audit] == [item.org_id]

    browser.login(member(sessions, org_id=item.org_id, role="viewer").email)
    assert browser.get("/portal/warranty").status_code == 200
    assert browser.get("/portal/warranty.csv").status_code == 403

    browser.login(member(sessions, role="owner").email)  # another manufacturer
    assert sent["name"] not in browser.get("/portal/warranty").text
    other = browser.get("/portal/warranty.csv").content.decode("utf-8-sig")
    assert len(other.strip().splitlines()) == 1  # the header only


def test_the_owners_api_lists_its_registrations_only(client, sessions, item) -> None:
    token = registration_link(client, item.codes[0])
    assert client.post("/warranty/register", data=form(token)).status_code == 303
    with session_scope(sessions) as session:
        org = session.get(Organization, item.org_id)
        secret = issue_token(
            session, org, role="viewer", name="t", actor=Actor.command_line(item.org_id)
        ).secret
    listed = client.get(
        "/api/v1/warranty/registrations", headers={"Authorization": f"Bearer {secret}"}
    )
    assert listed.status_code == 200
    (one,) = listed.json()["items"]
    assert (one["serial"], one["phone"], one["product_id"]) == (
        serial_for(1),
        "0912345678",
        item.product_id,
    )
    assert client.get("/api/v1/warranty/registrations").status_code == 401


def test_register_through_the_json_api(client, sessions, item) -> None:
    token = registration_link(client, item.codes[1])
    purchased = vietnam_today() - timedelta(days=10)
    body = {"token": token, "name": "Trần Thị Bình", "phone": "0987 654 321"}
    made = client.post("/api/v1/warranty", json={**body, "purchase_date": purchased.isoformat()})
    assert made.status_code == 201, made.text
    assert made.json()["ends_on"] == add_months(purchased, MONTHS).isoformat()
    assert made.json()["serial"] == item.serials[1]
    again = client.post("/api/v1/warranty", json={**body, "purchase_date": purchased.isoformat()})
    assert again.status_code == 409
    assert "already registered" in again.json()["error"]["message"]
    assert len(registrations(sessions)) == 1


def _token(client: TestClient, code: str, outcome: str, age: timedelta) -> str:
    return tokens.make(client.app.state.scan_token_key, code, outcome, utcnow() - age)


# Each bad field, with what the refusal says. One test (one database) for all of them: every
# refusal stores nothing, so they follow one another on the same item and token.
BAD_INPUT = [
    ({"phone": "12345"}, "must be a Vietnamese number"),
    ({"phone": "+1 415 555 0100"}, "must be a Vietnamese number"),
    ({"purchase_date": "2999-01-01"}, "cannot be in the future"),
    ({"purchase_date": "28/11/26"}, "Write the purchase date as day/month/year"),
    ({"purchase_date": "31/02/2026"}, "Write the purchase date as day/month/year"),
    ({"purchase_date": "2026-11-28T10:00"}, "Write the purchase date as day/month/year"),
    ({"purchase_date": ""}, "Give the purchase date."),
    ({"purchase_date": "@before_applied"}, "before the stamp was applied"),
    ({"purchase_date": "@future_typed"}, "cannot be in the future"),
    ({"name": "  "}, "Give your name."),
    ({"name": "x" * 201}, "Your name is longer than 200 characters."),
    ({"shop": "a\x00b"}, "Shop contains characters that are not allowed."),
    ({"shop": "x" * 201}, "Shop is longer than 200 characters."),
    ({"t": "forged.g.123.AAAA"}, "not valid or is more than a day old"),
    ({"t": ""}, "not valid or is more than a day old"),
    ({"t": "@expired"}, "not valid or is more than a day old"),
    ({"t": "@over_limit"}, "not valid or is more than a day old"),
]


def test_bad_input_is_refused_and_nothing_is_stored(client, sessions, item) -> None:
    token = registration_link(client, item.codes[0])
    special = {
        "@expired": _token(client, item.codes[0], "genuine", timedelta(days=1, seconds=5)),
        "@over_limit": _token(client, item.codes[0], "over_limit", timedelta(seconds=1)),
        "@before_applied": (vietnam_today() - timedelta(days=500)).isoformat(),
        "@future_typed": f"{vietnam_today() + timedelta(days=2):%d/%m/%Y}",
    }
    for change, message in BAD_INPUT:
        fields = {key: special.get(value, value) for key, value in change.items()}
        response = client.post("/warranty/register?lang=en", data=form(token, **fields))
        assert response.status_code == 400, (change, response.text)
        said = error_of(response.text)
        assert message in said, change
        for name in ("purchase_date", "name", "shop"):  # the form's labels, not field names
            assert not said.startswith(name), said
    with session_scope(sessions) as session:  # applied long ago, bought 13 months ago
        session.execute(update(Stamp).values(activated_at=utcnow() - timedelta(days=2000)))
    ended = (vietnam_today() - timedelta(days=399)).isoformat()
    response = client.post("/warranty/register?lang=en", data=form(token, purchase_date=ended))
    assert response.status_code == 400
    assert "has already ended" in error_of(response.text)
    api = client.post(
        "/api/v1/warranty",
        json={"token": token, "name": "A", "phone": "123", "purchase_date": ended},
    )
    assert api.status_code == 400
    assert "must be a Vietnamese number" in api.json()["error"]["message"]
    assert registrations(sessions) == []


def test_a_date_typed_day_first_is_read_as_people_in_vietnam_write_it(
    client, sessions, item
) -> None:
    token = registration_link(client, item.codes[1])
    purchased = add_months(vietnam_today(), -2)
    typed = f"{purchased.day}/{purchased.month:02d}/{purchased.year}"
    posted = client.post("/warranty/register?lang=en", data=form(token, purchase_date=typed))
    assert posted.status_code == 303, posted.text
    (row,) = registrations(sessions)
    assert row.purchase_date == purchased


def test_a_refusal_names_the_field_in_vietnamese(client, sessions, item) -> None:
    token = registration_link(client, item.codes[1])
    refused = client.post("/warranty/register?lang=vi", data=form(token, name="x" * 201))
    assert refused.status_code == 400
    assert error_of(refused.text) == "Trường Họ tên dài quá 200 ký tự."
    assert registrations(sessions) == []


def test_the_registration_page_needs_the_scan_token_of_a_registered_item(
    client, sessions, item
) -> None:
    token = registration_link(client, item.codes[1])
    unregistered = client.get(f"/warranty/registered?t={token}&lang=en")
    assert unregistered.status_code == 404
    assert "not registered yet" in error_of(unregistered.text)
    assert 'action="/warranty/register?lang=en"' in unregistered.text  # the form, to register
    for bad in ("", "forged.g.123.AAAA", _token(client, item.codes[1], "over_limit", timedelta())):
        refused = client.get("/warranty/registered", params={"t": bad, "lang": "en"})
        assert refused.status_code == 400, bad
        assert "not valid or is more than a day old" in error_of(refused.text)
    assert registrations(sessions) == []


def test_an_over_limit_scan_offers_no_registration_and_its_token_is_refused(
    client, sessions, item
) -> None:
    client.get(f"/v/{item.codes[2]}?lang=en")
    client.cookies.clear()
    warning = client.get(f"/v/{item.codes[2]}?lang=en")
    assert "already verified" in warning.text
    assert "/warranty/register" not in warning.text
    token = _token(client, item.codes[2], "over_limit", timedelta(seconds=1))
    body = {"token": token, "name": "A", "phone": "0912345678"}
    refused = client.post(
        "/api/v1/warranty", json={**body, "purchase_date": vietnam_today().isoformat()}
    )
    assert refused.status_code == 400
    assert registrations(sessions) == []


def test_a_product_without_warranty_offers_none(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, quantity=1)
    page = client.get(f"/v/{run.codes[0]}?lang=en")
    assert page.status_code == 200
    assert "Register the warranty" not in page.text
    token = _token(client, run.codes[0], "genuine", timedelta(seconds=1))
    refused = client.get(f"/warranty/register?t={token}&lang=en")
    assert refused.status_code == 400
    assert "no warranty" in error_of(refused.text)


def test_lookups_are_throttled_per_client(client, item) -> None:
    data = {"serial": item.serials[0], "phone": "0912345678"}
    answers = [client.post("/warranty/lookup?lang=en", data=data).status_code for _ in range(20)]
    assert set(answers) == {404}
    assert client.post("/warranty/lookup?lang=en", data=data).status_code == 429
    assert client.post("/api/v1/warranty/lookup", json=data).status_code == 429


def test_the_how_to_page_and_the_lookup_form(client, item) -> None:
    page = client.get(f"/warranty?product={item.product_id}&lang=en")
    assert page.status_code == 200
    assert "Nước mắm thử nghiệm" in page.text
    assert "12 months" in page.text
    assert 'id="lookup"' in page.text
    assert client.get("/warranty/lookup?lang=en").status_code == 200
    assert client.get("/warranty?product=abc").status_code == 404
    assert client.get("/warranty?product=999999").status_code == 404
    with_no_count = client.post("/warranty/lookup?lang=en", data={"serial": "12", "phone": "x"})
    assert with_no_count.status_code == 400


def test_a_stamp_voided_after_the_scan_cannot_be_registered(client, sessions, item) -> None:
    token = registration_link(client, item.codes[0])
    with session_scope(sessions) as session:
        session.execute(update(Stamp).where(Stamp.code == item.codes[0]).values(status="void"))
    refused = client.post("/warranty/register?lang=en", data=form(token))
    assert refused.status_code == 400
    assert "no longer valid" in error_of(refused.text)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(WarrantyRegistration)) == 0


def test_genuine_pages_mostly_read_nothing_for_their_extras(client, item) -> None:
    """A first genuine scan reads no registration; promotions are read once per product and
    kept (consumer/extras.py): the hot path pays for neither on most scans."""
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        if "warranty_registrations" in statement or "promotion" in statement:
            statements.append(statement)

    engine = client.app.state.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for code in item.codes:
            assert "Register the warranty" in client.get(f"/v/{code}?lang=en").text
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 1  # the product's current promotions, once
    assert "promotion" in statements[0]
