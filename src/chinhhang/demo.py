"""Demo data for `chinhhang demo` and `make run`: enough to see every verdict. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import (
    add_membership,
    create_organization,
    create_user,
    find_organization,
    find_user,
    update_organization,
)
from chinhhang.catalog.gtin import check_digit
from chinhhang.catalog.links import add_link, list_links
from chinhhang.catalog.models import Product
from chinhhang.catalog.promotions import create_promotion, current_promotions
from chinhhang.catalog.services import create_product, get_or_create_batch
from chinhhang.db import session_scope
from chinhhang.localtime import vietnam_today
from chinhhang.stamps.codes import Keyring
from chinhhang.stamps.models import IN_TRANSIT, Shipment, Stamp, StampRun
from chinhhang.stamps.serials import serial_for
from chinhhang.stamps.services import (
    Selection,
    activate,
    create_run,
    fill_run,
    get_run,
    receive,
    ship,
    void,
)

MANUFACTURER = "Công ty CP Thực phẩm Sen Vàng (demo)"
DISTRIBUTOR = "Nhà phân phối Miền Nam (demo)"
RETAILER = "Cửa hàng Tạp hóa Bến Thành (demo)"
REGULATOR = "Chi cục Quản lý thị trường (demo)"
# Printed by `chinhhang demo` and listed in the README: a demo, not a secret.
DEMO_PASSWORD = "chinhhang-demo"  # noqa: S105
# (e-mail, organization, role); the operator's account belongs to no organization.
DEMO_USERS: tuple[tuple[str, str | None, str | None], ...] = (
    ("owner@senvang.demo", MANUFACTURER, "owner"),
    ("admin@senvang.demo", MANUFACTURER, "admin"),
    ("operator@senvang.demo", MANUFACTURER, "operator"),
    ("viewer@senvang.demo", MANUFACTURER, "viewer"),
    ("kho@miennam.demo", DISTRIBUTOR, "owner"),
    ("cuahang@benthanh.demo", RETAILER, "owner"),
    ("thanhtra@qltt.demo", REGULATOR, "owner"),
    ("operator@chinhhang.demo", None, None),
)


def _gtin(body: str) -> str:
    """GTINs in GS1's restricted-circulation range (02…), so no real product is impersonated."""
    return body + str(check_digit(body))


# Location numbers (GLN) in the same restricted range, and the GS1 company prefix the demo
# GTINs start with: the EPCIS events and the shopper's journey show them as location codes.
COMPANY_PREFIX = "0200000"
GLNS = {
    MANUFACTURER: _gtin("020000000001"),
    DISTRIBUTOR: _gtin("020000000002"),
    RETAILER: _gtin("020000000003"),
}


PRODUCTS: tuple[dict[str, Any], ...] = (
    {
        "name": "Nước mắm Phú Quốc 40°N 500 ml",
        "gtin": _gtin("0200000000001"),
        "brand": "Sen Vàng",
        "origin": "Phú Quốc, Kiên Giang, Việt Nam",
        "description": "Nước mắm cá cơm truyền thống, ủ chượp 12 tháng trong thùng gỗ.",
        "standards": "TCVN 5107:2018",
        "shelf_life": "24 tháng",
        "warranty_months": 0,
        "lot": "L2026-11A",
        "facility": "Nhà thùng Dương Đông, Phú Quốc",
        "facility_gln": _gtin("020000000011"),
        "links": (
            (
                "gs1:certificationInfo",
                "https://senvang.example/chung-nhan/tcvn-5107-2018",
                "Giấy chứng nhận hợp chuẩn TCVN 5107:2018",
            ),
        ),
    },
    {
        "name": "Máy lọc nước RO 9 lõi",
        "gtin": _gtin("0200000000002"),
        "brand": "Sen Vàng",
        "origin": "Bình Dương, Việt Nam",
        "description": "Máy lọc nước gia đình, công suất 10 lít/giờ.",
        "standards": "QCVN 6-1:2010/BYT",
        "shelf_life": None,
        "warranty_months": 24,
        "lot": "RO-2611",
        "facility": "Nhà máy Sen Vàng, KCN VSIP Bình Dương",
        "facility_gln": _gtin("020000000012"),
        "links": (
            (
                "gs1:support",
                "https://senvang.example/ho-tro/may-loc-nuoc-ro",
                "Hướng dẫn sử dụng và bảo hành",
            ),
        ),
    },
)


