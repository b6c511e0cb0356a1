"""Shoppers' reports (SPEC section 7) over HTTP: sent from a warning page with a photo,
followed by reference, worked by the owner and regulators; every bad input refused with a
clear message and nothing stored (no row, no file)."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry, Organization
from chinhhang.accounts.services import issue_token
from chinhhang.alerts.grouping import process_outbox
from chinhhang.alerts.models import Alert, ReportNote, ShopperReport
from chinhhang.alerts.report_edge import MAX_BODY, REPORT_RATE, TEXT_FIELDS
from chinhhang.db import session_scope, utcnow
from chinhhang.scans import tokens
from chinhhang.scans.models import ScanEvent
from chinhhang.scans.throttle import Throttle
from tests.factories import make_run
from tests.portal_helpers import Browser, member, operator, portal_client, table_counts
from tests.unit.alerts.test_photos import png_header

_TOKEN = re.compile(r'name="t" value="([^"]+)"')
_ACTION = re.compile(r'<form method="post" action="([^"]+)" enctype="multipart/form-data"')
_REFERENCE = re.compile(r"/report/(PA-[0-9A-Z]{8})")
_ERROR = re.compile(r'<p class="form-error" role="alert">([^<]+)</p>')
GPS_IFD = 0x8825
# The form's field names, which a refusal must never show for a label.
RAW_NAMES = [name for name in TEXT_FIELDS if "_" in name] + ["description"]


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with portal_client(settings) as test_client:
        # Tests send more reports than a shopper's hourly budget (one test checks the budget).
        test_client.app.state.report_throttle = Throttle("1000/hour")
        yield test_client


def phone_photo(size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG as a phone writes it, with the place it was taken in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (21.0, 1.0, 42.0), 3: "E", 4: (105.0, 51.0, 15.0)})
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, "JPEG", exif=exif)
    return out.getvalue()


def over_limit_token(client: TestClient, code: str) -> str:
    """Scan twice as two phones; the second page's "Report this product" token."""
    for _ in range(2):
        client.cookies.clear()
        page = client.get(f"/v/{code}").text
    assert "Report this product" in page
    found = _TOKEN.search(page)
    assert found
    return found.group(1)


def send(
    client: TestClient, token: str | None, data: dict[str, str], photo: bytes | None = None
) -> Any:
    """Open the report form (with the token, if any) and post it as the browser would."""
    form = client.get("/report", params={"t": token} if token else {})
    action = _ACTION.search(form.text)
    assert action, form.text
    files = {"photo": ("photo.jpg", photo, "image/jpeg")} if photo is not None else None
    return client.post(action.group(1).replace("&amp;", "&"), data=data, files=files)


def error_of(page: str) -> str:
    found = _ERROR.search(page)
    assert found, "the page shows no error"
    return html.unescape(found.group(1))


def multipart(parts: list[tuple[str, bytes, str | None]]) -> tuple[bytes, dict[str, str]]:
    """A multipart body with its parts in this order (a browser sends them in the form's)."""
    boundary = "chinhhang-test-boundary"
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        kind = "Content-Type: image/jpeg\r\n" if filename else ""
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n"
        body += head.encode() + value + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def stored_photos(settings) -> list[Path]:
    folder = settings.data_dir / "reports"
    return sorted(folder.iterdir()) if folder.exists() else []


def reports(sessions) -> list[ShopperReport]:
    with sessions() as session:
        found = list(session.scalars(select(ShopperReport).order_by(ShopperReport.id)))
        session.expunge_all()
        return found


