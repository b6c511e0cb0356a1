"""Alerts: raised by suspicious scans through the outbox, grouped per stamp, guessing per
client, seen by the right people, triaged by the owner (issue 6)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry
from chinhhang.accounts.services import create_organization
from chinhhang.alerts.grouping import process_outbox
from chinhhang.alerts.models import Alert, AlertChannel, AlertOutbox
from chinhhang.alerts.services import list_alerts
from chinhhang.db import make_engine, make_sessionmaker, session_scope, upgrade_database, utcnow
from chinhhang.scans.privacy import truncate_address
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import Selection, receive, ship
from chinhhang.web import create_app
from tests.api_helpers import build_world
from tests.conftest import PHONE, make_settings
from tests.factories import make_run
from tests.portal_helpers import Browser, member, operator, portal_client

JSON = {"Accept": "application/json"}


def scan(client, code: str) -> str:
    client.cookies.clear()  # another phone each time: no grace period
    return client.get(f"/v/{code}", headers=JSON).json().get("outcome", "unknown")


def work_outbox(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return process_outbox(session, utcnow())


def alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as session:
        found = list(session.scalars(select(Alert).order_by(Alert.id)))
        session.expunge_all()
        return found


def outbox_size(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AlertOutbox)) or 0)


def test_second_scan_of_a_limit_one_stamp_makes_exactly_one_alert(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    assert scan(client, run.codes[0]) == "genuine"
    assert outbox_size(sessions) == 0  # a genuine scan alerts nobody
    assert scan(client, run.codes[0]) == "over_limit"
    assert outbox_size(sessions) == 1  # written with the scan, before the answer
    assert work_outbox(sessions) == 1
    assert outbox_size(sessions) == 0
    (alert,) = alerts(sessions)
    assert (alert.reason, alert.category, alert.status) == ("over_limit", "likely_copy", "open")
    assert alert.org_id == run.org_id
    assert alert.serial == serial_for(1)
    assert alert.scan_count == 1


def test_more_scans_of_the_stamp_join_its_alert(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    scan(client, run.codes[0])
    for _ in range(3):
        assert scan(client, run.codes[0]) == "over_limit"
    work_outbox(sessions)
    assert scan(client, run.codes[0]) == "over_limit"
    work_outbox(sessions)
    (alert,) = alerts(sessions)
    assert alert.scan_count == 4
    assert alert.last_at >= alert.first_at


def test_a_closed_alert_stays_closed_and_the_next_scan_opens_another(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    scan(client, run.codes[0])
    scan(client, run.codes[0])
    work_outbox(sessions)
    with session_scope(sessions) as session:
        session.execute(Alert.__table__.update().values(status="closed"))
    scan(client, run.codes[0])
    work_outbox(sessions)
    first, second = alerts(sessions)
    assert (first.status, first.scan_count) == ("closed", 1)
    assert (second.status, second.scan_count) == ("open", 1)


def test_not_activated_and_void_stamps_raise_their_own_categories(
    client, settings, engine, sessions
) -> None:
    issued = make_run(settings, engine, sessions, state="issued")
    voided = make_run(settings, engine, sessions, state="void")
    assert scan(client, issued.codes[0]) == "not_activated"
    assert scan(client, voided.codes[0]) == "void"
    work_outbox(sessions)
    found = {(a.reason, a.category, a.org_id) for a in alerts(sessions)}
    assert found == {
        ("not_activated", "stolen_stamps", issued.org_id),
        ("void", "voided_stamp", voided.org_id),
    }


def test_the_alert_names_the_distributor_holding_the_stamp(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    with session_scope(sessions) as session:
        shop = create_organization(session, name="Nhà phân phối Sao Mai", kind="distributor")
        shipment = ship(
            session,
            Actor.command_line(run.org_id),
            selection=Selection(run_id=run.run_id),
            to_org_id=shop.id,
        )
        receive(session, Actor.command_line(shop.id), shipment.id)
        shop_id = shop.id
    with portal_client(settings) as client:
        scan(client, run.codes[0])
        scan(client, run.codes[0])
    work_outbox(sessions)
    (alert,) = alerts(sessions)
    assert alert.custodian_org_id == shop_id
    with sessions() as session:
        (row,) = list_alerts(session, Actor(org_id=shop_id, role="viewer"))
        assert row.custodian == "Nhà phân phối Sao Mai"
        assert list_alerts(session, Actor(org_id=run.org_id, role="viewer"))[0].id == row.id


def test_code_guessing_raises_one_grouped_alert_and_is_throttled(tmp_path) -> None:
    settings = make_settings(tmp_path, guess_limit="5/minute", scan_rate_limit="1000/minute")
    upgrade_database(settings)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    forged = ["0" * 20, "ABCDEFGHJKMNPQRSTVWX", "1" * 20, "2" * 20, "3" * 20, "4" * 20]
    with TestClient(create_app(settings), headers={"User-Agent": PHONE}) as client:
        answers = [client.get(f"/v/{code}", headers=JSON) for code in forged]
        page = client.get(f"/v/{forged[0]}?lang=en")
    assert [a.status_code for a in answers] == [404, 404, 404, 404, 404, 429]
    assert answers[-1].headers["retry-after"] == "60"  # the guessing window, 5/minute
    assert page.status_code == 429
    assert "Too many unknown codes" in page.text
    assert outbox_size(sessions) == 1  # the fifth unknown code raised it, once
    work_outbox(sessions)
    (alert,) = alerts(sessions)
    assert (alert.reason, alert.category) == ("guessing", "guessing")
    assert (alert.org_id, alert.stamp_code) == (None, None)
    assert alert.client_net == truncate_address("testclient")
    engine.dispose()


def test_people_see_the_alerts_they_should(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    other = make_run(settings, engine, sessions, scan_limit=1)
    owner = member(sessions, org_id=run.org_id, role="viewer")
    stranger = member(sessions, org_id=other.org_id, role="owner")
    regulator = member(sessions, kind="regulator", role="viewer")
    with portal_client(settings) as client:
        scan(client, run.codes[0])
        scan(client, run.codes[0])
        work_outbox(sessions)
        (alert,) = alerts(sessions)
        browser = Browser(client)
        serial = grouped(serial_for(1))
        browser.login(owner.email)
        page = browser.get("/portal/alerts")
        assert page.status_code == 200
        assert serial in page.text
        assert serial in browser.get("/portal/alerts/live").text
        assert browser.get(f"/portal/alerts/{alert.id}").status_code == 200
        assert serial in browser.get("/portal").text  # the dashboard's live panel
        browser.login(stranger.email)
        assert serial not in browser.get("/portal/alerts").text
        assert browser.get(f"/portal/alerts/{alert.id}").status_code == 404
        browser.login(regulator.email)
        assert serial in browser.get("/portal/alerts").text
        assert browser.get(f"/portal/alerts/{alert.id}").status_code == 200
        browser.login(operator(sessions))
        assert serial in browser.get("/portal/alerts").text


def test_the_owner_triages_and_it_is_audited(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    owner = member(sessions, org_id=run.org_id, role="operator")
    viewer = member(sessions, org_id=run.org_id, role="viewer")
    with portal_client(settings) as client:
        scan(client, run.codes[0])
        scan(client, run.codes[0])
        work_outbox(sessions)
        (alert,) = alerts(sessions)
        browser = Browser(client)
        browser.login(viewer.email)
        refused = browser.post(
            f"/portal/alerts/{alert.id}", {"status": "closed", "category": "process_error"}
        )
        assert refused.status_code == 403
        browser.login(owner.email)
        bad = browser.post(f"/portal/alerts/{alert.id}", {"status": "gone", "category": "x"})
        assert bad.status_code == 400
        assert "Unknown alert status" in bad.text
        done = browser.post(
            f"/portal/alerts/{alert.id}",
            {"status": "closed", "category": "process_error", "note": "Staff scanned it."},
        )
        assert done.status_code == 303
    (after,) = alerts(sessions)
    assert (after.status, after.category, after.note) == (
        "closed",
        "process_error",
        "Staff scanned it.",
    )
    with sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action)))
    assert actions.count("alert.triage") == 1


def test_alerts_through_the_api(client, settings, sessions) -> None:
    world = build_world(sessions, settings.keyring)
    scan(client, world.maker.codes[0])
    scan(client, world.maker.codes[0])
    work_outbox(sessions)
    listed = client.get("/api/v1/alerts?status=open", headers=world.maker.auth("viewer"))
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert item["serial"] == world.maker.serials[0]
    assert "code" not in item
    assert client.get("/api/v1/alerts", headers=world.other_maker.auth()).json()["items"] == []
    everyone = client.get("/api/v1/alerts", headers=world.regulator.auth("viewer")).json()
    assert [a["id"] for a in everyone["items"]] == [item["id"]]
    url = f"/api/v1/alerts/{item['id']}/triage"
    body = {"status": "acknowledged", "category": "process_error", "note": "Kho quét nhầm."}
    assert client.post(url, json=body, headers=world.maker.auth("viewer")).status_code == 403
    assert client.post(url, json=body, headers=world.other_maker.auth()).status_code == 404
    bad = client.post(url, json={**body, "status": "gone"}, headers=world.maker.auth())
    assert bad.status_code == 400
    assert client.get(f"/api/v1/alerts/{item['id']}", headers=world.maker.auth()).json()[
        "status"
    ] == ("open")
    done = client.post(url, json=body, headers=world.maker.auth("operator"))
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["note"]) == ("acknowledged", "Kho quét nhầm.")


def test_reopening_a_closed_alert_of_a_stamp_with_a_newer_one_is_refused(
    client, settings, sessions
) -> None:
    world = build_world(sessions, settings.keyring)
    code = world.maker.codes[0]
    scan(client, code)
    scan(client, code)
    work_outbox(sessions)
    (first,) = alerts(sessions)
    url = f"/api/v1/alerts/{first.id}/triage"
    closed = {"status": "closed", "category": "likely_copy"}
    assert client.post(url, json=closed, headers=world.maker.auth()).status_code == 200
    scan(client, code)
    work_outbox(sessions)  # a new open alert on the same stamp
    reopen = {"status": "open", "category": "likely_copy"}
    refused = client.post(url, json=reopen, headers=world.maker.auth())
    assert refused.status_code == 409
    assert [a.status for a in alerts(sessions)] == ["closed", "open"]


def test_only_the_owners_managers_see_where_an_alert_was_delivered(
    settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    owner = member(sessions, org_id=run.org_id, role="owner")
    viewer = member(sessions, org_id=run.org_id, role="viewer")
    regulator = member(sessions, kind="regulator", role="owner")
    with session_scope(sessions) as session:
        session.add(AlertChannel(org_id=run.org_id, kind="email", target="bi-mat@maker.vn"))
    with portal_client(settings) as client:
        scan(client, run.codes[0])
        scan(client, run.codes[0])
        work_outbox(sessions)
        (alert,) = alerts(sessions)
        browser = Browser(client)
        browser.login(owner.email)
        assert "bi-mat@maker.vn" in browser.get(f"/portal/alerts/{alert.id}").text
        for who in (viewer, regulator):
            browser.login(who.email)
            page = browser.get(f"/portal/alerts/{alert.id}")
            assert page.status_code == 200
            assert "bi-mat@maker.vn" not in page.text


def test_a_regulator_works_the_guessing_alerts_no_manufacturer_sees(
    client, settings, sessions
) -> None:
    world = build_world(sessions, settings.keyring)
    now = utcnow()
    with session_scope(sessions) as session:
        guessing = Alert(
            reason="guessing",
            category="guessing",
            status="open",
            client_net="203.0.113.0/24",
            scan_count=20,
            first_at=now,
            last_at=now,
        )
        session.add(guessing)
        session.flush()
        alert_id = guessing.id
    url = f"/api/v1/alerts/{alert_id}/triage"
    body = {"status": "closed", "category": "guessing", "note": "Đã chặn dải địa chỉ."}
    assert client.post(url, json=body, headers=world.maker.auth()).status_code == 404
    done = client.post(url, json=body, headers=world.regulator.auth("operator"))
    assert done.status_code == 200
    assert done.json()["status"] == "closed"