@dataclass
class DemoResult:
    manufacturer_id: int
    distributor_id: int
    retailer_id: int
    regulator_id: int
    gtins: list[str]
    lots: list[str]
    genuine_codes: list[str] = field(default_factory=list)
    limit3_codes: list[str] = field(default_factory=list)
    not_activated_code: str | None = None
    void_code: str | None = None
    # (run id, first serial, last serial) of stamps on their way to the distributor: labels
    # to print and read with the in-app scanner (docs/scanner.md).
    waiting: tuple[int, str, str] | None = None


def load_demo(engine: Engine, sessions: sessionmaker[Session], keyring: Keyring) -> DemoResult:
    with session_scope(sessions) as session:
        maker = _org(session, MANUFACTURER, "manufacturer", "Số 1 Đường Số 3, KCN VSIP, Bình Dương")
        distributor = _org(session, DISTRIBUTOR, "distributor", "Quận 7, TP. Hồ Chí Minh")
        retailer = _org(session, RETAILER, "retailer", "Chợ Bến Thành, Quận 1, TP. Hồ Chí Minh")
        regulator = _org(session, REGULATOR, "regulator", None)
        _users(session)
        products = [_product(session, maker.id, spec) for spec in PRODUCTS]
        result = DemoResult(
            maker.id,
            distributor.id,
            retailer.id,
            regulator.id,
            [str(p.gtin) for p in products],
            [str(spec["lot"]) for spec in PRODUCTS],
        )
    plan = (  # (product index, quantity, scan limit, what to do)
        (0, 50, 1, "activate"),
        (1, 20, 3, "activate"),
        (0, 10, 1, "issue"),
        (0, 5, 1, "void"),
    )
    with session_scope(sessions) as session:
        have_runs = session.scalar(select(StampRun.id).where(StampRun.org_id == maker.id))
    if not have_runs:
        for index, quantity, limit, action in plan:
            last_run = _run(
                engine,
                sessions,
                keyring,
                maker.id,
                products[index].id,
                str(PRODUCTS[index]["lot"]),
                quantity,
                limit,
                action,
            )
            if index == 1:
                _ship_demo(sessions, maker.id, distributor.id, retailer.id, last_run)
    with session_scope(sessions) as session:
        _collect_codes(session, maker.id, result)
        _promotion(session, maker.id, products[1].id)
    if len(result.genuine_codes) < 3:  # used up by earlier demos: top up, so URLs always print
        _run(
            engine,
            sessions,
            keyring,
            maker.id,
            products[0].id,
            str(PRODUCTS[0]["lot"]),
            50,
            1,
            "activate",
        )
        with session_scope(sessions) as session:
            _collect_codes(session, maker.id, result)
    return result


def _promotion(session: Session, org_id: int, product_id: int) -> None:
    """A promotion running now on the water filter (a new one when the last has ended)."""
    if current_promotions(session, product_id):
        return
    today = vietnam_today()
    create_promotion(
        session,
        Actor.command_line(org_id),
        title="Tặng bộ lõi lọc thay thế khi đăng ký bảo hành",
        text="Đăng ký bảo hành máy lọc nước RO 9 lõi ngay sau khi quét tem để nhận một bộ lõi "
        "lọc thay thế miễn phí tại đại lý.",
        starts_on=today - timedelta(days=7),
        ends_on=today + timedelta(days=90),
        product_ids=[product_id],
    )


def _org(session: Session, name: str, kind: str, address: str | None) -> Organization:
    org = find_organization(session, name) or create_organization(
        session, name=name, kind=kind, address=address
    )
    if org.gln is None and name in GLNS:
        update_organization(
            session,
            Actor.command_line(org.id),
            gln=GLNS[name],
            gs1_company_prefix=COMPANY_PREFIX if kind == "manufacturer" else None,
        )
    return org


def _users(session: Session) -> None:
    for email, org_name, role in DEMO_USERS:
        if find_user(session, email) is not None:
            continue
        user = create_user(
            session, email=email, password=DEMO_PASSWORD, platform_admin=org_name is None
        )
        org = find_organization(session, org_name) if org_name else None
        if org is not None and role is not None:
            add_membership(session, user_id=user.id, org_id=org.id, role=role)


