"""The staff scanner (`/portal/scan`): a list of scanned stamps, then one action for all of
them. What the camera reads in the browser arrives here as lines of text, so these tests post
the lines a camera, a handheld scanner or a person would produce."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chinhhang.accounts.actor import Actor
from chinhhang.db import session_scope
from chinhhang.printing.urls import stamp_print_url
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Shipment, ShipmentRange, Stamp
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import Selection, receive, ship
from chinhhang.stamps.services.scanned import URL_LIMIT
from tests.factories import make_run
from tests.portal_helpers import Browser, member, portal_client, table_counts


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with portal_client(settings) as test_client:
        yield test_client


def _stamps(sessions, codes: list[str]) -> dict[str, Stamp]:
    with sessions() as session:
        rows = session.scalars(select(Stamp).where(Stamp.code.in_(codes))).all()
        session.expunge_all()
        return {row.code: row for row in rows}


def _scan_events(sessions) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ScanEvent)) or 0)


def _ship(sessions, org_id: int, to_org_id: int, codes: list[str]) -> int:
    stamps = _stamps(sessions, codes)
    sequences = tuple(sorted(stamps[c].sequence for c in codes))
    with session_scope(sessions) as session:
        shipment = ship(
            session,
            Actor.command_line(org_id),
            to_org_id=to_org_id,
            selection=Selection(sequences=sequences),
        )
        return shipment.id


def _lines(settings, codes: list[str]) -> str:
    """As they arrive: a camera's printed address, a person's lower-case typing with hyphens."""
    forms = [
        lambda c: stamp_print_url(settings.base_url, c),
        lambda c: c.lower(),
        lambda c: f"{c[:8]}-{c[8:16]}-{c[16:]}",
        lambda c: f"{settings.base_url}/v/{c}?lang=en",
    ]
    return "\n".join(forms[i % len(forms)](code) for i, code in enumerate(codes))


def test_a_distributor_receives_a_shipment_by_scanning_its_boxes(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, quantity=8)
    distributor = member(sessions, kind="distributor")
    shipment_id = _ship(sessions, run.org_id, distributor.org_id, run.codes[:6])
    browser = Browser(client)
    browser.login(distributor.email)
    assert 'href="/portal/scan"' in browser.get("/portal").text
    page = browser.get("/portal/scan").text
    assert 'value="receive"' in page
    assert 'value="activate"' not in page  # a distributor does not activate
    events = _scan_events(sessions)

    # Five of the six boxes scanned (one twice): the shipment is received as a whole.
    scanned = [*run.codes[:5], run.codes[0]]
    received = browser.post(
        "/portal/scan", data={"action": "receive", "codes": _lines(settings, scanned)}
    )
    assert received.status_code == 303
    assert received.headers["location"] == f"/portal/shipments/{shipment_id}?note=received"
    stamps = _stamps(sessions, run.codes)
    assert [stamps[c].holder_org_id for c in run.codes[:6]] == [distributor.org_id] * 6
    assert all(stamps[c].shipment_id is None for c in run.codes)
    assert [stamps[c].holder_org_id for c in run.codes[6:]] == [None, None]
    # Staff scanning is not a shopper's scan: no count spent, no scan event written.
    assert all(stamps[c].scan_count == 0 for c in run.codes)
    assert _scan_events(sessions) == events
    with sessions() as session:
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None
        assert shipment.status == "received"


def test_a_look_up_lists_what_the_organization_may_see_and_nothing_else(
    client, settings, engine, sessions
) -> None:
    mine = make_run(settings, engine, sessions, quantity=2)
    theirs = make_run(settings, engine, sessions, quantity=1)
    maker = member(sessions, org_id=mine.org_id)
    browser = Browser(client)
    browser.login(maker.email)
    forged = mine.codes[0][:-1] + ("0" if mine.codes[0][-1] != "0" else "1")
    # A look-alike site's label carrying a real code of ours is not our stamp either.
    look_alike = f"https://chinhhang-check.example/v/{mine.codes[1]}"
    lines = [*mine.codes, theirs.codes[0], forged, look_alike, "hello"]
    before = table_counts(sessions)
    page = browser.post("/portal/scan", data={"action": "lookup", "codes": "\n".join(lines)})
    assert page.status_code == 200
    stamps = _stamps(sessions, mine.codes)
    for code in mine.codes:
        assert grouped(serial_for(stamps[code].sequence)) in page.text
    # Another maker's stamp reads like a forged one: neither says whose it is. (Serials are
    # per maker, so its serial may equal one of ours: count the table's rows instead.)
    assert page.text.count("<tr>") == 1 + len(mine.codes)
    other = _stamps(sessions, theirs.codes)[theirs.codes[0]]
    for code in (theirs.codes[0], forged):
        assert f"{code[:4]}…{code[-4:]}" in page.text
    result = page.text.split('id="result-title"')[1]  # below the list, which is kept as sent
    assert "chinhhang-check.example …" in result
    assert look_alike not in result
    assert "hello" in page.text
    assert table_counts(sessions) == before

    regulator = member(sessions, kind="regulator")
    browser.login(regulator.email)
    inspected = browser.post("/portal/scan", data={"action": "lookup", "codes": theirs.codes[0]})
    assert grouped(serial_for(other.sequence)) in inspected.text
    assert _stamps(sessions, theirs.codes)[theirs.codes[0]].scan_count == 0


def test_a_full_list_of_printed_addresses_is_taken(client, settings, engine, sessions) -> None:
    """What a handheld scanner types for 500 labels: whole addresses, CR LF between them."""
    run = make_run(settings, engine, sessions, quantity=2)
    browser = Browser(client)
    browser.login(member(sessions, org_id=run.org_id).email)
    printed = [stamp_print_url(settings.base_url, code) for code in run.codes]
    # The longest line the scanner takes (URL_LIMIT), from a long address's query.
    lines = [
        f"{printed[i % 2]}?q=" + "x" * (URL_LIMIT - len(printed[i % 2]) - 3) for i in range(500)
    ]
    assert {len(line) for line in lines} == {URL_LIMIT}
    page = browser.post("/portal/scan", data={"action": "lookup", "codes": "\r\n".join(lines)})
    assert page.status_code == 200
    assert page.text.count("<tr>") == 1 + 2
    too_many = browser.post(
        "/portal/scan", data={"action": "lookup", "codes": "\r\n".join(lines + lines[:1])}
    )
    assert too_many.status_code == 400
    assert "At most 500 stamps at once." in too_many.text
    assert lines[0] in too_many.text  # the list stays on the page to be cut down


def test_a_maker_ships_exactly_the_scanned_stamps(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, quantity=6)
    distributor = member(sessions, kind="distributor")
    browser = Browser(client)
    browser.login(member(sessions, org_id=run.org_id).email)
    picked = [run.codes[0], run.codes[2], run.codes[3], run.codes[5]]
    shipped = browser.post(
        "/portal/scan",
        data={
            "action": "ship",
            "codes": _lines(settings, picked),
            "to_org_id": str(distributor.org_id),
            "reference": "PX-SCAN",
        },
    )
    assert shipped.status_code == 303
    stamps = _stamps(sessions, run.codes)
    travelling = [c for c in run.codes if stamps[c].shipment_id is not None]
    assert travelling == picked
    with sessions() as session:
        shipment = session.scalars(select(Shipment).where(Shipment.reference == "PX-SCAN")).one()
        spans = session.scalars(
            select(ShipmentRange).where(ShipmentRange.shipment_id == shipment.id)
        ).all()
        assert shipment.quantity == 4
        assert shipment.to_org_id == distributor.org_id
        assert sum(s.last_sequence - s.first_sequence + 1 for s in spans) == 4


def test_a_packer_activates_the_labels_just_applied(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, quantity=5, state="issued")
    browser = Browser(client)
    browser.login(member(sessions, org_id=run.org_id, role="operator").email)
    done = browser.post(
        "/portal/scan",
        data={
            "action": "activate",
            "codes": _lines(settings, run.codes[1:4]),
            "product_id": str(run.product_id),
            "lot": "L-SCAN",
        },
    )
    assert done.status_code == 303
    assert "Stamps activated: 3." in browser.get(done.headers["location"]).text
    stamps = _stamps(sessions, run.codes)
    assert [stamps[c].status for c in run.codes] == [
        "issued",
        "active",
        "active",
        "active",
        "issued",
    ]


NOT_OURS = "not stamps of your organization"
STRAY = "not in a shipment to your organization"


@pytest.mark.parametrize(
    ("who", "form", "message", "status"),
    [
        ("maker", {"codes": ""}, "Scan or type at least one stamp.", 400),
        ("maker", {"codes": "{many}"}, "At most 500 stamps at once.", 400),
        ("maker", {"action": "dance"}, "Choose what to do with the scanned stamps.", 400),
        ("maker", {"action": "ship"}, "Choose who receives the stamps.", 400),
        ("maker", {"action": "activate"}, "Choose the product these stamps go on.", 400),
        (
            "maker",
            {"action": "activate", "product_id": "{product}", "codes": "{mixed}"},
            NOT_OURS,
            404,
        ),
        (
            "maker",
            {"action": "ship", "to_org_id": "{distributor}", "codes": "{theirs}"},
            NOT_OURS,
            404,
        ),
        ("distributor", {"action": "receive", "codes": "{stray}"}, STRAY, 400),
        (
            "distributor",
            {"action": "activate", "product_id": "{product}"},
            "organization cannot do this",
            403,
        ),
        ("distributor", {"action": "receive", "codes": "{line}"}, NOT_OURS, 404),
    ],
)
def test_a_bad_scanner_action_is_refused_and_nothing_changes(
    client, settings, engine, sessions, who, form, message, status
) -> None:
    run = make_run(settings, engine, sessions, quantity=4, state="issued")
    theirs = make_run(settings, engine, sessions, quantity=1)
    travelling = make_run(settings, engine, sessions, quantity=3)
    distributor = member(sessions, kind="distributor")
    _ship(sessions, travelling.org_id, distributor.org_id, travelling.codes[:2])
    kept = _ship(sessions, travelling.org_id, distributor.org_id, travelling.codes[2:])
    with session_scope(sessions) as session:
        receive(session, Actor.command_line(distributor.org_id), kept)
    values = {
        "many": "\n".join([run.codes[0]] * 501),
        "product": str(run.product_id),
        "mixed": "\n".join([run.codes[0], theirs.codes[0]]),
        "theirs": theirs.codes[0],
        "distributor": str(distributor.org_id),
        # One box of the shipment, and one the distributor already holds.
        "stray": "\n".join(travelling.codes[1:3]),
        "line": "\n".join([travelling.codes[0], "not a stamp at all"]),
    }
    data = {"action": "lookup", "codes": run.codes[0]}
    data |= {key: value.format(**values) for key, value in form.items()}
    browser = Browser(client)
    email = member(sessions, org_id=run.org_id).email if who == "maker" else distributor.email
    browser.login(email)
    before = table_counts(sessions)
    stamps_before = _stamps(sessions, run.codes + travelling.codes)
    response = browser.post("/portal/scan", data=data)
    assert response.status_code == status
    assert message in response.text
    assert table_counts(sessions) == before
    after = _stamps(sessions, run.codes + travelling.codes)
    for code, stamp in stamps_before.items():
        now = after[code]
        assert (now.status, now.holder_org_id, now.shipment_id) == (
            stamp.status,
            stamp.holder_org_id,
            stamp.shipment_id,
        )
