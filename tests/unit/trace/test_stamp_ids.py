"""How EPCIS names the platform's stamps: GTIN + serial ↔ Digital Link ↔ SGTIN ↔ stamp, the
platform's own URIs, and nothing but None for what is not one of ours."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.catalog.gtin import check_digit
from chinhhang.catalog.models import Product
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import MAX_SEQUENCE, serial_for
from chinhhang.trace.epcis.identifiers import (
    Level,
    digital_link_to_sgtin,
    identifier_level,
    sgtin_to_digital_link,
)
from chinhhang.trace.epcis.platform import event_id, parse_event_id
from chinhhang.trace.epcis.stamp_ids import (
    MAX_ID,
    ClassName,
    PlaceName,
    StampName,
    class_for_identifier,
    company_prefix_length,
    equivalent_identifiers,
    location_identifier,
    lot_class_identifier,
    parse_class_identifier,
    parse_place_identifier,
    parse_stamp_identifier,
    product_class_identifier,
    stamp_for_identifier,
    stamp_identifier,
    unbound_class_identifier,
)
from tests.factories import make_run

BASE = "https://truyxuat.example.vn"
gtins = st.from_regex(r"[0-9]{13}", fullmatch=True).map(lambda body: body + str(check_digit(body)))
sequences = st.integers(1, MAX_SEQUENCE)
prefix_lengths = st.integers(6, 12)
ids = st.integers(1, MAX_ID)
bases = st.sampled_from([BASE, "http://127.0.0.1:8000", "https://example.com/truy-xuat"])
# GS1 "CSET 82", the characters a lot may hold.
lots = st.text(
    st.sampled_from(
        "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
    ),
    min_size=1,
    max_size=20,
)


@given(gtins, sequences, prefix_lengths)
def test_gtin_and_serial_to_digital_link_to_sgtin_and_back(gtin, sequence, length) -> None:
    link = stamp_identifier(gtin, 1, serial_for(sequence), BASE)
    assert link == f"https://id.gs1.org/01/{gtin}/21/{serial_for(sequence)}"
    sgtin = digital_link_to_sgtin(link, length)
    assert sgtin_to_digital_link(sgtin) == link
    assert (
        parse_stamp_identifier(link) == parse_stamp_identifier(sgtin) == StampName(sequence, gtin)
    )
    assert equivalent_identifiers(link, length) == (link, sgtin)
    assert equivalent_identifiers(sgtin) == (sgtin, link)
    assert equivalent_identifiers(link) == (link,)
    assert identifier_level(link) is identifier_level(sgtin) is Level.INSTANCE


@given(ids, sequences, bases)
def test_the_platforms_stamp_uri_round_trips_and_is_no_digital_link(issuer, sequence, base) -> None:
    uri = stamp_identifier(None, issuer, serial_for(sequence), base)
    assert parse_stamp_identifier(uri) == StampName(sequence, issuer_org_id=issuer)
    assert identifier_level(uri) is None  # anyone's own URI: fine in an epcList
    assert identifier_level(unbound_class_identifier(issuer, base)) is None
    assert parse_class_identifier(uri) is None


@given(gtins, lots, ids, prefix_lengths)
def test_class_identifiers_round_trip(gtin, lot, product_id, length) -> None:
    assert parse_class_identifier(product_class_identifier(gtin, product_id, BASE)) == ClassName(
        gtin
    )
    lot_class = lot_class_identifier(gtin, product_id, lot, BASE)
    assert parse_class_identifier(lot_class) == ClassName(gtin, lot=lot)
    assert identifier_level(lot_class) is Level.CLASS
    lgtin = equivalent_identifiers(lot_class, length)[1]
    assert parse_class_identifier(lgtin) == ClassName(gtin, lot=lot)
    own = lot_class_identifier(None, product_id, lot, BASE)
    assert parse_class_identifier(own) == ClassName(product_id=product_id, lot=lot)
    assert identifier_level(own) is None


@given(st.text(max_size=200))
def test_nothing_raises_on_any_text(text) -> None:
    parse_stamp_identifier(text)
    parse_class_identifier(text)
    parse_place_identifier(text)
    assert equivalent_identifiers(text)[0] == text


SERIAL = serial_for(18)
GTIN = "0" + "893456700001" + str(check_digit("0893456700001"))
BAD_STAMPS = [
    "",
    "not a uri",
    f"https://id.gs1.org/01/{GTIN}",  # a class, not an item
    f"https://id.gs1.org/01/{GTIN[:-1]}0/21/{SERIAL}"
    if GTIN[-1] != "0"
    else f"https://id.gs1.org/01/{GTIN[:-1]}1/21/{SERIAL}",  # GTIN check digit
    f"https://id.gs1.org/01/{GTIN}/21/{SERIAL[:-1]}{(int(SERIAL[-1]) + 1) % 10}",  # Damm
    f"https://id.gs1.org/01/{GTIN}/21/{SERIAL[1:]}",  # 11 digits
    f"https://id.gs1.org/01/{GTIN}/21/000000000000",  # sequence 0
    f"https://id.gs1.org/01/{GTIN}/21/ABC",
    f"{BASE}/id/stamp/0/serial/{SERIAL}",
    f"{BASE}/id/stamp/{MAX_ID + 1}/serial/{SERIAL}",
    f"{BASE}/id/stamp/1/serial/{SERIAL}/",
    f"{BASE}/id/stamp/1/{SERIAL}",
    f"ftp://x/id/stamp/1/serial/{SERIAL}",
    "urn:epc:id:sgtin:0614141.112345",
    "urn:epc:id:sscc:0614141.1234567890",
    f"{BASE}/v/ABCDEFGHJKMNPQRSTVWXYZ0123",  # a scan URL holds a code: never an identifier
]


@pytest.mark.parametrize("uri", BAD_STAMPS)
def test_what_is_no_stamp_identifier_gives_none(uri) -> None:
    assert parse_stamp_identifier(uri) is None


def test_places() -> None:
    gln = "893456700001" + str(check_digit("893456700001"))
    assert location_identifier(gln, 3, BASE) == f"https://id.gs1.org/414/{gln}"
    assert parse_place_identifier(f"{BASE}/414/{gln}") == PlaceName(gln=gln)
    assert parse_place_identifier(f"urn:epc:id:sgln:{gln[:7]}.{gln[7:12]}.0") == PlaceName(gln)
    assert parse_place_identifier(f"urn:epc:id:sgln:{gln[:7]}.{gln[7:12]}.5") is None
    assert parse_place_identifier(location_identifier(None, 3, BASE)) == PlaceName(org_id=3)
    assert parse_place_identifier(f"https://id.gs1.org/417/{gln}") is None  # a party


def test_company_prefix_length_only_for_the_companys_gtins() -> None:
    assert company_prefix_length(GTIN, "8934567") == 7
    assert company_prefix_length(GTIN, "8934568") is None
    assert company_prefix_length(GTIN, None) is None
    assert company_prefix_length(GTIN, "89345") is None  # too short to be a prefix


@given(st.integers(1, 2), st.integers(1, 2**62 - 1))
def test_event_ids_carry_their_row_and_installation(source, row_id) -> None:
    value = event_id(source, row_id, BASE)
    assert parse_event_id(value, BASE) == (source, row_id)
    assert parse_event_id(value.upper().replace("URN:UUID:", "urn:uuid:"), BASE) == (source, row_id)
    assert parse_event_id(value, "http://other.example") is None


def test_stamp_for_identifier_against_the_database(settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, quantity=2)
    with sessions() as session:
        stamp = session.get(Stamp, run.codes[1])
        assert stamp is not None
        gtin = session.get(Product, run.product_id).gtin
        serial = serial_for(stamp.sequence)
        link = stamp_identifier(gtin, stamp.org_id, serial, BASE)
        spellings = [
            link,
            link.replace("https://id.gs1.org", settings.base_url),
            digital_link_to_sgtin(link, 8),
            stamp_identifier(None, stamp.org_id, serial, "http://anywhere"),
        ]
        assert [stamp_for_identifier(session, s) for s in spellings] == [run.codes[1]] * 4
        other_org = stamp_identifier(None, stamp.org_id + 1, serial, BASE)
        unissued = stamp_identifier(gtin, stamp.org_id, serial_for(stamp.sequence + 5), BASE)
        for uri in [*BAD_STAMPS, other_org, unissued]:
            assert stamp_for_identifier(session, uri) is None
        assert class_for_identifier(session, f"https://id.gs1.org/01/{gtin}") == (
            run.product_id,
            None,
        )
        lot = class_for_identifier(session, f"https://id.gs1.org/01/{gtin}/10/L001")
        assert lot is not None
        assert lot[0] == run.product_id
        assert class_for_identifier(session, f"https://id.gs1.org/01/{gtin}/10/L999") is None
        assert class_for_identifier(session, f"https://id.gs1.org/01/{GTIN}") is None
