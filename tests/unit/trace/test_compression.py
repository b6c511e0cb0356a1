"""Compressed Digital Links against published pairs and against properties of their own.

Vectors: the compress/decompress feature files of Solidsoft Reply's Gs1DigitalLinkLib (a port
of GS1's GS1DigitalLinkCompressionPrototype, github.com/Solidsoft-Reply/Gs1DigitalLinkLib,
Tests/Features/CompressGs1DigitalLink.feature, DecompressGs1DigitalLink.feature and
AdditionalUriContent.feature), and the example in GS1's announcement of compression in
Resolver CE v3.0 (github.com/gs1/GS1_DigitalLink_Resolver_CE/discussions/95). Pairs whose AIs
the platform does not read (410-413, 416, 7040) or whose values its parser refuses (8010 with
`#`) are left out.
"""

from __future__ import annotations

import contextlib
import string
from datetime import date
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.catalog.gtin import check_digit
from chinhhang.trace.compression import (
    InvalidCompressedLink,
    compress,
    decompress,
    looks_compressed,
)
from chinhhang.trace.digital_link import InvalidDigitalLink, parse

VECTORS = [
    ("/00/998440410914660971", "AN2yxDhfaiaw"),
    ("/01/05412345000013", "AQnYUc1gmg"),
    ("/01/05412345000013/10/ABC123", "AQnYUc1gmiCNV4JG"),
    ("/01/05412345000013/10/ABC123/21/72292641703", "AQnYUc1gmiCNV4JGQhcNT6K6c"),
    (
        "/01/05412345000013/22/AJY3095721P49/10/ABC123/21/72292641703",
        "AQnYUc1gmiCNV4JGQhcNT6K6cibQCWN9Pee9tT-PQ",
    ),
    ("/01/05412345000013/22/AJY3095721P49/10/ABC123", "AQnYUc1gmiCNV4JGRNoBLG-nvPe2p_Ho"),
    ("/01/05412345000013/235/8TFV883a904GH%263", "AQnYUc1gmkax7ipGrOHDPC5YNI8hMz"),
    ("/01/05412345000013/21/72292641703", "AQnYUc1gmkIXDU-iun"),
    ("/01/05412345000013/22/AJY3095721P49", "AQnYUc1gmkTaASxvp7z3tqfx6"),
    ("/253/3060077601309", "JTLIetaiHYA"),
    ("/255/5678409730535", "JVUqG5hJ5wA"),
    ("/401/0541234537290A41%26GHpp33", "QBl2DVoxZM2jVm3ZOWEFoxTR5HDgzZg"),
    ("/402/21173492661712079", "QCJZyW9mC6Z4"),
    ("/414/5060917510004", "QUSaVjC_dA"),
    ("/414/5060917510004/254/RP56J920471", "JUa0T-eifdtOO9UFEmlYwv3Q"),
    ("/415/5060917510004", "QVSaVjC_dA"),
    ("/417/5060917510004", "QXSaVjC_dA"),
    ("/8003/04965031954585", "gAMJCAXukTMA"),
    ("/8004/0541234537290A41%26GHpp33", "gASXYNWjFkzaNWbdk5YQWjFNHkcODNm"),
    ("/8006/054123450000130201", "gAYMBI_bNGwJk"),
    ("/8006/054123450000130201/10/ABC123", "EEarwSOABgwEj9s0bAmQ"),
    (
        "/8006/054123450000130201/22/AJY3095721P49/10/ABC123/21/72292641703",
        "EEarwSMhC4an0V05E2gEsb6e897an8ewAMGAkftmjYEy",
    ),
    ("/8006/054123450000130201/21/72292641703", "IQuGp9FdPAAwYCR-2aNgTI"),
    ("/8013/5060917511473062B98T", "gBN05060917511473062B98T"),
    ("/8017/817019610850151481/8019/4003812", "gBe1ajAd9ATDmAGXPRfk"),
    ("/8018/411369833821910265", "gBhbV6rzBENPk"),
    ("/01/05412345000013/10/ABC123?17=290331", "AQnYUc1gmiCNV4JGLo3DY"),
    (
        "/01/05412345000013/10/ABC123?17=290331&arv=true&donor=bmgf",
        "AQnYUc1gmiCNV4JGLo3Dfg2q72Etrue8K7RPRWwjc0D4",
    ),
    ("/01/05392000229648/10/LOT01/21/SERIAL01", "AQnO2IRCICDKWcnpqQtCQiJABemo"),  # Resolver CE
]
B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def segment(bits: str) -> str:
    """Bits → base64url, written independently of the module to build links by hand."""
    bits += "0" * (-len(bits) % 6)
    return "".join(B64[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def nibbles(ai: str) -> str:
    return "".join(f"{int(d):04b}" for d in ai)


GTIN_BITS = f"{5412345000013:047b}"  # 05412345000013 in 47 bits
LOT_BITS = "010" + f"{6:05b}" + "".join(f"{int(c, 16):04b}" for c in "ABC123")  # upper hex


@pytest.mark.parametrize(("path", "compressed"), VECTORS)
def test_published_pairs_compress_and_decompress_exactly(path: str, compressed: str) -> None:
    assert compress("https://id.gs1.org" + path) == compressed
    assert decompress(compressed) == path


def test_compress_takes_a_bare_path_drops_the_stem_and_pads_short_gtins() -> None:
    assert compress("/01/5412345000013") == "AQnYUc1gmg"
    assert compress("https://brand.example/dl/01/05412345000013#top") == "AQnYUc1gmg"


def test_optimisation_codes_and_any_element_order_read_as_the_canonical_link() -> None:
    optimised = segment("0000" + "1011" + GTIN_BITS + LOT_BITS)  # 0B = (01)(10)
    assert decompress(optimised) == "/01/05412345000013/10/ABC123"
    expiry_first = segment(nibbles("17") + f"{290331:020b}" + nibbles("01") + GTIN_BITS)
    assert decompress(expiry_first) == "/01/05412345000013?17=290331"


def test_leading_zeros_of_variable_length_numbers_survive() -> None:
    link = "/01/05412345000013/10/0012?30=007"
    assert decompress(compress(link)) == link


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "empty"),
        ("AQnYUc1g/mg", "not a base64url"),
        ("A" * 3000, "over 2048"),
        ("AQnYUc1gm", "ends inside"),
        ("AQnYUc1gmh", "padding"),
        ("QQSaVjC_dA", "(410) is not an Application Identifier"),
        (segment(nibbles("01") + f"{5412345000012:047b}"), "not in its format"),  # check digit
        (segment(nibbles("01") + GTIN_BITS + nibbles("01") + GTIN_BITS), "appears twice"),
        (segment(nibbles("17") + f"{290331:020b}"), "has none"),
        (segment("1011" + "0000" + GTIN_BITS), "optimisation code"),
        (segment(nibbles("10") + "101" + f"{1:05b}" + "0" * 8), "encoding indicator 5"),
    ],
)
def test_what_is_not_a_compressed_link_is_refused_with_the_reason(bad: str, reason: str) -> None:
    with pytest.raises(InvalidCompressedLink, match=reason.replace("(", r"\(").replace(")", r"\)")):
        decompress(bad)


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("/00/998440410914660971?401=ABC", "one primary key"),
        ("/01/05412345000013?235=X", "in the query"),  # would come back as a path qualifier
    ],
)
def test_links_without_a_faithful_compressed_form_are_refused(link: str, reason: str) -> None:
    with pytest.raises(InvalidCompressedLink, match=reason):
        compress(link)


