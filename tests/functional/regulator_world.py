"""A small market for the regulator's dashboard: two manufacturers, a distributor holding one
of A's stamps, a market-control agency, an organization waiting for approval; stamps in every
state, scans of every outcome on several days (one just after midnight in Vietnam) and in
several provinces, alerts and shoppers' reports. Scan events, alerts and reports are written
directly with chosen times and places; stamps go through the real services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.alerts.models import Alert, ShopperReport
from chinhhang.catalog.services import create_product
from chinhhang.config import Settings
from chinhhang.db import session_scope
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import serial_for
from chinhhang.stamps.services import Selection, activate, create_run, fill_run, receive, ship, void
from tests.factories import gtin
from tests.portal_helpers import Member, member, operator

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SUSPICIOUS = ("over_limit", "not_activated", "void")
# Only B's data holds this text: it must never reach A's answers.
B_MARK = "BÍ-MẬT-B"
HANOI, HCMC, DANANG = 1, 79, 48


@dataclass
class Market:
    a: Member
    b: Member
    d: Member
    g: Member
    operator_email: str
    pending_org_id: int
    # Stamps by (issuer org, index in its run): (code, sequence)
    a_stamps: list[tuple[str, int]]
    b_stamps: list[tuple[str, int]]
    a_products: list[int]
    b_product: int
    today: date


def at(today: date, days_ago: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment on Vietnam's clock, `days_ago` days before today."""
    return datetime.combine(today - timedelta(days=days_ago), time(hour, minute), VN)


def _run(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session], org_id: int, n: int
) -> list[tuple[str, int]]:
    with session_scope(sessions) as session:
        run = create_run(session, Actor.command_line(org_id), quantity=n)
    fill_run(engine, run, settings.keyring)
    with sessions() as session:
        rows = session.execute(
            select(Stamp.code, Stamp.sequence)
            .where(Stamp.run_id == run.id)
            .order_by(Stamp.sequence)
        )
        return [(str(code), int(seq)) for code, seq in rows]


def _one(sequence: int) -> Selection:
    return Selection(first=sequence, last=sequence)