def _ship_demo(
    sessions: sessionmaker[Session],
    maker_id: int,
    distributor_id: int,
    retailer_id: int,
    run_id: int,
) -> None:
    """The chain: the water filters' first ten stamps go to the distributor, who receives
    them and passes five on to the retailer; five more are on their way to the distributor."""
    with session_scope(sessions) as session:
        first = get_run(session, run_id).first_sequence
        maker = Actor.command_line(maker_id)
        received = ship(
            session,
            maker,
            to_org_id=distributor_id,
            selection=Selection(first=first, last=first + 9),
            reference="PX-0001",
        )
        receive(session, Actor.command_line(distributor_id), received.id)
        onward = ship(
            session,
            Actor.command_line(distributor_id),
            to_org_id=retailer_id,
            selection=Selection(first=first, last=first + 4, issuer_org_id=maker_id),
            reference="PX-0002",
        )
        receive(session, Actor.command_line(retailer_id), onward.id)
        ship(
            session,
            maker,
            to_org_id=distributor_id,
            selection=Selection(first=first + 10, last=first + 14),
            reference="PX-0003",
        )


def _product(session: Session, org_id: int, spec: dict[str, Any]) -> Product:
    existing = session.scalars(select(Product).where(Product.gtin == spec["gtin"])).first()
    product = existing or create_product(
        session,
        Actor.command_line(org_id),
        name=str(spec["name"]),
        gtin=str(spec["gtin"]),
        brand=spec["brand"],
        origin=spec["origin"],
        description=spec["description"],
        standards=spec["standards"],
        shelf_life=spec["shelf_life"],
        warranty_months=spec["warranty_months"],
    )
    batch = get_or_create_batch(
        session,
        product_id=product.id,
        lot=str(spec["lot"]),
        facility=str(spec["facility"]),
        production_date=date(2026, 11, 2),
        expiry_date=date(2028, 11, 2),
    )
    batch.facility_gln = batch.facility_gln or str(spec["facility_gln"])
    actor = Actor.command_line(org_id)
    if not list_links(session, actor, product.id):
        for link_type, href, title in spec["links"]:
            add_link(
                session,
                actor,
                product.id,
                link_type=link_type,
                href=href,
                title=title,
                hreflang="vi",
            )
    return product


def _run(
    engine: Engine,
    sessions: sessionmaker[Session],
    keyring: Keyring,
    org_id: int,
    product_id: int,
    lot: str,
    quantity: int,
    limit: int,
    action: str,
) -> int:
    actor = Actor.command_line(org_id)
    with session_scope(sessions) as session:
        run = create_run(
            session, actor, quantity=quantity, scan_limit=limit, key_id=keyring.current
        )
    fill_run(engine, run, keyring)
    with session_scope(sessions) as session:
        selection = Selection(run_id=run.id)
        if action in ("activate", "void"):
            activate(session, actor, selection=selection, product_id=product_id, lot=lot)
        if action == "void":
            void(session, actor, selection=selection)
    return run.id


def _collect_codes(session: Session, org_id: int, result: DemoResult) -> None:
    """Unscanned codes of each kind, so a second `demo` still prints codes that verify."""

    def codes(status: str, limit: int, count: int) -> list[str]:
        return list(
            session.scalars(
                select(Stamp.code)
                .where(
                    Stamp.org_id == org_id,
                    Stamp.status == status,
                    Stamp.scan_limit == limit,
                    Stamp.scan_count == 0,
                )
                .order_by(Stamp.sequence)
                .limit(count)
            )
        )

    result.genuine_codes = codes("active", 1, 3)
    result.limit3_codes = codes("active", 3, 1)
    result.not_activated_code = next(iter(codes("issued", 1, 1)), None)
    result.void_code = next(iter(codes("void", 1, 1)), None)
    waiting = session.execute(
        select(Stamp.run_id, func.min(Stamp.sequence), func.max(Stamp.sequence))
        .join(Shipment, Shipment.id == Stamp.shipment_id)
        .where(Stamp.org_id == org_id, Shipment.status == IN_TRANSIT)
        .group_by(Stamp.shipment_id, Stamp.run_id)  # one shipment's labels: one range
        .order_by(Stamp.shipment_id, Stamp.run_id)
    ).first()
    if waiting is not None:
        run_id, first, last = waiting
        result.waiting = (run_id, serial_for(first), serial_for(last))
