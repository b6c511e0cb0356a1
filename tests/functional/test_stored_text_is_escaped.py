"""Stored cross-site scripting (docs/security.md): what a member types into a product, and
what a login link carries, comes back as text, never as markup or a trip to another site."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.services import create_product
from chinhhang.config import Settings
from chinhhang.db import session_scope
from chinhhang.stamps.services import Selection, activate, codes_of_run, create_run, fill_run
from tests.factories import gtin
from tests.portal_helpers import PASSWORD, Browser, csrf_of, member, portal_client

SCRIPT = "<script>alert('x')</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'


def test_markup_in_a_products_text_is_shown_as_text_everywhere(
    settings: Settings, engine, sessions: sessionmaker[Session]
) -> None:
    owner = member(sessions)
    actor = Actor.command_line(owner.org_id)
    with session_scope(sessions) as session:
        product = create_product(
            session, actor, name=f"Trà {SCRIPT}", gtin=gtin(), brand=f"Hãng {ATTRIBUTE}"
        )
        run = create_run(session, actor, quantity=1, key_id=settings.keyring.current)
        product_id = product.id
    fill_run(engine, run, settings.keyring)
    with session_scope(sessions) as session:
        activate(session, actor, selection=Selection(run_id=run.id), product_id=product_id)
        code = codes_of_run(session, run.id)[0][1]
    with portal_client(settings) as client:
        pages = {"verdict": client.get(f"/v/{code}"), "product": client.get(f"/p/{product_id}")}
        browser = Browser(client)
        browser.login(owner.email)
        pages["portal"] = browser.get(f"/portal/products/{product_id}")
    for name, page in pages.items():
        assert page.status_code == 200, name
        assert SCRIPT not in page.text, name
        assert "<img src=x" not in page.text, name
        assert "&lt;script&gt;" in page.text, name


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/portal",
        "//evil.example/portal",
        "/portal//evil.example",
        "/\\evil.example",
        "/portal\\..\\evil",
        "javascript:alert(1)",
        "/elsewhere",
    ],
)
def test_a_login_link_never_sends_the_user_to_another_site(
    settings: Settings, sessions: sessionmaker[Session], target: str
) -> None:
    owner = member(sessions)
    with portal_client(settings) as client:
        token = csrf_of(client.get("/portal/login", params={"next": target}).text)
        data = {"csrf_token": token, "email": owner.email, "password": PASSWORD, "next": target}
        response = client.post("/portal/login", data=data)
    assert response.status_code == 303
    assert response.headers["location"] == "/portal"