def build_market(settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> Market:
    a, b = member(sessions), member(sessions)
    d = member(sessions, kind="distributor")
    g = member(sessions, kind="regulator", role="viewer")
    pending = member(sessions, approved=False)
    op = operator(sessions)
    with session_scope(sessions) as session:
        pa1 = create_product(session, Actor.command_line(a.org_id), name="Nước mắm A1", gtin=gtin())
        pa2 = create_product(session, Actor.command_line(a.org_id), name="Bánh pía A2")
        pb = create_product(
            session, Actor.command_line(b.org_id), name=f"=cmd Sữa {B_MARK}", gtin=gtin()
        )
        ids = (pa1.id, pa2.id, pb.id)
    a_stamps = _run(settings, engine, sessions, a.org_id, 6)
    b_stamps = _run(settings, engine, sessions, b.org_id, 4)
    with session_scope(sessions) as session:
        maker_a, maker_b = Actor.command_line(a.org_id), Actor.command_line(b.org_id)
        first = a_stamps[0][1]
        activate(
            session, maker_a, selection=Selection(first=first, last=first + 2), product_id=ids[0]
        )
        activate(
            session,
            maker_a,
            selection=Selection(first=first + 3, last=first + 4),
            product_id=ids[1],
        )
        # a_stamps[5] stays issued: its scans are "not activated".
        activate(
            session,
            maker_b,
            selection=Selection(first=b_stamps[0][1], last=b_stamps[3][1]),
            product_id=ids[2],
        )
        void(session, maker_b, selection=_one(b_stamps[3][1]))
        shipment = ship(session, maker_a, to_org_id=d.org_id, selection=_one(a_stamps[1][1]))
        shipment_id = shipment.id
    with session_scope(sessions) as session:
        receive(session, Actor(org_id=d.org_id, role="owner"), shipment_id)
    today = datetime.now(VN).date()
    market = Market(a, b, d, g, op, pending.org_id, a_stamps, b_stamps, [*ids[:2]], ids[2], today)
    with session_scope(sessions) as session:
        _scans(session, market)
        _alerts(session, market)
        _reports(session, market)
    return market


def _scan(
    market: Market,
    stamp: tuple[int, int] | None,
    outcome: str,
    when: datetime,
    province: int | None,
    *,
    static_product: tuple[int, int] | None = None,
) -> ScanEvent:
    """`stamp` is (issuer org id, index); `static_product` (org id, product id)."""
    if static_product is not None:
        org_id, product_id = static_product
        return ScanEvent(
            kind="static",
            outcome="product",
            org_id=org_id,
            product_id=product_id,
            scanned_at=when,
            client_net="198.51.100.0/24",
            province_code=province,
        )
    assert stamp is not None
    org_id, index = stamp
    stamps = market.a_stamps if org_id == market.a.org_id else market.b_stamps
    return ScanEvent(
        kind="dynamic",
        outcome=outcome,
        stamp_code=stamps[index][0],
        org_id=org_id,
        product_id=_product_of(market, org_id, index),
        scan_number=1,
        scanned_at=when,
        client_net="203.0.113.0/24",
        province_code=province,
        latitude=21.03 if province == HANOI else None,
        longitude=105.85 if province == HANOI else None,
    )


def _product_of(market: Market, org_id: int | None, index: int) -> int | None:
    """A's stamps 0-2 carry its first product, 3-4 its second, 5 none (never activated)."""
    if org_id == market.b.org_id:
        return market.b_product
    if index >= 5:
        return None
    return market.a_products[0 if index < 3 else 1]


def _scans(session: Session, market: Market) -> None:
    a, b, t = market.a.org_id, market.b.org_id, market.today
    session.add_all(
        [
            _scan(market, (a, 0), "genuine", at(t, 1), HANOI),
            _scan(market, (a, 0), "over_limit", at(t, 1, 15), HCMC),
            _scan(market, (a, 0), "over_limit", at(t, 2), None),
            _scan(market, (a, 0), "over_limit", at(t, 40), HANOI),  # before the default range
            _scan(market, (a, 3), "over_limit", at(t, 5, 0, 10), HANOI),  # 17:10 UTC the day before
            _scan(market, (a, 5), "not_activated", at(t, 3), DANANG),
            _scan(market, (a, 5), "not_activated", at(t, 3, 23, 50), DANANG),
            _scan(market, (a, 1), "genuine", at(t, 2, 9), HCMC),  # held by D
            _scan(market, (a, 1), "over_limit", at(t, 2, 11), HCMC),
            _scan(market, (b, 0), "genuine", at(t, 1, 8), None),
            _scan(market, (b, 0), "over_limit", at(t, 1, 9), HANOI),
            _scan(market, (b, 3), "void", at(t, 4), HCMC),
            _scan(market, (b, 3), "void", at(t, 4, 12), None),
            _scan(market, None, "", at(t, 1, 7), None, static_product=(a, market.a_products[0])),
            _scan(market, None, "", at(t, 6), HANOI, static_product=(a, market.a_products[0])),
            _scan(market, None, "", at(t, 6, 13), None, static_product=(b, market.b_product)),
        ]
    )


def _alert(market: Market, org_id: int | None, index: int | None, reason: str, **kw: Any) -> Alert:
    stamps = market.a_stamps if org_id == market.a.org_id else market.b_stamps
    first = kw.pop("first_at")
    return Alert(
        org_id=org_id,
        reason=reason,
        category="guessing" if reason == "guessing" else "likely_copy",
        status=kw.pop("status", "open"),
        stamp_code=stamps[index][0] if index is not None else None,
        serial=serial_for(stamps[index][1]) if index is not None else None,
        product_id=_product_of(market, org_id, index) if org_id and index is not None else None,
        client_net=kw.pop("client_net", "203.0.113.0/24"),
        scan_count=kw.pop("scan_count", 1),
        first_at=first,
        last_at=first,
        **kw,
    )


def _alerts(session: Session, market: Market) -> None:
    a, b, d, t = market.a.org_id, market.b.org_id, market.d.org_id, market.today
    session.add_all(
        [
            _alert(market, a, 0, "over_limit", first_at=at(t, 1, 15), scan_count=2),
            _alert(market, a, 5, "not_activated", first_at=at(t, 3), status="acknowledged"),
            _alert(market, a, 3, "over_limit", first_at=at(t, 45), status="closed"),
            _alert(market, a, 1, "over_limit", first_at=at(t, 2, 11), custodian_org_id=d),
            _alert(market, b, 3, "void", first_at=at(t, 4)),
            _alert(market, None, None, "guessing", first_at=at(t, 2), client_net="192.0.2.0/24"),
            _alert(
                market,
                None,
                None,
                "guessing",
                first_at=at(t, 9),
                status="closed",
                client_net="192.0.2.0/24",
            ),
        ]
    )


def _report(market: Market, ref: str, org_id: int | None, index: int | None, **kw: Any) -> Any:
    stamps = market.a_stamps if org_id == market.a.org_id else market.b_stamps
    return ShopperReport(
        reference=ref,
        org_id=org_id,
        stamp_code=stamps[index][0] if index is not None else None,
        product_id=_product_of(market, org_id, index) if org_id and index is not None else None,
        outcome=kw.pop("outcome", "over_limit"),
        shop_name=kw.pop("shop_name", "Tạp hoá Minh"),
        contact_phone="0901234567",
        updated_at=kw["created_at"],
        **kw,
    )


def _reports(session: Session, market: Market) -> None:
    a, b, t = market.a.org_id, market.b.org_id, market.today
    session.add_all(
        [
            _report(market, "R-A1", a, 0, status="new", province_code=HCMC, created_at=at(t, 1)),
            _report(market, "R-A2", a, 5, status="investigating", created_at=at(t, 20)),
            _report(
                market, "R-A3", a, 0, status="confirmed", province_code=HANOI, created_at=at(t, 2)
            ),
            _report(market, "R-A4", a, 1, status="new", province_code=HCMC, created_at=at(t, 2)),
            _report(
                market,
                "R-B1",
                b,
                0,
                status="new",
                province_code=HANOI,
                created_at=at(t, 3),
                shop_name=f"Shop {B_MARK}",
            ),
            _report(
                market, "R-X1", None, None, status="new", province_code=DANANG, created_at=at(t, 50)
            ),
        ]
    )
