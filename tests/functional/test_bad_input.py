"""Bad input gets a clear answer, never a 500, and writes nothing (SPEC section 9)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chinhhang.scans.models import ScanEvent

MALFORMED = [
    "",
    "A",
    "0" * 10_000,
    "%C4%90%C3%A2y-l%C3%A0-m%C3%A3",  # non-ASCII (percent-encoded UTF-8)
    "..%2F..%2Fetc%2Fpasswd",
    "../../etc/passwd",
    "a/b/c",
    "%00%00%00",
    "'; DROP TABLE stamps; --",
    "<script>alert(1)</script>",
    "0" * 24,
]


def events(engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(ScanEvent)) or 0)


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_codes_are_unknown_and_change_nothing(client, engine, text: str) -> None:
    for accept in ("text/html", "application/json"):
        response = client.get(f"/v/{text}", headers={"Accept": accept})
        assert response.status_code in (400, 404), response.status_code
    assert events(engine) == 0


def test_reflected_input_is_escaped(client) -> None:
    response = client.get("/check", params={"code": "<script>alert(1)</script>"})
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/01/123", 400),
        ("/01/02000000000016", 400),  # wrong check digit
        ("/01/abcdefghijklmn", 400),
        ("/01/" + "9" * 5000, 400),
        ("/01/02000000000015", 404),  # valid GTIN nobody registered
        ("/01/02000000000015/10/" + "x" * 30, 400),
        ("/01/02000000000015/10/%00", 400),
        ("/01/02000000000015//", 400),  # one trailing slash is tolerated, not an empty part
        # The product is looked up before the link type is read: nobody registered this GTIN.
        # (A registered product's unknown link type is 400, test_resolver.py.)
        ("/01/02000000000015?linkType=gs1:nonsense", 404),
        ("/01/02000000000015?999=x", 400),
        ("/p/abc", 404),
        ("/p/99999999999999999999999", 404),
        ("/p/-1", 404),
        ("/nowhere", 404),
    ],
)
def test_bad_static_codes_give_clear_errors(client, engine, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert "Lỗi" in response.text or "Trang này không tồn tại" in response.text
    assert events(engine) == 0


def test_a_bad_gtin_page_says_what_is_wrong(client) -> None:
    response = client.get("/01/02000000000016")
    assert "Số kiểm tra của mã GTIN không đúng" in response.text
    english = client.get("/01/02000000000016?lang=en")
    assert "check digit is wrong" in english.text


def test_unsupported_methods_are_refused_cleanly(client) -> None:
    assert client.put("/v/" + "0" * 24).status_code == 405
    assert client.delete("/01/02000000000015").status_code == 405


@hyp_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(min_size=1, max_size=60))
def test_no_code_text_ever_gives_a_server_error(client, text: str) -> None:
    response = client.get("/v/" + quote(text, safe=""))
    assert response.status_code < 500


@hyp_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=60))
def test_no_digital_link_text_ever_gives_a_server_error(client, text: str) -> None:
    """The resolver refuses (400) or finds nothing (404): no GTIN is registered here. (A dot
    segment can leave a bare `/01`, which the router redirects to `/01/`: followed.)"""
    response = client.get("/01/" + quote(text, safe="/?=&"))
    assert response.status_code in (400, 404)


def test_forged_codes_are_rejected_before_any_database_work(client, monkeypatch) -> None:
    """The tag check comes first: with the database unreachable, forged codes still answer."""
    store = client.app.state.scanner.store

    def no_database(*_args, **_kwargs):
        raise AssertionError("the scan path touched the database for a forged code")

    for way_in in ("_read", "_sqlite_writer", "_postgres"):  # every path to the database
        monkeypatch.setattr(store, way_in, no_database)
    for text in ("0" * 24, "0WB7323SFWMMS6ZC66RGG6DX", "x"):
        assert client.get(f"/v/{text}").status_code == 404
        assert client.get(f"/v/{text}", headers={"Accept": "application/json"}).status_code == 404


def test_a_forged_code_costs_its_tag_check_alone(client, monkeypatch) -> None:
    """The route refuses a forged code on its tag: the scan itself (the request to build, the
    grace cookie to read, the count) is never started for it."""

    async def no_scan(*_args, **_kwargs):
        raise AssertionError("a forged code went on to the scan")

    monkeypatch.setattr(client.app.state.scanner, "scan_soon", no_scan)
    for text in ("0" * 24, "0WB7323SFWMMS6ZC66RGG6DX", "x"):
        assert client.get(f"/v/{text}").status_code == 404
        answer = client.get(f"/v/{text}", headers={"Accept": "application/json"})
        assert answer.json()["outcome"] == "unknown"
