"""The Digital Link parser against the GS1 syntax engine's own parse cases, read from
../shared/standards (never copied here), and against properties of its own."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.catalog.gtin import check_digit
from chinhhang.trace.digital_link import InvalidDigitalLink, full_year, is_gs1_date, parse
from tests.conftest import IN_CI

# ../shared beside the repository (or CHINHHANG_SHARED); a clone elsewhere finds the workplace's.
_PLACES = [os.environ.get("CHINHHANG_SHARED"), Path(__file__).parents[3].parent / "shared"]
SHARED = next(
    (Path(p) for p in [*_PLACES, "/work/shared"] if p and Path(p, "standards").is_dir()),
    Path("../shared"),
)
VECTORS = SHARED / "standards" / "digital-link" / "parse-vectors.json"


def vectors() -> list[tuple[str, bool, str]]:
    """(uri, valid, element string) for every URI on which the file agrees with itself. A few
    URIs appear twice with opposite answers: the engine's tests run them under different
    options (convenience alphas, zero-suppressed GTINs, unknown AIs); either answer is the
    standard's, so those are left out."""
    if not VECTORS.is_file():
        message = f"the GS1 parse cases are not at {VECTORS} (set CHINHHANG_SHARED)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    cases = json.loads(VECTORS.read_text())["cases"]
    by_uri: dict[str, list[dict[str, object]]] = defaultdict(list)
    for case in cases:
        by_uri[str(case["uri"])].append(case)
    agreed = [same[0] for same in by_uri.values() if len({c["valid"] for c in same}) == 1]
    return [(str(c["uri"]), bool(c["valid"]), str(c["element_string"])) for c in agreed]


def test_every_gs1_parse_case_is_accepted_or_refused_as_the_file_says() -> None:
    cases = vectors()
    assert len(cases) > 100
    wrong = []
    for uri, valid, element_string in cases:
        try:
            got = parse(uri).element_string()
        except InvalidDigitalLink:
            got = None
        if (got is not None) != valid or (valid and got != element_string):
            wrong.append((uri, valid, element_string, got))
    assert wrong == []


def gtin14(body: str) -> str:
    return body + str(check_digit(body))


@given(
    body=st.text("0123456789", min_size=13, max_size=13),
    lot=st.text("ABCXYZabc0123456789-./", min_size=1, max_size=20),
    serial=st.text("0123456789ABCDEF", min_size=1, max_size=20),
)
def test_what_a_resolver_is_asked_parses_back_to_its_parts(
    body: str, lot: str, serial: str
) -> None:
    gtin = gtin14(body)
    path = f"/01/{gtin}/10/{quote(lot, safe='')}/21/{serial}"
    link = parse(f"https://example.vn{path}?17=261231&linkType=gs1:pip")
    assert link.gtin == gtin
    assert link.value("10") == lot
    assert link.value("21") == serial
    assert link.value("17") == "261231"
    assert link.extra == (("linkType", "gs1:pip"),)
    path_only = parse(f"https://example.vn{link.canonical_path()}")
    assert path_only.elements == (link.primary, *link.qualifiers)


@given(st.text(min_size=0, max_size=60))
def test_anything_else_is_refused_with_a_reason_not_a_crash(text: str) -> None:
    try:
        said = parse(f"https://a/01/{text}").element_string()
    except InvalidDigitalLink as error:
        said = str(error)
    assert said


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("https://a/01/12312312312334", "not in its format"),  # check digit
        ("https://a/01/12312312312333/21/X/10/Y", "not allowed"),  # qualifier order
        ("https://a/01/12312312312333?17=261231&17=261231", "twice"),
        ("https://a/01/12312312312333?10=L1", "belongs in the path"),
        ("https://a/01/12312312312333?999=x", "not a GS1 Application Identifier"),
        ("https://a/p/12", "no GS1 primary key"),
        ("ftp://a/01/12312312312333", "http"),
    ],
)
def test_refusals_say_why(uri: str, reason: str) -> None:
    with pytest.raises(InvalidDigitalLink, match=reason):
        parse(uri)


def test_short_gtins_are_padded_to_fourteen_digits() -> None:
    assert parse("https://a/01/9520123456788").gtin == "09520123456788"
    assert parse("https://a/01/02345673").gtin == "00000002345673"


def test_every_key_qualifier_has_a_format() -> None:
    # 7040 was a qualifier of 414 and 417 without a format: parsing it raised KeyError.
    link = parse("https://example.com/414/9520123456788/7040/1ABC")
    assert link.element_string() == "^414952012345678870401ABC"
    with pytest.raises(InvalidDigitalLink):
        parse("https://example.com/414/9520123456788/7040/ABCD")


def test_component_identifiers_take_their_own_character_set() -> None:
    # AI 8010 is written in GS1's character set 39, which has "#" and no lower case.
    assert parse("https://example.com/8010/ABC%23-12/8011/123").value("8010") == "ABC#-12"
    with pytest.raises(InvalidDigitalLink):
        parse("https://example.com/8010/abc")


def test_a_key_without_its_value_is_named() -> None:
    # `/01/{gtin}/10` was answered "names no GS1 key" although the key is there.
    with pytest.raises(InvalidDigitalLink) as refused:
        parse("https://example.com/01/09520123456788/10")
    assert refused.value.values == {"ai": "10"}
    assert str(refused.value) == "AI (10) has no value"


@pytest.mark.parametrize("ai", ["11", "12", "13", "15", "16", "17"])
def test_date_attributes_are_real_days_or_a_month(ai: str) -> None:
    # "N6,yymmd0" in the GS1 Barcode Syntax Dictionary, for all six date AIs.
    for value in ("261231", "261200", "280229", "260430"):
        assert parse(f"https://a/01/12312312312333?{ai}={value}").value(ai) == value
    for value in ("999999", "261300", "260031", "261232", "270229", "260431"):
        with pytest.raises(InvalidDigitalLink, match="not in its format") as refused:
            parse(f"https://a/01/12312312312333?{ai}={value}")
        assert refused.value.values == {"ai": ai}


def test_the_century_of_a_two_digit_year_is_the_nearest() -> None:
    # GS1 General Specifications 7.12: from 51 years ahead back, up to 50 years behind forward.
    assert [full_year(yy, 2026) for yy in (26, 76, 77, 0, 99)] == [2026, 2076, 1977, 2000, 1999]
    assert full_year(0, 2050) == 2100
    assert is_gs1_date("000229", this_year=2026)  # 2000 was a leap year
    assert not is_gs1_date("000229", this_year=2060)  # 2100 will not be