def test_the_shoppers_report_from_scan_to_confirmed(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    token = over_limit_token(client, run.codes[0])
    with session_scope(sessions) as session:
        process_outbox(session, utcnow())  # the alert worker's turn: the stamp's alert opens
    data = {
        "shop_name": "Tạp hóa Minh",
        "shop_address": "12 Hàng Bạc, Hà Nội",
        "province": "1",
        "description": "Nắp chai bị hở",
        "contact_phone": "+84 912 345 678",
        "contact_email": "lan@example.vn",
    }
    sent = send(client, token, data, phone_photo())
    assert sent.status_code == 303
    reference = _REFERENCE.search(sent.headers["location"]).group(1)
    thanks = client.get(sent.headers["location"])
    assert "Thank you: your report was sent" in thanks.text
    assert reference in thanks.text
    assert "New" in thanks.text

    (report,) = reports(sessions)
    assert (report.org_id, report.product_id) == (run.org_id, run.product_id)
    assert (report.stamp_code, report.outcome) == (run.codes[0], "over_limit")
    assert report.contact_phone == "0912345678"
    with sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.stamp_code == run.codes[0])).one()
        events = session.scalars(
            select(ScanEvent.province_code).where(ScanEvent.stamp_code == run.codes[0])
        ).all()
    assert report.alert_id == alert.id
    assert sorted(events, key=str) == [1, None]  # the reporting scan's event got the province
    (photo,) = stored_photos(settings)
    assert photo.name == report.photo_file
    with Image.open(photo) as stored:
        assert stored.format == "JPEG"
        assert not stored.getexif().get_ifd(GPS_IFD)
    assert b"PhoneMaker" not in photo.read_bytes()

    owner = Browser(client)
    owner.login(member(sessions, org_id=run.org_id, role="owner").email)
    listed = owner.get("/portal/reports")
    assert reference in listed.text
    detail = owner.get(f"/portal/reports/{report.id}")
    assert "Tạp hóa Minh" in detail.text
    assert "0912345678" in detail.text
    assert owner.get(f"/portal/reports/{report.id}/photo").content == photo.read_bytes()
    for status, note in (("investigating", "Đã liên hệ cửa hàng"), ("confirmed", "Hàng giả")):
        changed = owner.post(
            f"/portal/reports/{report.id}/status",
            {"status": status, "note": note, "public": "1"},
        )
        assert changed.status_code == 303
    owner.post(f"/portal/reports/{report.id}/status", {"status": "investigating", "note": "nội bộ"})

    client.cookies.clear()
    public = client.get(f"/report/{reference.lower()}")
    assert "Being investigated" in public.text
    assert "Đã liên hệ cửa hàng" in public.text
    assert "Hàng giả" in public.text
    assert "nội bộ" not in public.text  # an internal note stays internal
    for private in ("0912345678", "lan@example.vn", "Tạp hóa Minh", "PhoneMaker"):
        assert private not in public.text
    with sessions() as session:
        notes = session.scalars(select(ReportNote.status_to).order_by(ReportNote.id)).all()
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"report:{report.id}")
        ).all()
    assert notes == ["investigating", "confirmed", "investigating"]
    assert audited == ["report.status"] * 3


def _bad_reports(key: bytes, token: str) -> list[tuple[dict[str, Any], str]]:
    """(what is sent, what the answer says): each must be refused and store nothing."""
    scan = tokens.read(key, token, utcnow(), timedelta(days=7))
    assert scan is not None
    place = {"shop_name": "Tạp hóa Minh"}
    gif, text = io.BytesIO(), b"not a picture, only named photo.jpg"
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    huge = phone_photo() + b"\0" * (5 * 1024 * 1024)
    return [
        ({"data": place, "photo": huge}, "larger than 5 MB"),
        ({"data": place, "photo": gif.getvalue()}, "JPEG, PNG or WebP"),
        ({"data": place, "photo": text}, "JPEG, PNG or WebP"),
        ({"data": place, "photo": phone_photo()[:-40]}, "damaged or incomplete"),
        ({"data": place, "photo": png_header(20_000, 20_000)}, "too many pixels"),
        ({"data": place, "photo": png_header(6_000, 5_000)}, "too many pixels"),
        ({"data": {**place, "contact_phone": "12345"}}, "Vietnamese number"),
        ({"data": {**place, "contact_email": "lan@"}}, "e-mail address"),
        ({"data": {"online_link": "javascript:alert(1)"}}, "http:// or https://"),
        ({"data": {"description": "Hàng giả"}}, "Say where you bought it"),
        ({"data": {**place, "province": "2"}}, "province or city"),
        ({"data": {"shop_name": "x" * 201}}, "Shop name is too long: at most 200 characters."),
        ({"data": {**place, "description": "x" * 4001}}, "What happened is too long"),
        ({"data": {**place, "contact_name": "x" * 201}}, "Your name is too long"),
        ({"data": {**place, "shop_address": "12\x01"}}, "Shop address contains characters"),
        ({"data": place, "token": token[:-2] + "zz"}, "expired or is not valid"),
        (
            {
                "data": place,
                "token": tokens.make(key, scan.code, scan.outcome, utcnow() - timedelta(days=8)),
            },
            "expired or is not valid",
        ),
    ]


