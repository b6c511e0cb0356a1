"""The business portal over HTTP: logging in, CSRF on every form, every page for its users,
and a viewer who may look but not change (SPEC sections 1, 8, 9)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import LoginSession
from chinhhang.db import session_scope
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import Selection, get_run, ship
from tests.factories import RunFixture, make_run
from tests.portal_helpers import (
    Browser,
    Member,
    member,
    operator,
    portal_client,
    portal_routes,
    requires_of,
    table_counts,
    with_ids,
)


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with portal_client(settings) as test_client:
        yield test_client


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


def _sessions_count(sessions) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(LoginSession)) or 0)


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(browser, sessions) -> None:
    owner = member(sessions)
    response = browser.login(owner.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/portal"
    cookie = next(c for c in response.headers.get_list("set-cookie") if "ch_session=" in c)
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert browser.get("/portal").status_code == 200
    assert browser.post("/portal/logout").status_code == 303
    assert _sessions_count(sessions) == 0
    assert browser.get("/portal").headers["location"].startswith("/portal/login")


def test_wrong_password_is_refused_with_a_message_and_no_session(browser, sessions) -> None:
    owner = member(sessions)
    response = browser.login(owner.email, "not-the-password")
    assert response.status_code == 400
    assert "The e-mail address or the password is wrong." in response.text
    assert "ch_session=" not in response.headers.get("set-cookie", "")
    assert _sessions_count(sessions) == 0


def test_a_page_without_login_redirects_to_the_login_form(browser) -> None:
    response = browser.get("/portal/products")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/login?next=/portal/products"


# How the CSRF check words its refusal (this client asks for English).
CSRF_REFUSAL = "This form has expired or came from another site."


def test_every_post_route_refuses_a_form_without_its_csrf_token(client, browser, sessions) -> None:
    owner = member(sessions)
    browser.login(owner.email)
    before = table_counts(sessions)
    routes = portal_routes(client.app, "POST")
    assert len(routes) >= 20
    for path in routes:
        url = with_ids(path, "1")
        response = client.post(url, data={"email": owner.email, "name": "x", "role": "viewer"})
        assert response.status_code == 403, url
        assert CSRF_REFUSAL in response.text, url  # refused for the token, not the permission
        forged = client.post(url, data={"csrf_token": "0" * 64, "name": "x"})
        assert forged.status_code == 403, url
        assert CSRF_REFUSAL in forged.text, url
    assert table_counts(sessions) == before
    # The login form too: the right password without the token opens no session.
    client.cookies.clear()
    response = client.post("/portal/login", data={"email": owner.email, "password": "x" * 12})
    assert response.status_code == 403


@dataclass(frozen=True)
class Chain:
    run: RunFixture
    owner: Member
    distributor: Member
    shipment_id: int

    def url(self, page: str) -> str:
        return page.format(
            product=self.run.product_id, run=self.run.run_id, shipment=self.shipment_id
        )


def _chain(settings, engine, sessions) -> Chain:
    """A manufacturer with a product, a run of 5 active stamps, 2 shipped to a distributor."""
    run = make_run(settings, engine, sessions, quantity=5)
    distributor = member(sessions, kind="distributor")
    with session_scope(sessions) as session:
        first = get_run(session, run.run_id).first_sequence
        shipment = ship(
            session,
            Actor.command_line(run.org_id),
            to_org_id=distributor.org_id,
            selection=Selection(first=first, last=first + 1),
        )
        shipment_id = shipment.id
    return Chain(run, member(sessions, org_id=run.org_id), distributor, shipment_id)


MANUFACTURER_PAGES = (
    "/portal",
    "/portal/products",
    "/portal/products/new",
    "/portal/products/{product}",
    "/portal/runs",
    "/portal/runs/new",
    "/portal/runs/{run}",
    "/portal/stamps",
    "/portal/stamps?status=active",
    "/portal/shipments",
    "/portal/shipments/new",
    "/portal/shipments/{shipment}",
    "/portal/scans",
    "/portal/scans?outcome=over_limit",
    "/portal/members",
    "/portal/tokens",
    "/portal/audit",
    "/portal/password",
)
DISTRIBUTOR_PAGES = (
    "/portal",
    "/portal/stamps",
    "/portal/shipments",
    "/portal/shipments/new",
    "/portal/shipments/{shipment}",
    "/portal/scans",
    "/portal/members",
    "/portal/tokens",
    "/portal/audit",
)
VIEWER_PAGES = (
    "/portal",
    "/portal/products",
    "/portal/products/{product}",
    "/portal/runs",
    "/portal/runs/{run}",
    "/portal/stamps",
    "/portal/shipments",
    "/portal/shipments/{shipment}",
    "/portal/scans",
    "/portal/members",
)


def test_every_page_renders_for_an_owner(browser, settings, engine, sessions) -> None:
    chain = _chain(settings, engine, sessions)
    for who, pages in ((chain.owner, MANUFACTURER_PAGES), (chain.distributor, DISTRIBUTOR_PAGES)):
        browser.login(who.email)
        for page in pages:
            response = browser.get(chain.url(page))
            assert response.status_code == 200, page
            assert '<nav class="portal-nav"' in response.text
            assert response.headers["cache-control"] == "no-store"
    browser.login(member(sessions, kind="regulator").email)
    audit = f"/portal/organizations/{chain.run.org_id}/audit"
    for page in ("/portal", "/portal/organizations", audit, "/portal/runs/{run}"):
        assert browser.get(chain.url(page)).status_code == 200, page


def test_the_operator_outside_any_organization_gets_a_useful_dashboard(browser, sessions) -> None:
    browser.login(operator(sessions))
    page = browser.get("/portal")
    assert page.status_code == 200
    assert 'href="/portal/organizations"' in page.text
    assert browser.get("/portal/organizations").status_code == 200


def test_a_viewer_sees_the_pages_but_every_change_is_refused(
    client, browser, settings, engine, sessions
) -> None:
    chain = _chain(settings, engine, sessions)
    browser.login(member(sessions, org_id=chain.run.org_id, role="viewer").email)
    for page in VIEWER_PAGES:
        response = browser.get(chain.url(page))
        assert response.status_code == 200, page
        assert 'action="/portal/runs/' not in response.text  # no activate or void forms
    before = table_counts(sessions)
    protected = [
        path
        for path in portal_routes(client.app, "POST")
        if requires_of(client.app, "POST", path) not in (None, "view")
    ]
    assert len(protected) >= 15
    for path in protected:
        url = with_ids(path, str(chain.run.run_id))
        response = browser.post(url, data={"name": "x", "role": "owner", "quantity": "5"})
        assert response.status_code == 403, path
    assert table_counts(sessions) == before


def test_stamp_lists_show_serials_never_codes(browser, settings, engine, sessions) -> None:
    chain = _chain(settings, engine, sessions)
    browser.login(chain.owner.email)
    for page in ("/portal/stamps", "/portal/runs/{run}", "/portal/shipments/{shipment}"):
        text = browser.get(chain.url(page)).text
        assert grouped(serial_for(1)) in text
        assert not any(code in text for code in chain.run.codes)


def test_the_dashboard_and_scan_list_show_warnings(
    client, browser, settings, engine, sessions
) -> None:
    chain = _chain(settings, engine, sessions)
    code = chain.run.codes[4]  # still with the manufacturer
    client.get(f"/v/{code}", headers={"Accept": "application/json"})
    client.cookies.clear()
    client.get(f"/v/{code}", headers={"Accept": "application/json"})  # over the limit of 1
    browser.login(chain.owner.email)
    dashboard = browser.get("/portal").text
    assert "Over the scan limit" in dashboard
    assert grouped(serial_for(5)) in dashboard
    scans = browser.get("/portal/scans?outcome=over_limit").text
    assert scans.count("Over the scan limit") >= 2  # the filter's option and the row
    assert "Genuine</td>" not in scans
    assert "Genuine</td>" in browser.get("/portal/scans").text
    refused = browser.get("/portal/scans?outcome=lost")
    assert refused.status_code == 400
    assert "Unknown scan outcome." in refused.text


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/portal/products/2147483647", 404),
        ("/portal/runs/2147483648", 400),
        ("/portal/shipments/99999999999999999999999", 400),
        ("/portal/products?before=2147483648", 400),
        ("/portal/audit?before=9223372036854775807", 200),
        ("/portal/scans?before=9223372036854775807", 200),
        ("/portal/runs/abc", 400),
        ("/portal/stamps?after=x.y", 400),
        ("/portal/stamps?after=99999999999.1", 400),
        ("/portal/stamps?after=1.999999999999999999999", 400),
        ("/portal/products?before=-1", 400),
        ("/portal/audit?before=abc", 400),
    ],
)
def test_odd_addresses_get_a_clear_answer_not_an_error(browser, sessions, url, status) -> None:
    browser.login(member(sessions).email)
    assert browser.get(url).status_code == status
