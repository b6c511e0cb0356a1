"""GS1 identifiers of organizations and batch facilities, and a product's completeness against
the ten data items of Circular 02/2024."""

from __future__ import annotations

from datetime import date

import pytest

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import create_organization, update_organization
from chinhhang.catalog.gtin import check_digit
from chinhhang.catalog.services import (
    create_product,
    product_data,
    products_completeness,
    save_batch,
)
from chinhhang.db import session_scope
from chinhhang.errors import InvalidInput
from tests.factories import gtin


def gln(body: str = "893458801234") -> str:
    return body + str(check_digit(body))


GLN = gln()
WRONG_CHECK = GLN[:-1] + str((int(GLN[-1]) + 1) % 10)


def _maker(session) -> tuple[Organization, Actor]:
    org = create_organization(session, name=f"Org {gtin()}", kind="manufacturer")
    return org, Actor.command_line(org.id)


def test_an_organization_keeps_its_gln_and_company_prefix_and_clears_them(sessions) -> None:
    with session_scope(sessions) as session:
        org, actor = _maker(session)
        update_organization(session, actor, gln=f" {GLN} ", gs1_company_prefix="8934588")
        assert (org.gln, org.gs1_company_prefix) == (GLN, "8934588")
        update_organization(session, actor, address="Hà Nội")  # others left as they are
        assert (org.gln, org.gs1_company_prefix) == (GLN, "8934588")
        update_organization(session, actor, gln="", gs1_company_prefix="")
        assert (org.gln, org.gs1_company_prefix) == (None, None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"gln": WRONG_CHECK}, "check digit of gln is wrong"),
        ({"gln": "123"}, "gln must be a GLN of 13 digits"),
        ({"gln": "89345880123４5"}, "gln must be a GLN of 13 digits"),
        ({"gs1_company_prefix": "12345"}, "6 to 12 digits"),
        ({"gs1_company_prefix": "1234567890123"}, "6 to 12 digits"),
        ({"gs1_company_prefix": "89345a"}, "6 to 12 digits"),
        # One bad field refuses the whole change: the good GLN is not kept either.
        ({"gln": GLN, "gs1_company_prefix": "x"}, "6 to 12 digits"),
    ],
)
def test_bad_gs1_identifiers_are_refused_and_nothing_changes(sessions, fields, message) -> None:
    with session_scope(sessions) as session:
        org, actor = _maker(session)
        with pytest.raises(InvalidInput) as refused:
            update_organization(session, actor, address="Mới", **fields)
        assert message in str(refused.value)
        assert (org.address, org.gln, org.gs1_company_prefix) == (None, None, None)


def test_a_batch_keeps_its_facility_gln_and_refuses_a_wrong_one(sessions) -> None:
    with session_scope(sessions) as session:
        _org, actor = _maker(session)
        product = create_product(session, actor, name="Trà")
        batch = save_batch(session, actor, product_id=product.id, lot="L1", facility_gln=GLN)
        assert batch.facility_gln == GLN
        with pytest.raises(InvalidInput, match="check digit of facility_gln"):
            save_batch(session, actor, product_id=product.id, lot="L1", facility_gln=WRONG_CHECK)
        save_batch(session, actor, product_id=product.id, lot="L1", facility="Xưởng 2")
        assert (batch.facility_gln, batch.facility) == (GLN, "Xưởng 2")


def test_completeness_counts_what_the_product_its_maker_and_its_batches_hold(sessions) -> None:
    with session_scope(sessions) as session:
        org, actor = _maker(session)
        bare = create_product(session, actor, name="Trà")
        full = create_product(
            session,
            actor,
            name="Trà Shan Tuyết",
            gtin=gtin(),
            brand="Núi Cao",
            image_url="https://nuicao.example/tra.jpg",
            standards="TCVN 9740:2013",
            shelf_life="18 tháng",
        )
        update_organization(session, actor, address="Hà Giang")
        save_batch(
            session,
            actor,
            product_id=full.id,
            lot="L1",
            facility="Xưởng 1",
            facility_gln=GLN,
            production_date=date(2026, 1, 5),
        )
        missing = [item.key for item in product_data(session, actor, bare.id) if not item.present]
        assert missing == [
            "images",
            "stages",
            "production_time",
            "tracing_code",
            "brand",
            "shelf_life",
            "standards",
        ]
        assert all(item.present for item in product_data(session, actor, full.id))
        assert products_completeness(session, actor, [bare, full]) == {
            bare.id: (3, 10),
            full.id: (10, 10),
        }
        assert org.address == "Hà Giang"
