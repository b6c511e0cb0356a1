"""Undoing a mistaken genuine scan within the window (SPEC section 7, triage)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from chinhhang.accounts.models import AuditEntry
from chinhhang.db import session_scope, utcnow
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Stamp
from tests.factories import make_run
from tests.portal_helpers import Browser, member, portal_client

JSON = {"Accept": "application/json"}


def scan(client, code: str) -> str:
    client.cookies.clear()
    return client.get(f"/v/{code}", headers=JSON).json()["outcome"]


def scan_ids(sessions, code: str) -> list[tuple[int, str]]:
    with sessions() as session:
        rows = session.execute(
            select(ScanEvent.id, ScanEvent.outcome)
            .where(ScanEvent.stamp_code == code)
            .order_by(ScanEvent.id)
        )
        return [(int(i), o) for i, o in rows]


def test_staff_scan_undone_gives_the_shopper_a_genuine_verdict(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    owner = member(sessions, org_id=run.org_id, role="operator")
    code = run.codes[0]
    with portal_client(settings) as client:
        assert scan(client, code) == "genuine"  # staff in the warehouse
        assert scan(client, code) == "over_limit"  # the shopper, later
        (staff, _), (warning, _) = scan_ids(sessions, code)
        browser = Browser(client)
        browser.login(owner.email)
        assert "Undo this scan" in browser.get("/portal/scans").text
        refused = browser.post(f"/portal/scans/{warning}/undo")
        assert refused.status_code == 400
        assert "warnings are kept as evidence" in refused.text
        assert browser.post(f"/portal/scans/{staff}/undo").status_code == 303
        again = browser.post(f"/portal/scans/{staff}/undo")
        assert again.status_code == 409
        assert scan(client, code) == "genuine"
    with sessions() as session:
        stamp = session.get(Stamp, code)
        assert stamp is not None
        assert stamp.scan_count == 1
        undone = session.get(ScanEvent, staff)
        assert undone is not None
        assert undone.undone_at is not None
        assert session.scalars(select(AuditEntry.action)).all().count("scan.undo") == 1


def test_undo_is_refused_past_the_window_and_to_others(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=2)
    other = make_run(settings, engine, sessions)
    stranger = member(sessions, org_id=other.org_id, role="owner")
    owner = member(sessions, org_id=run.org_id, role="owner")
    viewer = member(sessions, org_id=run.org_id, role="viewer")
    with portal_client(settings) as client:
        scan(client, run.codes[0])
        scan(client, run.codes[1])
        (old, _), (recent, _) = (
            *scan_ids(sessions, run.codes[0]),
            *scan_ids(sessions, run.codes[1]),
        )
        with session_scope(sessions) as session:
            session.execute(
                update(ScanEvent)
                .where(ScanEvent.id == old)
                .values(scanned_at=utcnow() - timedelta(days=11))
            )
        browser = Browser(client)
        browser.login(stranger.email)
        assert browser.post(f"/portal/scans/{recent}/undo").status_code == 404
        browser.login(viewer.email)
        assert browser.post(f"/portal/scans/{recent}/undo").status_code == 403
        browser.login(owner.email)
        late = browser.post(f"/portal/scans/{old}/undo")
        assert late.status_code == 400
        assert "10 days" in late.text
    with sessions() as session:
        counts = session.scalars(
            select(Stamp.scan_count).where(Stamp.code.in_(run.codes[:2]))
        ).all()
        assert sorted(counts) == [1, 1]  # nothing was given back


def test_undo_through_the_api(client, settings, sessions) -> None:
    from tests.api_helpers import build_world  # noqa: PLC0415

    world = build_world(sessions, settings.keyring)
    code = world.maker.codes[0]
    assert scan(client, code) == "genuine"
    ((scan_id, _),) = scan_ids(sessions, code)
    url = f"/api/v1/scans/{scan_id}/undo"
    assert client.post(url, headers=world.other_maker.auth()).status_code == 404
    done = client.post(url, headers=world.maker.auth("operator"))
    assert done.status_code == 200
    assert done.json()["undone_at"]
    assert done.json()["serial"] == world.maker.serials[0]
    assert client.post(url, headers=world.maker.auth()).status_code == 409