def test_non_gs1_pairs_travel_inside_the_segment_or_are_refused() -> None:
    link = "/01/05412345000013?linkType=gs1%3Apip"
    assert decompress(compress(link)) == link
    with pytest.raises(InvalidCompressedLink, match="query key"):
        compress("/01/05412345000013?utm.source=x")
    with pytest.raises(InvalidCompressedLink, match="value of note"):
        compress("/01/05412345000013?note=h%C3%A0ng")
    with pytest.raises(InvalidDigitalLink):
        compress("/01/05412345000012")


def test_looks_compressed_is_a_charset_and_length_check() -> None:
    assert looks_compressed("AQnYUc1gmiCNV4JG")
    assert not looks_compressed("01")
    assert not looks_compressed("AQnY+c1g")
    assert not looks_compressed("A" * 2049)


@given(st.text() | st.text(B64, max_size=80))
def test_any_text_decompresses_or_is_refused(text: str) -> None:
    with contextlib.suppress(InvalidCompressedLink):
        decompress(text)


@given(st.sampled_from([c for _, c in VECTORS]), st.integers(0, 200), st.sampled_from(B64))
def test_damaged_vectors_decompress_to_valid_links_or_are_refused(
    compressed: str, at: int, char: str
) -> None:
    at %= len(compressed)
    for damaged in (compressed[:at] + char + compressed[at + 1 :], compressed[:at]):
        with contextlib.suppress(InvalidCompressedLink):
            parse("https://x.example" + decompress(damaged))


gtins = st.text(string.digits, min_size=13, max_size=13).map(lambda b: b + str(check_digit(b)))
values = st.text(CSET82, min_size=1, max_size=20)
# AIs 11 and 17 are dates (YYMMDD, or YYMM00 for a day left out); 3103 and 30 any digits.
gs1_dates = st.dates(date(2000, 1, 1), date(2049, 12, 31)).map(lambda d: d.strftime("%y%m%d"))
attributes = st.fixed_dictionaries(
    {},
    optional={
        "17": gs1_dates | gs1_dates.map(lambda d: d[:4] + "00"),
        "3103": st.text(string.digits, min_size=6, max_size=6),
        "11": gs1_dates,
        "30": st.text(string.digits, min_size=6, max_size=6),
    },
)


@given(gtins, st.none() | values, st.none() | values, attributes)
def test_round_trip_gives_the_canonical_uncompressed_link(
    gtin: str, lot: str | None, serial: str | None, attrs: dict[str, str]
) -> None:
    path = f"/01/{gtin}"
    path += f"/10/{quote(lot, safe='')}" if lot else ""
    path += f"/21/{quote(serial, safe='')}" if serial else ""
    query = "&".join(f"{ai}={value}" for ai, value in attrs.items())
    canonical = "&".join(f"{ai}={value}" for ai, value in sorted(attrs.items()))
    uri = "https://brand.example/dl" + path + (f"?{query}" if query else "")
    assert decompress(compress(uri)) == path + (f"?{canonical}" if canonical else "")