def test_every_bad_report_is_refused_and_stores_nothing(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    token = over_limit_token(client, run.codes[0])
    before = table_counts(sessions)
    for sent, said in _bad_reports(client.app.state.scan_token_key, token):
        action = f"/report?{'t=' + sent.get('token', token)}&lang=en"
        photo = sent.get("photo")
        files = {"photo": ("photo.jpg", photo, "image/jpeg")} if photo is not None else None
        answer = client.post(action, data=sent["data"], files=files)
        assert answer.status_code == 400, (said, answer.status_code)
        error = error_of(answer.text)
        assert said in error, (said, error)
        assert not any(name in error for name in RAW_NAMES), error  # labels, not field names
        assert 'enctype="multipart/form-data"' in answer.text  # the form again, to correct
    assert table_counts(sessions) == before
    assert stored_photos(settings) == []


def test_reports_through_the_public_api(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    token = over_limit_token(client, run.codes[0])
    made = client.post(
        "/api/v1/reports",
        json={"token": token, "online_link": "https://shop.example.vn/p/1", "province_code": 79},
    )
    assert made.status_code == 201
    assert made.json()["reference"].startswith("PA-")
    assert made.json()["url"].endswith(f"/report/{made.json()['reference']}")
    before = table_counts(sessions)
    for body in (
        {"shop_name": "Shop", "contact_phone": "0123"},
        {"shop_name": "Shop", "token": "forged"},
        {"shop_name": "Shop", "photo": "base64…"},
        {"province_code": 79},
    ):
        refused = client.post("/api/v1/reports", json=body)
        assert refused.status_code == 400
        assert refused.json()["error"]["message"]
    assert table_counts(sessions) == before
    (report,) = reports(sessions)
    assert (report.org_id, report.province_code) == (run.org_id, 79)


def test_reports_are_throttled_per_client(client, sessions) -> None:
    client.app.state.report_throttle = Throttle("2/hour")
    for _ in range(2):
        assert send(client, None, {"shop_name": "Shop"}).status_code == 303
    refused = client.post("/report?lang=en", data={"shop_name": "Shop"})
    assert refused.status_code == 429
    assert "Too many reports" in refused.text
    api = client.post("/api/v1/reports", json={"shop_name": "Shop"})
    assert api.status_code == 429
    window = Throttle(REPORT_RATE).item.get_expiry()
    for answer in (refused, api):  # when to come back: at most the budget's window away
        assert 1 <= int(answer.headers["retry-after"]) <= window
    assert len(reports(sessions)) == 2


def test_who_sees_and_works_which_report(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    own = send(client, over_limit_token(client, run.codes[0]), {"shop_name": "Shop A"})
    unknown = send(client, None, {"shop_name": "Chợ đêm", "province": "79"})
    assert own.status_code == unknown.status_code == 303
    mine, orphan = reports(sessions)
    assert orphan.org_id is None  # no token: no organization, the regulators' to work
    owner = member(sessions, org_id=run.org_id).email
    rival = member(sessions).email
    regulator = member(sessions, kind="regulator", role="operator").email
    browser = Browser(client)

    browser.login(owner)
    assert "Shop A" in browser.get("/portal/reports").text
    assert "Chợ đêm" not in browser.get("/portal/reports").text
    assert browser.get(f"/portal/reports/{orphan.id}").status_code == 404
    browser.login(rival)
    assert "Shop A" not in browser.get("/portal/reports").text
    for url in (f"/portal/reports/{mine.id}", f"/portal/reports/{mine.id}/photo"):
        assert browser.get(url).status_code == 404
    refused = browser.post(f"/portal/reports/{mine.id}/status", {"status": "dismissed"})
    assert refused.status_code == 404

    browser.login(regulator)
    listed = browser.get("/portal/reports?province=79").text
    assert "Chợ đêm" in listed
    assert "Shop A" not in listed
    assert "Shop A" in browser.get("/portal/reports").text
    assert (
        browser.post(f"/portal/reports/{orphan.id}/status", {"status": "investigating"}).status_code
        == 303
    )
    # Market-control agencies work every report, a manufacturer's too (SPEC section 7).
    worked = browser.post(f"/portal/reports/{mine.id}/status", {"status": "investigating"})
    assert worked.status_code == 303
    browser.login(operator(sessions))
    assert "Shop A" in browser.get("/portal/reports").text
    assert [r.status for r in reports(sessions)] == ["investigating", "investigating"]


def test_the_workflow_refuses_what_it_does_not_have(client, sessions) -> None:
    send(client, None, {"shop_name": "Chợ đêm"})
    (report,) = reports(sessions)
    regulator = member(sessions, kind="regulator", role="owner")
    with session_scope(sessions) as session:
        org = session.get(Organization, regulator.org_id)
        secret = issue_token(
            session, org, role="operator", name="t", actor=Actor.command_line(regulator.org_id)
        ).secret
    auth = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/reports/{report.id}/status"
    steps = [
        ({"status": "confirmed", "note": "Đã xác minh", "public": True}, 200),
        ({"status": "dismissed"}, 409),
        ({"status": "new"}, 409),
        ({"status": "closed"}, 400),
        ({"status": "investigating", "public": True}, 400),  # a public note needs text
        ({"status": "investigating", "note": "x" * 2001}, 400),
        ({"status": "investigating"}, 200),
    ]
    for body, status in steps:
        answer = client.post(url, json=body, headers=auth)
        assert answer.status_code == status, (body, answer.text)
        if status != 200:
            assert answer.json()["error"]["message"]
    got = client.get(f"/api/v1/reports/{report.id}", headers=auth).json()
    assert got["status"] == "investigating"
    assert [n["status_to"] for n in got["notes"]] == ["confirmed", "investigating"]
    assert got["organization"] is None
    listed = client.get("/api/v1/reports?status=investigating", headers=auth).json()
    assert [item["reference"] for item in listed["items"]] == [report.reference]
    assert client.get("/api/v1/reports?status=bogus", headers=auth).status_code == 400


def test_the_form_is_offered_where_a_shopper_needs_it(client, settings, engine, sessions) -> None:
    voided = make_run(settings, engine, sessions, state="void")
    client.cookies.clear()
    page = client.get(f"/v/{voided.codes[0]}").text
    assert "Report this product" in page
    token = _TOKEN.search(page).group(1)
    form = client.get("/report", params={"t": token})
    assert form.status_code == 200
    assert "Nước mắm thử nghiệm" in form.text  # what the report is about
    assert "Only the manufacturer and the market-control agency see it" in form.text
    for start in ("/", "/check?code=NOT-A-CODE"):
        assert 'href="/report?lang=en"' in client.get(start, follow_redirects=True).text
    forged = client.get("/report", params={"t": token[:-3] + "abc"})
    assert forged.status_code == 400
    assert "expired or is not valid" in forged.text
    assert "/report?lang=en" in forged.text  # the form, without the token


def test_a_shoppers_contact_is_shown_only_to_those_who_work_reports(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    token = over_limit_token(client, run.codes[0])
    contact = {"contact_phone": "0912 345 678", "contact_email": "lan@example.vn"}
    assert send(client, token, {"shop_name": "Shop A", **contact}).status_code == 303
    (report,) = reports(sessions)
    owner = member(sessions, org_id=run.org_id, role="operator").email
    viewer = member(sessions, org_id=run.org_id, role="viewer").email
    browser = Browser(client)
    browser.login(owner)
    assert "0912345678" in browser.get(f"/portal/reports/{report.id}").text
    browser.login(viewer)
    page = browser.get(f"/portal/reports/{report.id}")
    assert page.status_code == 200
    assert "0912345678" not in page.text
    assert "lan@example.vn" not in page.text


TYPED = {
    "shop_name": "Tạp hóa Minh",
    "shop_address": "12 Hàng Bạc, Hà Nội",
    "online_link": "https://shop.example.vn/p/1",
    "province": "1",
    "description": "Nắp chai bị hở",
    "contact_name": "Nguyễn Thị Lan",
    "contact_phone": "0912 345 678",
    "contact_email": "lan@example.vn",
}


def assert_form_kept(page: str) -> None:
    for name in ("shop_name", "shop_address", "online_link", "contact_name", "contact_phone"):
        assert f'name="{name}"' in page
        assert f'value="{TYPED[name]}"' in page, name
    assert f'value="{TYPED["contact_email"]}"' in page
    assert f">{TYPED['description']}</textarea>" in page
    assert '<option value="1" selected>' in page


@pytest.mark.parametrize("size", [6 * 1024 * 1024, MAX_BODY + 1024])
def test_a_refused_photo_keeps_everything_typed(client, settings, sessions, size) -> None:
    """However large the photo, the form comes back with what the shopper typed, the text
    sent after the photo too (a browser sends the fields in the form's order)."""
    before = table_counts(sessions)
    order = ["shop_name", "shop_address", "online_link", "province", "description"]
    parts: list[tuple[str, bytes, str | None]] = [
        (name, TYPED[name].encode(), None) for name in order
    ]
    parts.append(("photo", phone_photo() + b"\0" * size, "photo.jpg"))
    if size < MAX_BODY:
        parts += [(name, TYPED[name].encode(), None) for name in TYPED if name not in order]
    body, headers = multipart(parts)
    answer = client.post("/report?lang=en", content=body, headers=headers)
    assert answer.status_code == 400
    assert "larger than 5 MB" in error_of(answer.text)
    if size < MAX_BODY:
        assert_form_kept(answer.text)
    else:  # past the body's cap the rest is not read: what came before the photo is kept
        assert f'value="{TYPED["shop_name"]}"' in answer.text
    for bad in (phone_photo()[:-40], b"not a picture"):
        refused = send(client, None, TYPED, bad)
        assert refused.status_code == 400
        assert_form_kept(refused.text)
    assert table_counts(sessions) == before
    assert stored_photos(settings) == []


def test_refusals_name_the_fields_in_the_shoppers_language(client, sessions) -> None:
    refused = client.post("/report?lang=vi", data={"shop_name": "x" * 201})
    assert refused.status_code == 400
    assert error_of(refused.text) == "Tên cửa hàng quá dài: tối đa 200 ký tự."
    refused = client.post("/report?lang=vi", data={"shop_name": "Shop", "contact_name": "Lan\x01"})
    assert error_of(refused.text) == "Trường Họ tên chứa ký tự không được phép."
    assert reports(sessions) == []


def test_a_contact_without_a_name_has_no_leading_separator(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    token = over_limit_token(client, run.codes[0])
    only_phone = {"shop_name": "Shop A", "contact_phone": "024 3825 1234"}
    assert send(client, token, only_phone).status_code == 303
    (report,) = reports(sessions)
    browser = Browser(client)
    browser.login(member(sessions, org_id=run.org_id, role="operator").email)
    page = browser.get(f"/portal/reports/{report.id}").text
    contact = page[page.index(">Contact<") :]
    contact = contact[: contact.index("</dd>")]
    assert f'<dd><a href="tel:{report.contact_phone}">' in contact
    assert "·" not in contact
