"""Stamps in the portal: issuing a run in the background, activating and voiding serials, and
the chain manufacturer → distributor through shipments (SPEC section 4)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chinhhang.accounts.actor import Actor
from chinhhang.db import session_scope
from chinhhang.stamps.models import Stamp, StampRun
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import Selection, ship
from tests.factories import make_run
from tests.portal_helpers import (
    Browser,
    location_id,
    member,
    portal_client,
    table_counts,
    wait_until,
)


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with portal_client(settings) as test_client:
        yield test_client


def _statuses(sessions, run_id: int) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Stamp.status).where(Stamp.run_id == run_id).order_by(Stamp.sequence)
            )
        )


def _first_sequence(sessions, run_id: int) -> int:
    with sessions() as session:
        run = session.get(StampRun, run_id)
        assert run is not None
        return run.first_sequence


def _wait_ready(browser: Browser, run_id: int) -> str:
    """Polls the run page (which refreshes itself while issuing) until the run is ready."""

    def ready() -> str | None:
        page = browser.get(f"/portal/runs/{run_id}")
        assert page.status_code == 200
        return page.text if 'http-equiv="refresh"' not in page.text else None

    return str(wait_until(ready))


def _span(first: int, last: int) -> str:
    return f"{serial_for(first)}-{serial_for(last)}"


def test_issue_a_run_then_activate_a_serial_range(client, settings, engine, sessions) -> None:
    maker = make_run(settings, engine, sessions, quantity=1)  # an org with a product
    browser = Browser(client)
    browser.login(member(sessions, org_id=maker.org_id, role="operator").email)
    issued = browser.post("/portal/runs/new", data={"quantity": "12", "scan_limit": "2"})
    assert issued.status_code == 303
    run_id = location_id(issued)
    page = _wait_ready(browser, run_id)
    assert "12 of 12 stamps written" in page
    assert _statuses(sessions, run_id) == ["issued"] * 12
    first = _first_sequence(sessions, run_id)
    activated = browser.post(
        f"/portal/runs/{run_id}/activate",
        data={
            "product_id": maker.product_id,
            "lot": "L-7",
            "scope": "serials",
            "serials": _span(first + 2, first + 5),
        },
    )
    assert activated.status_code == 303
    assert "Stamps activated: 4." in browser.get(activated.headers["location"]).text
    assert _statuses(sessions, run_id) == ["issued"] * 2 + ["active"] * 4 + ["issued"] * 6
    voided = browser.post(
        f"/portal/runs/{run_id}/void", data={"scope": "serials", "serials": serial_for(first)}
    )
    assert voided.status_code == 303
    assert _statuses(sessions, run_id)[0] == "void"


def test_a_run_issued_with_a_product_is_active_when_ready(
    client, settings, engine, sessions
) -> None:
    maker = make_run(settings, engine, sessions, quantity=1)
    browser = Browser(client)
    browser.login(member(sessions, org_id=maker.org_id).email)
    form = {"quantity": "5", "product_id": str(maker.product_id), "lot": "AUTO-1"}
    run_id = location_id(browser.post("/portal/runs/new", data=form))
    _wait_ready(browser, run_id)
    wait_until(lambda: _statuses(sessions, run_id) == ["active"] * 5)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"quantity": ""}, "quantity must be a whole number."),
        ({"quantity": "ten"}, "quantity must be a whole number."),
        ({"quantity": "0"}, "A run has 1 to 50,000,000 stamps."),
        ({"quantity": "60000000"}, "A run has 1 to 50,000,000 stamps."),
        ({"quantity": "5", "scan_limit": "0"}, "The scan limit must be between 1 and 1,000,000."),
        ({"quantity": "5", "grace_minutes": "9999"}, "The grace period must be between 0"),
        ({"quantity": "5", "product_id": "999999"}, "No such product"),
        ({"quantity": "5", "product_id": "abc"}, "Choose one of the listed options."),
    ],
)
def test_a_bad_issue_form_is_refused_and_nothing_is_issued(
    client, settings, engine, sessions, form, message
) -> None:
    maker = make_run(settings, engine, sessions, quantity=1)
    browser = Browser(client)
    browser.login(member(sessions, org_id=maker.org_id).email)
    before = table_counts(sessions)
    response = browser.post("/portal/runs/new", data=form)
    assert response.status_code in (400, 404)
    assert message in response.text
    assert table_counts(sessions) == before


@pytest.mark.parametrize(
    ("form", "message", "status"),
    [
        ({"scope": "serials", "serials": ""}, "Choose either a run or serial numbers.", 400),
        ({"scope": "serials", "serials": "1234-5678-9999"}, "is not valid: check its digits", 400),
        ({"scope": "run", "product_id": ""}, "Choose the product these stamps go on.", 400),
        ({"scope": "run", "lot": "bad lot"}, "A lot number has 1 to 20", 400),
    ],
)
def test_a_bad_activation_is_refused_and_nothing_changes(
    client, settings, engine, sessions, form, message, status
) -> None:
    run = make_run(settings, engine, sessions, quantity=3, state="issued")
    browser = Browser(client)
    browser.login(member(sessions, org_id=run.org_id).email)
    before = table_counts(sessions)
    data = {"product_id": str(run.product_id), **form}
    response = browser.post(f"/portal/runs/{run.run_id}/activate", data=data)
    assert response.status_code == status
    assert message in response.text
    assert _statuses(sessions, run.run_id) == ["issued"] * 3
    assert table_counts(sessions) == before


def _held(sessions, org_id: int) -> list[int]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Stamp.sequence).where(Stamp.holder_org_id == org_id).order_by(Stamp.sequence)
            )
        )


def test_the_chain_through_the_portal(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, quantity=10)
    maker = member(sessions, org_id=run.org_id)
    distributor = member(sessions, kind="distributor")
    browser = Browser(client)
    browser.login(maker.email)
    first = _first_sequence(sessions, run.run_id)
    shipped = browser.post(
        "/portal/shipments/new",
        data={
            "to_org_id": str(distributor.org_id),
            "scope": "serials",
            "serials": _span(first + 3, first + 6),
            "reference": "PX-42",
        },
    )
    assert shipped.status_code == 303
    shipment_id = location_id(shipped)
    assert "In transit" in browser.get(f"/portal/shipments/{shipment_id}").text

    browser.login(distributor.email)
    incoming = browser.get("/portal/shipments").text
    assert f'href="/portal/shipments/{shipment_id}"' in incoming
    assert "PX-42" in incoming
    assert browser.get("/portal").text.count("shipments to receive") == 1
    detail = browser.get(f"/portal/shipments/{shipment_id}").text
    assert f"{grouped(serial_for(first + 3))} – {grouped(serial_for(first + 6))}" in detail
    assert f'action="/portal/shipments/{shipment_id}/receive"' in detail
    received = browser.post(f"/portal/shipments/{shipment_id}/receive")
    assert received.status_code == 303
    assert _held(sessions, distributor.org_id) == [first + 3, first + 4, first + 5, first + 6]
    stamps = browser.get("/portal/stamps").text
    for sequence in range(first, first + 10):
        listed = grouped(serial_for(sequence)) in stamps
        assert listed == (first + 3 <= sequence <= first + 6), sequence
    again = browser.post(f"/portal/shipments/{shipment_id}/receive")
    assert again.status_code == 409
    assert "already received" in again.text

    browser.login(maker.email)
    assert "Received" in browser.get(f"/portal/shipments/{shipment_id}").text


def test_a_distributor_passes_stamps_on_naming_their_manufacturer(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, quantity=4)
    maker, distributor = member(sessions, org_id=run.org_id), member(sessions, kind="distributor")
    retailer = member(sessions, kind="retailer")
    browser = Browser(client)
    first = _first_sequence(sessions, run.run_id)
    browser.login(maker.email)
    form = {"to_org_id": str(distributor.org_id), "scope": "run", "run_id": str(run.run_id)}
    shipment_id = location_id(browser.post("/portal/shipments/new", data=form))
    browser.login(distributor.email)
    browser.post(f"/portal/shipments/{shipment_id}/receive")
    assert "Choose the manufacturer" in browser.get("/portal/shipments/new").text
    onward = browser.post(
        "/portal/shipments/new",
        data={
            "to_org_id": str(retailer.org_id),
            "issuer_org_id": str(run.org_id),
            "serials": _span(first, first + 1),
        },
    )
    assert onward.status_code == 303
    browser.login(retailer.email)
    browser.post(f"/portal/shipments/{location_id(onward)}/receive")
    assert _held(sessions, retailer.org_id) == [first, first + 1]


@pytest.mark.parametrize(
    ("form", "message", "status"),
    [
        ({"to_org_id": ""}, "Choose who receives the stamps.", 400),
        ({"to_org_id": "999999"}, "No such distributor or retailer.", 404),
        ({"to_org_id": "abc"}, "Choose one of the listed options.", 400),
        ({"to_org_id": "99999999999"}, "Choose one of the listed options.", 400),
        ({"serials": ""}, "Choose either a run or serial numbers.", 400),
        ({"serials": "0000-0000-0001-x"}, "is not valid: check its digits", 400),
        ({"serials": "{far}"}, "No stamps match this selection.", 404),
        ({"serials": "{travelling}"}, "not active and in your custody; nothing was shipped", 409),
        ({"reference": "x" * 101}, "A shipment reference has at most 100 characters.", 400),
    ],
)
def test_a_bad_shipment_is_refused_and_nothing_is_shipped(
    client, settings, engine, sessions, form, message, status
) -> None:
    run = make_run(settings, engine, sessions, quantity=3)
    distributor = member(sessions, kind="distributor")
    first = _first_sequence(sessions, run.run_id)
    with session_scope(sessions) as session:  # the third stamp is already on its way
        ship(
            session,
            Actor.command_line(run.org_id),
            to_org_id=distributor.org_id,
            selection=Selection(first=first + 2, last=first + 2),
        )
    browser = Browser(client)
    browser.login(member(sessions, org_id=run.org_id).email)
    values = {"to_org_id": str(distributor.org_id), "serials": _span(first, first + 1), **form}
    values["serials"] = values["serials"].format(
        far=_span(first + 100, first + 200), travelling=_span(first + 1, first + 2)
    )
    before = table_counts(sessions)
    response = browser.post("/portal/shipments/new", data=values)
    assert response.status_code == status
    assert message in response.text
    assert table_counts(sessions) == before


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"scope": "serials", "serials": ""}, "Choose either a run or serial numbers."),
        ({"scope": "serials", "serials": "{last}-{first}"}, "must not exceed the last"),
    ],
)
def test_a_bad_void_is_refused_and_nothing_changes(
    client, settings, engine, sessions, form, message
) -> None:
    run = make_run(settings, engine, sessions, quantity=3)
    browser = Browser(client)
    browser.login(member(sessions, org_id=run.org_id).email)
    first = _first_sequence(sessions, run.run_id)
    form = {
        **form,
        "serials": form["serials"].format(first=serial_for(first), last=serial_for(first + 2)),
    }
    before = table_counts(sessions)
    response = browser.post(f"/portal/runs/{run.run_id}/void", data=form)
    assert response.status_code == 400
    assert message in response.text
    assert _statuses(sessions, run.run_id) == ["active"] * 3
    assert table_counts(sessions) == before


def test_the_stamp_list_filters_by_status_and_pages(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, quantity=55)
    browser = Browser(client)
    browser.login(member(sessions, org_id=run.org_id).email)
    first = browser.get("/portal/stamps?status=active")
    assert first.text.count('<td class="mono">0000 ') == 50
    older = re.search(r'href="(/portal/stamps\?[^"]+)" rel="next"', first.text)
    assert older
    rest = browser.get(older.group(1).replace("&amp;", "&"))
    assert rest.text.count('<td class="mono">0000 ') == 5
    assert 'rel="next"' not in rest.text
    assert "No stamps to show." in browser.get("/portal/stamps?status=void").text
    refused = browser.get("/portal/stamps?status=lost")
    assert refused.status_code == 400
    assert "Unknown stamp status." in refused.text
