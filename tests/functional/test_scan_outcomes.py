"""Every verdict, as a page and as JSON, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chinhhang import db
from chinhhang.catalog.models import Product
from chinhhang.db import session_scope
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.codes import new_code
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.web import create_app
from tests.conftest import PHONE
from tests.factories import make_run

JSON = {"Accept": "application/json"}


def test_first_scan_is_genuine_with_serial_and_count(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    response = client.get(f"/v/{run.codes[0]}", headers=JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "genuine"
    assert body["serial"] == serial_for(1)
    assert (body["scan_count"], body["scan_limit"]) == (1, 1)
    assert body["first_scanned_at"]
    assert body["product"]["name"] == "Nước mắm thử nghiệm"
    assert body["batch"]["lot"] == "L001"
    assert body["manufacturer"]["id"] == run.org_id


def test_genuine_page_is_green_with_grouped_serial(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=3)
    page = client.get(f"/v/{run.codes[1]}")
    assert page.status_code == 200
    assert "verdict ok" in page.text
    assert "Hàng chính hãng" in page.text  # Vietnamese by default
    assert grouped(serial_for(2)) in page.text
    assert "Lần quét 1 / 3" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_scan_beyond_limit_is_over_limit_with_first_date(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    first = client.get(f"/v/{run.codes[0]}", headers=JSON).json()
    client.cookies.clear()
    second = client.get(f"/v/{run.codes[0]}", headers=JSON)
    assert second.status_code == 200
    assert second.json()["outcome"] == "over_limit"
    assert second.json()["first_scanned_at"] == first["first_scanned_at"]
    client.cookies.clear()
    page = client.get(f"/v/{run.codes[0]}")
    assert "verdict bad" in page.text
    assert "Cảnh báo: mã này đã được xác thực trước đó" in page.text


def test_limit_three_gives_three_genuine_then_over(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=3)
    outcomes = []
    for _ in range(5):
        client.cookies.clear()
        outcomes.append(client.get(f"/v/{run.codes[0]}", headers=JSON).json()["outcome"])
    assert outcomes == ["genuine"] * 3 + ["over_limit"] * 2


def test_not_activated_and_void(client, settings, engine, sessions) -> None:
    issued = make_run(settings, engine, sessions, state="issued")
    voided = make_run(settings, engine, sessions, state="void")
    a = client.get(f"/v/{issued.codes[0]}", headers=JSON)
    b = client.get(f"/v/{voided.codes[0]}", headers=JSON)
    assert (a.status_code, a.json()["outcome"]) == (200, "not_activated")
    assert (b.status_code, b.json()["outcome"]) == (200, "void")
    assert "chưa được kích hoạt" in client.get(f"/v/{issued.codes[0]}").text
    assert "đã bị hủy" in client.get(f"/v/{voided.codes[0]}").text


def test_unknown_code_is_404_page_and_json(client, settings) -> None:
    never_issued = new_code(settings.keyring)  # valid tag, but not in the database
    forged = "0" * 24
    for code in (never_issued, forged):
        assert client.get(f"/v/{code}", headers=JSON).json()["outcome"] == "unknown"
        page = client.get(f"/v/{code}")
        assert page.status_code == 404
        assert "Mã không xác định" in page.text


def test_each_scan_is_recorded_with_a_coarse_address(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    client.get(f"/v/{run.codes[0]}")
    client.cookies.clear()
    client.get(f"/v/{run.codes[0]}")
    with Session(engine) as session:
        events = session.scalars(
            select(ScanEvent).where(ScanEvent.stamp_code == run.codes[0]).order_by(ScanEvent.id)
        ).all()
        count = session.scalar(select(Stamp.scan_count).where(Stamp.code == run.codes[0]))
    assert [e.outcome for e in events] == ["genuine", "over_limit"]
    assert count == 1
    assert events[0].scan_number == 1
    assert events[0].user_agent
    assert "Android" in events[0].user_agent
    # TestClient's address is "testclient", not an IP: nothing is kept rather than a guess.
    assert events[0].client_net is None


def test_lower_case_and_upper_case_url_forms_resolve(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=5)
    assert client.get(f"/V/{run.codes[0]}", headers=JSON).json()["outcome"] == "genuine"
    client.cookies.clear()
    lower = client.get(f"/v/{run.codes[0].lower()}", headers=JSON).json()
    assert (lower["outcome"], lower["scan_count"]) == ("genuine", 2)


def test_english_on_request(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=5)
    page = client.get(f"/v/{run.codes[0]}?lang=en")
    assert "Genuine product" in page.text
    assert 'lang="en"' in page.text
    client.cookies.clear()
    page = client.get(f"/v/{run.codes[0]}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Genuine product" in page.text


def test_no_scan_events_for_unknown_codes(client, engine) -> None:
    client.get("/v/" + "0" * 24)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ScanEvent)) == 0


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_trailing_slash_is_not_part_of_the_code(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    assert client.get(f"/v/{run.codes[0]}/", headers=JSON).json()["outcome"] == "genuine"


def test_the_typed_code_form_keeps_the_language(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    typed = "-".join(run.codes[0][i : i + 4] for i in range(0, 24, 4)).lower()
    answer = client.get("/check", params={"code": typed, "lang": "en"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/v/{run.codes[0]}?lang=en"
    empty = client.get("/check", params={"code": "  ", "lang": "en"}, follow_redirects=False)
    assert empty.headers["location"] == "/?lang=en"


def test_a_throttled_client_gets_429_with_retry_after(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    throttled_settings = settings.model_copy(update={"scan_rate_limit": "2/minute"})
    with TestClient(create_app(throttled_settings), headers={"User-Agent": PHONE}) as phone:
        answers = [phone.get(f"/v/{run.codes[0]}", headers=JSON) for _ in range(3)]
        page = phone.get(f"/v/{run.codes[0]}")
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["retry-after"] == "60"
    assert answers[2].json()["error"]["code"] == "throttled"
    assert page.status_code == 429
    assert "Quét quá nhiều lần" in page.text


def test_hole_markers_in_product_text_stay_text(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=5)
    with session_scope(sessions) as session:
        product = session.get(Product, run.product_id)
        product.name = "Trà \ue000serial\ue001 \ue000x\ue001"
    page = client.get(f"/v/{run.codes[0]}")
    assert page.status_code == 200
    assert "Trà \ue000serial\ue001 \ue000x\ue001" in page.text
    assert grouped(serial_for(1)) in page.text


def test_a_withdrawn_product_says_so_on_the_verdict(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    with session_scope(sessions) as session:
        session.get(Product, run.product_id).withdrawn = True
    page = client.get(f"/v/{run.codes[0]}")
    assert "Sản phẩm này đã bị nhà sản xuất thu hồi." in page.text


def test_a_locked_database_answers_503_and_counts_nothing(sqlite_settings, monkeypatch) -> None:
    """Something else holds SQLite's write lock past the timeout: a clear 503, not a 500."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    engine = db.make_engine(sqlite_settings)
    run = make_run(sqlite_settings, engine, db.make_sessionmaker(engine))
    holder = sqlite3.connect(sqlite_settings.data_dir / "chinhhang.db", isolation_level=None)
    with TestClient(create_app(sqlite_settings), headers={"User-Agent": PHONE}) as phone:
        holder.execute("BEGIN IMMEDIATE")
        busy = phone.get(f"/v/{run.codes[0]}", headers=JSON)
        page = phone.get(f"/v/{run.codes[0]}")
        holder.rollback()
        after = phone.get(f"/v/{run.codes[0]}", headers=JSON)
    holder.close()
    assert busy.status_code == 503
    assert busy.json()["error"]["code"] == "unavailable"
    assert page.status_code == 503
    assert "Hệ thống đang bận" in page.text
    assert after.json()["outcome"] == "genuine"
    assert after.json()["scan_count"] == 1
    engine.dispose()
