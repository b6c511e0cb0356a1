"""Security drills (issue "[security]"): what happens, end to end, when codes leave the building.

A leaked export is the worst day a brand has: whoever holds the file prints stamps that scan
as genuine (docs/printing.md, "Leak control"). The drill is the owner's answer to it: find who
exported what (audit log, export counter), void exactly that range or run (stamps services),
and from then on every leaked code warns the shopper (`void`, docs/scanning.md) and alerts
the brand (an outbox row with the scan, folded into a `void` alert, docs/alerts.md), while the
stamps that never left stay genuine. Roles that may not export are refused without a trace.

Everything goes through the real app over HTTP (the portal as a person, the API with tokens,
`/v/{code}` as a phone), on SQLite and PostgreSQL; only the alert worker's pass is called
directly (`process_outbox`), as tests/functional/test_alerts.py does.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.models import AuditEntry
from chinhhang.alerts.grouping import process_outbox
from chinhhang.alerts.models import AlertOutbox
from chinhhang.db import session_scope, utcnow
from tests.api_helpers import PASSWORD, ApiWorld, OrgFixture
from tests.portal_helpers import Browser, portal_client

API = "/api/v1"
JSON = {"Accept": "application/json"}


def plain(serial: str) -> str:
    return serial.replace(" ", "").replace("-", "")


def email_of(org: OrgFixture, role: str) -> str:
    """The login build_world gives each role's member (tests/api_helpers.py)."""
    return f"{role}.{org.id}@{org.kind}.test"


def shopper_scan(client: TestClient, code: str) -> dict[str, Any]:
    """One phone scanning one code: a fresh cookie jar, so no grace period hides a count."""
    client.cookies.clear()
    answer = client.get(f"/v/{code}", headers=JSON)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def outbox_rows(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AlertOutbox)) or 0)


def work_outbox(sessions: sessionmaker[Session]) -> int:
    """One pass of the alert worker (alerts/grouping.py), as `serve` runs it in a thread."""
    with session_scope(sessions) as session:
        return process_outbox(session, utcnow())


def export_entries(sessions: sessionmaker[Session], org_id: int) -> list[AuditEntry]:
    with sessions() as session:
        query = select(AuditEntry).where(
            AuditEntry.action == "stamps.export", AuditEntry.org_id == org_id
        )
        return list(session.scalars(query.order_by(AuditEntry.id)))


