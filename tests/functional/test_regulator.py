"""The market-control dashboard (issue 6): every figure equals what the test counts itself from
the database; the regulator sees every organization, a manufacturer only its own; filters,
CSV exports, the drill-down to one stamp, and bad filters answered with 400."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from chinhhang.accounts.models import Organization
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.serials import grouped, serial_for
from tests.functional.regulator_expected import Want, comparable, expected, pending
from tests.functional.regulator_world import B_MARK, DANANG, HANOI, HCMC, Market, build_market
from tests.portal_helpers import (
    PASSWORD,
    Browser,
    csrf_of,
    member,
    portal_client,
    table_counts,
)


@pytest.fixture
def market(settings, engine, sessions) -> Market:
    return build_market(settings, engine, sessions)


@pytest.fixture
def browser(settings):
    with portal_client(settings) as client:
        yield Browser(client)


def figures(browser: Browser, query: str = "") -> dict[str, Any]:
    response = browser.get(f"/regulator?format=json&{query}")
    assert response.status_code == 200, response.text
    return response.json()


def default_want(market: Market, **kw: Any) -> Want:
    return Want(market.today - timedelta(days=29), market.today, **kw)


def test_the_regulator_sees_every_organization_and_the_figures_equal_the_database(
    market, browser, sessions
) -> None:
    browser.login(market.g.email)
    answer = figures(browser)
    assert answer["overseer"] is True
    assert answer["organization"] is None
    with sessions() as session:
        want = expected(session, default_want(market))
        waiting = pending(session)
    assert comparable(answer["tables"]) == want
    tables = answer["tables"]
    # Every day of the 30 is listed, in order, zeros included.
    days = [row["day"] for row in tables["scans_per_day"]]
    assert len(days) == 30
    assert days[-1] == market.today.isoformat()
    assert {r["org_id"] for r in tables["pending_organizations"]} == waiting
    assert market.pending_org_id in waiting
    # Hand-checked against the world, so the two computations cannot agree on a mistake:
    # 10 suspicious scans were recorded, one of them 40 days ago, outside the range.
    totals = answer["totals"]
    assert totals["suspicious_scans"] == 9
    assert totals["suspicious_over_limit"] == 5
    assert totals["suspicious_not_activated"] == 2
    assert totals["suspicious_void"] == 2
    assert totals["scans"] == 15
    assert totals["static_scans"] == 3
    assert totals["stamps_issued"] == 10
    assert totals["stamps_activated"] == 9
    assert totals["stamps_void"] == 1
    assert totals["open_alerts"] == 5
    assert totals["open_guessing_alerts"] == 1
    assert totals["open_reports"] == 5
    assert {r["org_id"] for r in tables["suspicious_by_organization"]} == {
        market.a.org_id,
        market.b.org_id,
    }
    # The over-limit scan at 00:10 in Vietnam (17:10 UTC the day before) is on Vietnam's day.
    five_days_ago = (market.today - timedelta(days=5)).isoformat()
    assert (
        next(r for r in tables["suspicious_per_day"] if r["day"] == five_days_ago)["over_limit"]
        == 1
    )


def test_the_operator_sees_what_the_regulator_sees(market, browser) -> None:
    browser.login(market.g.email)
    regulator = figures(browser)
    browser.login(market.operator_email)
    assert figures(browser) == regulator
    by_header = browser.client.get("/regulator", headers={"Accept": "application/json"})
    assert by_header.json() == regulator
    assert by_header.headers["cache-control"] == "no-store"


def test_a_manufacturer_sees_only_its_own_figures(market, browser, sessions) -> None:
    with sessions() as session:
        b_name = session.get(Organization, market.b.org_id).name
    browser.login(market.a.email)
    response = browser.get("/regulator?format=json")
    assert B_MARK not in response.text
    assert b_name not in response.text
    answer = response.json()
    assert answer["overseer"] is False
    assert answer["organization"]["id"] == market.a.org_id
    with sessions() as session:
        assert comparable(answer["tables"]) == expected(
            session, default_want(market, issuer=market.a.org_id)
        )
    tables = answer["tables"]
    assert {r["org_id"] for r in tables["suspicious_by_product"]} == {market.a.org_id}
    assert market.b_product not in {r["product_id"] for r in tables["suspicious_by_product"]}
    assert "pending_organizations" not in tables
    assert answer["totals"]["open_guessing_alerts"] == 0
    assert answer["totals"]["suspicious_scans"] == 6
    # Asking for B's figures gives A's own again: the organization filter is fixed.
    other = browser.get(f"/regulator?format=json&org={market.b.org_id}")
    assert B_MARK not in other.text
    assert other.json() == answer
    # The HTML page too.
    page = browser.get(f"/regulator?org={market.b.org_id}")
    assert page.status_code == 200
    assert B_MARK not in page.text
    assert b_name not in page.text
    assert "Nước mắm A1" in page.text


def test_a_distributor_sees_the_stamps_in_its_custody(market, browser, sessions) -> None:
    browser.login(market.d.email)
    answer = figures(browser)
    with sessions() as session:
        assert comparable(answer["tables"]) == expected(
            session, default_want(market, holder=market.d.org_id)
        )
    assert answer["totals"]["scans"] == 2
    assert answer["totals"]["stamps_issued"] == 1
    assert B_MARK not in str(answer)


def test_filters_change_the_figures_as_the_database_says(market, browser, sessions) -> None:
    browser.login(market.g.email)
    base, t = default_want(market), market.today
    unfiltered = figures(browser)
    for query, want in [
        (f"province={HCMC}", Want(base.first, base.last, province=HCMC)),
        (f"province={DANANG}", Want(base.first, base.last, province=DANANG)),
        (
            f"from={(t - timedelta(days=45)).isoformat()}&to={(t - timedelta(days=2)).isoformat()}",
            Want(t - timedelta(days=45), t - timedelta(days=2)),
        ),
        (f"org={market.b.org_id}", Want(base.first, base.last, issuer=market.b.org_id)),
        (f"org={market.d.org_id}", Want(base.first, base.last, holder=market.d.org_id)),
        (
            f"product={market.a_products[0]}",
            Want(base.first, base.last, product=market.a_products[0]),
        ),
    ]:
        answer = figures(browser, query)
        with sessions() as session:
            assert comparable(answer["tables"]) == expected(session, want), query
        assert answer["totals"] != unfiltered["totals"], query


def test_the_date_range_is_vietnam_days(market, browser, sessions) -> None:
    """A one-day range holds exactly the scans of that day on Vietnam's clock."""
    browser.login(market.g.email)
    day = market.today - timedelta(days=5)
    answer = figures(browser, f"from={day.isoformat()}&to={day.isoformat()}")
    assert [r["day"] for r in answer["tables"]["scans_per_day"]] == [day.isoformat()]
    with sessions() as session:
        times = session.scalars(select(ScanEvent.scanned_at)).all()
    local = [moment + timedelta(hours=7) for moment in times]
    assert answer["totals"]["scans"] == sum(1 for m in local if m.date() == day) == 1


