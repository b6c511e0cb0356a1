"""Every kind of answer carries the security headers (security_headers.py) exactly once: the
scan hot path's raw ASGI answer, cached product pages, the portal, the API, error pages and
static files; HSTS only when the configured address is https."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.routing import Route

from chinhhang.config import Settings
from chinhhang.security_headers import CONTENT_SECURITY_POLICY
from chinhhang.web import create_app
from tests.api_helpers import ApiWorld
from tests.conftest import PHONE
from tests.portal_helpers import Browser, member

HSTS = "strict-transport-security"


def assert_secured(response, referrer: str = "same-origin") -> None:
    headers = response.headers
    assert headers.get_list("content-security-policy") == [CONTENT_SECURITY_POLICY]
    assert headers.get_list("x-content-type-options") == ["nosniff"]
    assert headers.get_list("x-frame-options") == ["DENY"]
    assert headers.get_list("referrer-policy") == [referrer]


def test_shopper_answers_carry_them(client: TestClient, world: ApiWorld) -> None:
    verdict = client.get(f"/v/{world.maker.codes[0]}")
    assert verdict.status_code == 200
    assert "text/html" in verdict.headers["content-type"]
    assert_secured(verdict, referrer="no-referrer")  # the scan's own, stricter value is kept
    product = client.get(f"/p/{world.maker.product_id}")
    assert product.status_code == 200
    assert_secured(product)
    assert_secured(client.get(f"/p/{world.maker.product_id}"))  # from the page cache
    home = client.get("/")
    assert home.status_code == 200
    assert_secured(home)
    for response in (verdict, product, home):
        assert HSTS not in response.headers  # the test app's address is http://testserver


def test_portal_and_api_answers_carry_them(client: TestClient, world: ApiWorld, sessions) -> None:
    login = client.get("/portal/login")
    assert login.status_code == 200
    assert_secured(login)
    browser = Browser(client)
    browser.login(member(sessions).email)
    dashboard = client.get("/portal", follow_redirects=False)
    assert dashboard.status_code == 200
    assert_secured(dashboard)
    api = client.get("/api/v1/products", headers=world.maker.auth())
    assert api.status_code == 200
    assert api.headers["content-type"] == "application/json"
    assert_secured(api)
    refused = client.get("/api/v1/products")
    assert refused.status_code == 401
    assert_secured(refused)


def test_error_pages_and_files_carry_them(client: TestClient) -> None:
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]
    assert_secured(missing)
    css = client.get("/static/app.css")
    assert css.status_code == 200
    assert_secured(css)
    decoder = client.head("/static/vendor/zxing/zxing-reader.js")
    assert decoder.status_code == 200
    assert_secured(decoder)


@pytest.fixture
def failing_client(sqlite_settings: Settings) -> Iterator[TestClient]:
    """The app with one route that fails unexpectedly, answered by the 500 page."""

    def fail(_request: Request) -> None:
        raise RuntimeError("a bug")

    app = create_app(sqlite_settings)
    app.router.routes.insert(0, Route("/fail", fail))
    with TestClient(app, raise_server_exceptions=False, headers={"User-Agent": PHONE}) as client:
        yield client


def test_the_500_page_carries_them(failing_client: TestClient) -> None:
    failed = failing_client.get("/fail")
    assert failed.status_code == 500
    assert_secured(failed)


def test_hsts_is_sent_for_an_https_address(sqlite_settings: Settings) -> None:
    settings = sqlite_settings.model_copy(update={"base_url": "https://chinhhang.example.vn"})
    with TestClient(create_app(settings), headers={"User-Agent": PHONE}) as client:
        for path in ("/", "/static/app.css", "/portal/login", "/no/such/page"):
            response = client.get(path)
            assert response.headers.get_list(HSTS) == ["max-age=31536000"]
            assert_secured(response)