def audit_log(client: TestClient, org: OrgFixture) -> list[dict[str, Any]]:
    """The organization's audit log as its owner reads it (GET /api/v1/audit)."""
    answer = client.get(f"{API}/audit", headers=org.auth("owner"))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_a_leaked_range_is_voided_and_every_leaked_code_then_warns_and_alerts(
    settings, client: TestClient, world: ApiWorld, sessions
) -> None:
    maker = world.maker
    leaked = slice(1, 4)  # the middle three of five stamps
    first, last = maker.serials[leaked][0], maker.serials[leaked][-1]
    run_page = f"/portal/runs/{maker.run_id}"

    # 1. The owner exports a range in the portal; an operator of the same maker may not.
    with portal_client(settings) as portal:
        browser = Browser(portal)
        browser.login(email_of(maker, "owner"), PASSWORD)
        answer = browser.post(
            f"{run_page}/export", {"format": "csv", "serials": f"{first} - {last}"}
        )
        assert answer.status_code == 200, answer.text
        rows = list(csv.reader(io.StringIO(answer.content.decode())))[1:]
        browser.login(email_of(maker, "operator"), PASSWORD)
        refused = browser.post(f"{run_page}/export", {"format": "csv"})
        assert refused.status_code == 403
        assert not any(code in refused.text for code in maker.codes)
        assert "Exported once" in browser.get(run_page).text  # the operator sees the count
    exported = [code for _serial, code, _url in rows]
    assert exported == maker.codes[leaked]
    api_refusal = client.post(
        f"{API}/runs/{maker.run_id}/exports", headers=maker.auth("operator"), json={"format": "csv"}
    )
    assert api_refusal.status_code == 403
    assert not any(code in api_refusal.text for code in maker.codes)

    # 2. Before the drill the leaked codes are as good as the real stamps: that is the threat.
    assert shopper_scan(client, exported[0])["outcome"] == "genuine"

    # 3. Who exported what: one entry, the owner in the portal, the exact range, counted once.
    (entry,) = [e for e in audit_log(client, maker) if e["action"] == "stamps.export"]
    assert (entry["user_id"], entry["token_id"], entry["via"]) == (
        maker.users["owner"],
        None,
        "web",
    )
    assert entry["target"] == f"run:{maker.run_id}"
    details = entry["details"]
    assert (details["first"], details["last"], details["quantity"], details["format"]) == (
        plain(first),
        plain(last),
        3,
        "csv",
    )
    run = client.get(f"{API}/runs/{maker.run_id}", headers=maker.auth("viewer")).json()
    assert run["export_count"] == 1

    # 4. An operator voids exactly the range the audit log names.
    voided = client.post(
        f"{API}/stamps/void",
        headers=maker.auth("operator"),
        json={"serials": f"{details['first']}-{details['last']}"},
    )
    assert voided.status_code == 200, voided.text
    assert voided.json() == {"changed": 3}

    # 5. Every leaked code now warns the shopper, and each warning is an alert on its way.
    assert outbox_rows(sessions) == 0
    for code in exported:
        verdict = shopper_scan(client, code)
        assert verdict["outcome"] == "void"
        assert verdict["product"] is not None  # the shopper sees what the stamp was for
    assert outbox_rows(sessions) == len(exported)  # written with each scan, before its answer
    client.cookies.clear()
    page = client.get(f"/v/{exported[1]}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "this stamp has been cancelled" in page.text
    assert exported[1] not in page.text  # the warning never repeats the code
    assert outbox_rows(sessions) == len(exported) + 1  # a page counts like the JSON answer
    # The stamps that never left the building are untouched.
    for code in (maker.codes[0], maker.codes[4]):
        assert shopper_scan(client, code)["outcome"] == "genuine"

    # 6. The worker turns the scans into one `void` alert per leaked stamp, for the owner;
    # the stamp scanned twice has its two scans in one alert.
    assert work_outbox(sessions) == len(exported) + 1
    alerts = client.get(f"{API}/alerts", headers=maker.auth("owner")).json()["items"]
    assert sorted((a["reason"], a["category"], a["serial"], a["scan_count"]) for a in alerts) == (
        sorted(
            ("void", "voided_stamp", serial, 2 if serial == maker.serials[2] else 1)
            for serial in maker.serials[leaked]
        )
    )
    assert {a["organization"] for a in alerts} == {maker.name}
    assert not any(code in json.dumps(alerts) for code in maker.codes)
    # Refusals counted and recorded nothing: still one export, once.
    assert len(export_entries(sessions, maker.id)) == 1
    run = client.get(f"{API}/runs/{maker.run_id}", headers=maker.auth("viewer")).json()
    assert run["export_count"] == 1


def test_a_leaked_whole_run_exported_with_a_token_is_voided_by_its_run(
    client: TestClient, world: ApiWorld, sessions
) -> None:
    """The same drill over the API alone: the token that exported is named, and voiding the
    run (not a range) turns every code in the file."""
    maker = world.maker
    answer = client.post(
        f"{API}/runs/{maker.run_id}/exports", headers=maker.auth("admin"), json={"format": "csv"}
    )
    assert answer.status_code == 200, answer.text
    exported = [row[1] for row in csv.reader(io.StringIO(answer.content.decode()))][1:]
    assert exported == maker.codes
    (entry,) = [e for e in audit_log(client, maker) if e["action"] == "stamps.export"]
    assert (entry["token_id"], entry["user_id"], entry["via"]) == (
        maker.token_ids["admin"],
        None,
        "api",
    )
    assert entry["details"]["quantity"] == len(maker.codes)

    voided = client.post(
        f"{API}/stamps/void", headers=maker.auth("owner"), json={"run_id": maker.run_id}
    )
    assert voided.json() == {"changed": len(maker.codes)}
    outcomes = [shopper_scan(client, code)["outcome"] for code in exported]
    assert outcomes == ["void"] * len(exported)
    assert work_outbox(sessions) == len(exported)
    alerts = client.get(f"{API}/alerts", headers=maker.auth("owner")).json()["items"]
    assert sorted(a["serial"] for a in alerts if a["reason"] == "void") == sorted(maker.serials)
    # The other maker's stamps, never exported, never voided, still verify.
    assert shopper_scan(client, world.other_maker.codes[0])["outcome"] == "genuine"