def test_every_csv_export_matches_the_json(market, browser) -> None:
    browser.login(market.g.email)
    query = f"province={HANOI}&from={(market.today - timedelta(days=60)).isoformat()}"
    answer = figures(browser, query)
    assert answer["tables"]
    for name, rows in answer["tables"].items():
        response = browser.get(f"/regulator/export/{name}.csv?{query}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        assert response.content.startswith(b"\xef\xbb\xbf")
        lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        header, body = lines[0], lines[1:]
        assert len(body) == len(rows), name
        for row, record in zip(body, rows, strict=True):
            assert header == list(record)
            for text, value in zip(row, record.values(), strict=True):
                assert _same(text, value), (name, text, value)


def _same(text: str, value: Any) -> bool:
    if value is None:
        return text == ""
    if isinstance(value, str) and value[:1] in "=+-@":
        return text == "'" + value  # the formula guard
    if isinstance(value, str) and "T" in value and value[:4].isdigit():
        # The CSV gives whole seconds on Vietnam's clock, the JSON the stored UTC time.
        gap = datetime.fromisoformat(text) - datetime.fromisoformat(value)
        return timedelta(seconds=-1) < gap <= timedelta(0)
    return text == str(value)


def test_a_csv_cell_that_looks_like_a_formula_is_guarded(market, browser) -> None:
    browser.login(market.g.email)
    response = browser.get("/regulator/export/suspicious_by_product.csv")
    assert f"'=cmd Sữa {B_MARK}" in response.content.decode("utf-8-sig")


def test_unknown_tables_and_other_peoples_tables_are_404(market, browser) -> None:
    browser.login(market.g.email)
    assert browser.get("/regulator/export/secrets.csv").status_code == 404
    browser.login(market.a.email)
    assert browser.get("/regulator/export/pending_organizations.csv").status_code == 404
    b_only = browser.get(f"/regulator/export/suspicious_by_product.csv?org={market.b.org_id}")
    assert b_only.status_code == 200
    assert B_MARK not in b_only.content.decode("utf-8-sig")


def test_the_page_shows_charts_and_tables(market, browser) -> None:
    browser.login(market.g.email)
    page = browser.get("/regulator?lang=en")
    assert page.status_code == 200
    html = page.text
    assert html.count('role="img"') == 3
    assert "<script" not in html.split("<main>")[1]
    assert "Nước mắm A1" in html
    assert B_MARK in html
    assert "/regulator/export/open_alerts.csv?" in html
    serial = grouped(serial_for(market.a_stamps[0][1]))
    assert f"serial={serial.replace(' ', '')}" in html  # an alert row leads to its stamp
    assert market.a_stamps[0][0] not in html  # never a code
    vietnamese = browser.get("/regulator?lang=vi")
    assert vietnamese.status_code == 200
    assert 'lang="vi"' in vietnamese.text


def test_the_drill_down_shows_a_stamps_history(market, browser) -> None:
    code, sequence = market.a_stamps[0]
    serial = grouped(serial_for(sequence))
    browser.login(market.g.email)
    url = f"/regulator/stamps?org={market.a.org_id}&serial={serial.replace(' ', '')}"
    history = browser.get(url + "&format=json").json()
    assert history["serial"] == serial
    assert history["status"] == "active"
    assert history["product"] == "Nước mắm A1"
    assert [s["action"] for s in history["steps"]] == ["commissioning", "activating"]
    assert sorted(s["outcome"] for s in history["scans"]) == ["genuine", *["over_limit"] * 3]
    assert {s["province"] for s in history["scans"]} >= {"Thành phố Hà Nội", None}
    assert [a["reason"] for a in history["alerts"]] == ["over_limit"]
    assert {r["reference"] for r in history["reports"]} == {"R-A1", "R-A3"}
    page = browser.get(url)
    assert page.status_code == 200
    assert serial in page.text
    assert code not in page.text
    assert code not in str(history)
    assert "0901234567" not in page.text  # the shopper's phone stays with the report
    # The shipped stamp shows its custody steps and its holder.
    shipped = grouped(serial_for(market.a_stamps[1][1]))
    held = browser.get(f"/regulator/stamps?org={market.a.org_id}&serial={shipped}&format=json")
    assert [s["action"] for s in held.json()["steps"]][-2:] == ["shipping", "receiving"]


def test_a_manufacturer_drills_only_into_its_own_stamps(market, browser) -> None:
    own = grouped(serial_for(market.a_stamps[0][1]))
    theirs = grouped(serial_for(market.b_stamps[0][1]))
    browser.login(market.a.email)
    assert browser.get(f"/regulator/stamps?serial={own}&format=json").status_code == 200
    refused = browser.get(f"/regulator/stamps?org={market.b.org_id}&serial={theirs}")
    assert refused.status_code == 404
    assert B_MARK not in refused.text
    # A serial B has but A does not have: the same 404 as a serial nobody has.
    missing = grouped(serial_for(10**9))
    assert browser.get(f"/regulator/stamps?serial={missing}").status_code == 404
    # The distributor sees the stamp it holds, not the issuer's others.
    browser.login(market.d.email)
    held = grouped(serial_for(market.a_stamps[1][1]))
    held_url = f"/regulator/stamps?org={market.a.org_id}&serial={held}"
    assert browser.get(held_url).status_code == 200
    assert browser.get(f"/regulator/stamps?org={market.a.org_id}&serial={own}").status_code == 404
    # Not the shoppers' reports on it: the seller a report names may be this custodian.
    assert browser.get(held_url + "&format=json").json()["reports"] == []
    browser.login(market.g.email)
    reports = browser.get(held_url + "&format=json").json()["reports"]
    assert [r["reference"] for r in reports] == ["R-A4"]


BAD_FILTERS = [
    ("from=2026-13-01", "start date must be a date"),
    ("to=27/11/2026", "end date must be a date"),
    ("from=20261101", "start date must be a date"),
    ("from=2026-11-20&to=2026-11-01", "start date is after the end date"),
    ("from=2024-01-01&to=2026-01-01", "at most 366 days"),
    ("from=1999-12-31&to=2000-01-02", "between the years 2000 and 2099"),
    ("province=999", "province or city from the list"),
    ("province=abc", "province or city from the list"),
    ("org=abc", "organization must be given by its number"),
    ("org=99999999999", "organization must be given by its number"),
    ("org=987654", "No such organization"),
    ("product=-1", "product must be given by its number"),
    ("product=987654", "No such product"),
]


def test_bad_filters_are_refused_with_a_clear_400(market, browser, sessions) -> None:
    browser.login(market.g.email)
    before = table_counts(sessions)
    for query, message in BAD_FILTERS:
        page = browser.get(f"/regulator?{query}")
        assert page.status_code == 400, query
        assert message in page.text, query
        assert '<form method="get" action="/regulator"' in page.text
        as_json = browser.get(f"/regulator?{query}&format=json")
        assert as_json.status_code == 400
        assert message in as_json.json()["error"]["message"]
        assert browser.get(f"/regulator/export/scans_per_day.csv?{query}").status_code == 400
    assert table_counts(sessions) == before


def test_a_manufacturer_may_not_filter_by_another_makers_product(market, browser) -> None:
    browser.login(market.a.email)
    refused = browser.get(f"/regulator?product={market.b_product}")
    assert refused.status_code == 400
    assert B_MARK not in refused.text


def test_bad_stamp_lookups_are_refused(market, browser) -> None:
    browser.login(market.g.email)
    for query, message in [
        ("serial=1234", "serial number is not valid"),
        ("org=1&serial=000000000012", "serial number is not valid"),
        ("org=x&serial=000000000013", "organization must be given by its number"),
        ("serial=000000000013", "number of the organization that issued"),
    ]:
        page = browser.get(f"/regulator/stamps?{query}")
        assert page.status_code == 400, query
        assert message in page.text, query


def test_anonymous_visitors_are_sent_to_log_in_and_back(market, browser) -> None:
    for url in ("/regulator", "/regulator/export/scans_per_day.csv", "/regulator/stamps"):
        response = browser.get(url)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/portal/login?next=")
    token = csrf_of(browser.get("/portal/login?next=/regulator%3Fprovince%3D1").text)
    signed = browser.client.post(
        "/portal/login",
        data={
            "csrf_token": token,
            "email": market.g.email,
            "password": PASSWORD,
            "next": "/regulator?province=1",
        },
    )
    assert signed.headers["location"] == "/regulator?province=1"


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(
        st.sampled_from(["from", "to", "province", "org", "product", "serial", "format"]),
        st.text(max_size=45),
        max_size=5,
    )
)
def test_no_query_ever_gives_a_server_error(browser, sessions, query) -> None:
    if not browser.client.cookies:
        browser.login(member(sessions, kind="regulator").email)
    for path in ("/regulator", "/regulator/stamps", "/regulator/export/open_alerts.csv"):
        response = browser.client.get(path, params=query)
        assert response.status_code in (200, 400, 404), (path, query, response.text[:300])
