"""The place of a scan (SPEC section 9): stored only when the shopper sends it, rounded to
about 1 km; and the over-limit page's "near PLACE" from the first genuine scan's place."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from chinhhang.db import utcnow
from chinhhang.scans import tokens
from chinhhang.scans.models import ScanEvent
from tests.factories import make_run

EN = {"Accept-Language": "en"}
JSON = {"Accept": "application/json"}
_TOKEN = re.compile(r'data-token="([^"]+)"')


def scan(client: TestClient, code: str) -> tuple[str, str]:
    """A fresh browser's scan: (page, its scan token)."""
    client.cookies.clear()
    page = client.get(f"/v/{code}", headers=EN).text
    found = _TOKEN.search(page)
    assert found, "the verdict page has no scan token"
    return page, found.group(1)


def places(engine: Engine, code: str) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        rows = session.execute(
            select(ScanEvent.latitude, ScanEvent.longitude, ScanEvent.province_code)
            .where(ScanEvent.stamp_code == code)
            .order_by(ScanEvent.id)
        ).all()
    return [tuple(row) for row in rows]


def test_the_widget_asks_first_and_nothing_is_stored_without_the_post(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    page, token = scan(client, run.codes[0])
    assert "Share my location (rounded to about 1 km)" in page
    # The provinces are a page of their own: the verdict page stays small.
    assert "<option" not in page
    link = re.search(r'href="(/place\?t=[^"]+)"', page).group(1).replace("&amp;", "&")
    form = client.get(link)
    assert form.status_code == 200
    assert 'action="/place?lang=en"' in form.text
    assert f'name="t" value="{token}"' in form.text
    assert '<option value="79">Thành phố Hồ Chí Minh</option>' in form.text
    # JavaScript only from our own file, never inline (a strict CSP comes later).
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/place.js" defer>']
    assert client.get("/static/place.js").status_code == 200
    assert places(engine, run.codes[0]) == [(None, None, None)]


def test_a_shared_position_is_kept_rounded_to_about_a_kilometre(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=2)
    _page, token = scan(client, run.codes[0])
    answer = client.post(
        "/place", json={"t": token, "lat": 21.028511, "lon": 105.854167}, headers=JSON
    )
    assert answer.status_code == 200
    assert answer.json()["latitude"] == 21.03
    assert answer.json()["longitude"] == 105.85
    assert places(engine, run.codes[0]) == [(21.03, 105.85, None)]
    _page, token = scan(client, run.codes[0])
    client.post("/place", json={"t": token, "lat": -0.004, "lon": -179.996}, headers=JSON)
    assert places(engine, run.codes[0])[1] == (0.0, -180.0, None)


@pytest.mark.parametrize("lat", ["21", " 21.03 ", "", None, [21], {"value": 21}, False])
def test_json_coordinates_must_be_json_numbers(client, settings, engine, sessions, lat) -> None:
    """Numbers sent as JSON strings are refused (not guessed), and the message names the
    field as a person reads it, never the JSON key."""
    run = make_run(settings, engine, sessions, scan_limit=1)
    _page, token = scan(client, run.codes[0])
    answer = client.post(
        "/place?lang=en", json={"t": token, "lat": lat, "lon": 105.85}, headers=JSON
    )
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert "latitude" in message.lower()
    assert "lat " not in message
    assert places(engine, run.codes[0]) == [(None, None, None)]


def test_a_coordinate_out_of_range_is_named_as_a_person_reads_it(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    _page, token = scan(client, run.codes[0])
    answer = client.post(
        "/place?lang=en", json={"t": token, "lat": 21.03, "lon": 200}, headers=JSON
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Longitude must be a number from -180 to 180."
    assert places(engine, run.codes[0]) == [(None, None, None)]


def test_the_province_form_works_without_javascript(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    _page, token = scan(client, run.codes[0])
    answer = client.post("/place?lang=en", data={"t": token, "province": "79"})
    assert answer.status_code == 200
    assert "The place was saved with your scan." in answer.text
    assert "Thành phố Hồ Chí Minh" in answer.text
    assert "Report this product" not in answer.text  # a genuine scan: nothing to report
    assert places(engine, run.codes[0]) == [(None, None, 79)]


def _bad_requests(key: bytes, token: str, other_code: str) -> list[dict[str, Any]]:
    at = tokens.read(key, token, utcnow(), timedelta(hours=1))
    assert at is not None
    expired = tokens.make(key, at.code, at.outcome, at.at - timedelta(hours=2))
    elsewhere = tokens.make(key, other_code, at.outcome, at.at)  # signed, but no such scan
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    return [
        {"json": {"t": token, "lat": 91, "lon": 105}},
        {"json": {"t": token, "lat": 21, "lon": -180.5}},
        {"content": b'{"t": "%s", "lat": NaN, "lon": 105}' % token.encode()},
        {"json": {"t": token, "lat": "21,03", "lon": 105}},
        {"json": {"t": token, "lat": "21", "lon": "105"}},
        {"json": {"t": token, "lat": True, "lon": 105}},
        {"json": {"t": token, "lat": 21}},
        {"json": {"t": token}},
        {"json": {"t": token, "province": 2}},
        {"json": {"t": forged, "lat": 21, "lon": 105}},
        {"json": {"t": expired, "lat": 21, "lon": 105}},
        {"json": {"t": elsewhere, "lat": 21, "lon": 105}},
        {"json": {"lat": 21, "lon": 105}},
        {"json": [token, 21, 105]},
        {"content": b"x" * 5000},
        {"data": {"t": token, "province": "Hà Nội"}},
    ]


def test_bad_place_input_is_refused_clearly_and_stores_nothing(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    _page, token = scan(client, run.codes[0])
    key = client.app.state.scan_token_key
    for request in _bad_requests(key, token, run.codes[1]):
        if "content" in request:
            request["headers"] = {**JSON, "Content-Type": "application/json"}
        elif "json" in request:
            request["headers"] = JSON
        answer = client.post("/place", **request)
        assert answer.status_code in (400, 404), (request, answer.text)
        if "headers" in request:
            assert answer.json()["error"]["message"]
    assert places(engine, run.codes[0]) == [(None, None, None)]
    assert places(engine, run.codes[1]) == []


def test_the_over_limit_page_says_near_the_first_scans_place(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, quantity=3, scan_limit=1)
    by_province, by_position, unplaced = run.codes
    _page, token = scan(client, by_province)
    client.post("/place", data={"t": token, "province": "48"})
    _page, token = scan(client, by_position)
    client.post("/place", json={"t": token, "lat": 21.0285, "lon": 105.8542}, headers=JSON)
    scan(client, unplaced)
    province_page, _ = scan(client, by_province)
    position_page, _ = scan(client, by_position)
    unplaced_page, _ = scan(client, unplaced)
    assert ", near Thành phố Đà Nẵng. If you did not scan it before" in province_page
    # A position is never shown on the public page: it may be the first shopper's home.
    for page in (position_page, unplaced_page):
        assert "near" not in re.search(r'<p class="lead">[^<]*', page).group(0)
        assert "21.03" not in page


def test_a_page_reopened_in_the_grace_period_shares_its_place_too(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    client.cookies.clear()
    client.get(f"/v/{run.codes[0]}?lang=en")  # counted; the browser keeps its grace cookie
    again = client.get(f"/v/{run.codes[0]}?lang=en").text  # within the grace period
    assert "you verified this at" in again
    token = _TOKEN.search(again).group(1)
    answer = client.post("/place", json={"t": token, "lat": 10.7769, "lon": 106.7009}, headers=JSON)
    assert answer.status_code == 200
    assert places(engine, run.codes[0]) == [(10.78, 106.7, None)]


@pytest.mark.parametrize("outcome", ["genuine", "over_limit"])
def test_only_over_limit_pages_read_the_first_place(
    client, settings, engine, sessions, outcome: str
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    if outcome == "over_limit":
        scan(client, run.codes[0])
    store = client.app.state.scanner.store
    asked: list[str] = []
    reader = store.first_place

    def counting(code: str) -> Any:
        asked.append(code)
        return reader(code)

    store.first_place = counting
    page, _token = scan(client, run.codes[0])
    assert ("Warning" in page) == (outcome == "over_limit")
    assert asked == ([run.codes[0]] if outcome == "over_limit" else [])
