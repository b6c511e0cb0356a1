"""The fuzzing layer (issue "[security]"): every parser that reads what a stranger sends, fed
input built to break it, must answer in its documented way and never otherwise.

SPEC section 9 says no input causes a 500. An exception a parser does not document escapes the
handlers that turn its errors into a 400 (web._install_error_pages maps DomainError, not
RecursionError or SyntaxError), so each target here has one rule: a valid result, or its own
error type:

- stamp codes (stamps/codes.py `normalise`, `verify`) → a canonical code, or InvalidCode;
  and the staff scanner's lines (stamps/services/scanned.py) → a verified code or None;
- GS1 Digital Link URIs (trace/digital_link.py `parse`) → a DigitalLink, or InvalidDigitalLink;
- EPCIS 2.0 documents (trace/epcis `validate_document`) → a document, or InvalidEpcisDocument;
- uploaded pictures (catalog/images.py `store_image`, alerts/photos.py `clean_photo`) → a new
  JPEG, or InvalidInput; never the upload's own bytes (polyglots, bombs).

The properties of well-formed input live beside each module (tests/unit/stamps/test_codes.py,
tests/unit/trace/test_digital_link.py, test_epcis_models.py, tests/unit/alerts/test_photos.py);
this file is the hostile half. **Bound**: every hypothesis test runs a fixed number of
examples (`bounded(n)`, n from 60 to 600), derandomized (the same examples on every run, so a
failure reproduces and CI time is fixed) and without the example database; the whole file
takes 20-30 s. To hunt, raise the numbers locally, or turn derandomize off for new examples.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import string
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from chinhhang.alerts.photos import clean_photo
from chinhhang.catalog.gtin import check_digit
from chinhhang.catalog.images import MAX_SIDE, store_image
from chinhhang.errors import InvalidInput
from chinhhang.stamps.codes import (
    ALPHABET,
    CODE_LENGTH,
    InvalidCode,
    Keyring,
    new_codes,
    normalise,
    verify,
)
from chinhhang.stamps.services.scanned import LineReader
from chinhhang.trace.digital_link import (
    AI_FORMATS,
    ALPHAS,
    PRIMARY_KEYS,
    DigitalLink,
    InvalidDigitalLink,
    parse,
)
from chinhhang.trace.epcis import InvalidEpcisDocument, validate_document, validate_event
from chinhhang.trace.epcis.models import MAX_DEPTH
from tests.unit.trace.test_epcis_models import EXAMPLE_NAMES, example

pytestmark = pytest.mark.slow


def bounded(examples: int) -> settings:
    """The fuzzing bound: a fixed number of examples, the same ones every run."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# Every character class hypothesis has: controls, surrogates excluded (not encodable), the
# astral planes, combining marks, and the look-alikes of Crockford's symbols (fullwidth
# digits, Cyrillic О).
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=120)
HUGE_TEXT = st.builds(
    lambda unit, n: unit * n, st.text(min_size=1, max_size=3), st.integers(0, 50_000)
)

# --- Stamp codes ---------------------------------------------------------------------------

KEYS = {0: b"k" * 32, 7: b"s" * 32}
KEYRING = Keyring(KEYS, current=7)
# Codes made once per run, under both keys, and drawn from: a code made inside a strategy
# would differ each time hypothesis replays an example (os.urandom), which it refuses as a
# flaky strategy once later draws depend on the code's characters.
CODE_POOL = [*new_codes(KEYRING, 32), *new_codes(Keyring(KEYS, current=0), 32)]
codes = st.sampled_from(CODE_POOL)
# What each symbol may also be written as (docs/codes.md, "Forgiving to read").
SAME_SYMBOL = {"0": "0Oo", "1": "1IiLl"}


def spellings(symbol: str) -> str:
    return SAME_SYMBOL.get(symbol, symbol + symbol.lower())


def code_text() -> st.SearchStrategy[str]:
    """Text that looks like a code: Crockford's alphabet and its confusables, separators,
    lower case, and now and then something else."""
    near = st.text(ALPHABET + "ILOUilou-_ .\t\n\u00a0", min_size=20, max_size=70)
    return st.one_of(near, ANY_TEXT, HUGE_TEXT)


@given(code_text())
@bounded(600)
def test_any_text_is_a_canonical_code_or_invalid_code(text: str) -> None:
    """`normalise` gives 24 symbols of the alphabet, read again unchanged, or InvalidCode;
    `verify` gives that same code, or InvalidCode (for text like this: the tag)."""
    try:
        code = normalise(text)
    except InvalidCode:
        with pytest.raises(InvalidCode):
            verify(KEYRING, text)
        return
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(ALPHABET)
    assert normalise(code) == code
    with contextlib.suppress(InvalidCode):
        assert verify(KEYRING, text) == code


def _mutations(code: str) -> st.SearchStrategy[str]:
    """One character of the code changed into anything that is not a spelling of it, one
    inserted, one deleted, or two different neighbours swapped."""
    position = st.integers(0, len(code) - 1)
    # ASCII's symbols and spaces half the time: a forgiving reader's next "harmless"
    # separator would come from there, and unicode at large rarely draws them.
    other = st.sampled_from(string.punctuation + string.whitespace + "UuZz") | st.characters(
        codec="utf-8"
    )
    replaced = (
        st.tuples(position, other)
        .filter(lambda p: p[1] not in spellings(code[p[0]]))
        .map(lambda p: code[: p[0]] + p[1] + code[p[0] + 1 :])
    )
    inserted = st.tuples(st.integers(0, len(code)), other.filter(lambda c: c not in "- ")).map(
        lambda p: code[: p[0]] + p[1] + code[p[0] :]
    )
    deleted = position.map(lambda i: code[:i] + code[i + 1 :])
    swapped = (
        st.integers(0, len(code) - 2)
        .filter(lambda i: code[i] != code[i + 1])
        .map(lambda i: code[:i] + code[i + 1] + code[i] + code[i + 2 :])
    )
    return st.one_of(replaced, inserted, deleted, swapped)


@given(codes.flatmap(lambda code: st.tuples(st.just(code), _mutations(code))))
@bounded(600)
def test_any_single_mutation_of_a_valid_code_is_refused(pair: tuple[str, str]) -> None:
    code, mutated = pair
    assert mutated != code
    with pytest.raises(InvalidCode):
        verify(KEYRING, mutated)


READER = LineReader(KEYRING, "https://chinhhang.vn/tt")


def scanned_line() -> st.SearchStrategy[str]:
    """What a camera or a handheld scanner can hand the staff scanner: addresses built from
    real and broken parts around real, damaged or random codes, and plain garbage."""
    scheme = st.sampled_from(["https://", "HTTPS://", "http://", "", "https:/", "ftp://"])
    host = st.sampled_from(
        ["chinhhang.vn", "CHINHHANG.VN", "chinhhang.vn:443", "[::1", "[::1]", "xn--c.vn", "ｃｈ.vn"]
    )
    prefix = st.sampled_from(["/tt", "/TT", "", "/tt/x", "//tt"])
    route = st.sampled_from(["/v/", "/V/", "/v//", "/p/", "/"])
    payload = st.one_of(codes, codes.flatmap(_mutations), ANY_TEXT)
    tail = st.sampled_from(["", "/", "?lang=en", "#x", "/extra", "\r"])
    url = st.builds(lambda *parts: "".join(parts), scheme, host, prefix, route, payload, tail)
    return st.one_of(url, ANY_TEXT, HUGE_TEXT)


@given(scanned_line())
@bounded(500)
def test_a_scanned_line_gives_a_verified_code_or_nothing(line: str) -> None:
    code = READER.code_of(line)
    assert code is None or verify(KEYRING, code) == code
    shown = READER.shown(line)
    assert isinstance(shown, str)
    assert len(shown) <= 80


@given(st.lists(scanned_line(), max_size=30).map("\n".join) | ANY_TEXT)
@bounded(300)
def test_a_scanned_list_is_read_or_refused_with_invalid_input(text: str) -> None:
    try:
        found, rejected = READER.read_lines(text)
    except InvalidInput:
        return
    assert all(verify(KEYRING, code) == code for code in found)
    assert len(found) == len(set(found))
    assert len(found) + len(rejected) <= len(text.splitlines())


# --- GS1 Digital Link ----------------------------------------------------------------------


def _gtin(body: str) -> str:
    return body + str(check_digit(body))


GTINS = st.one_of(
    *(st.text("0123456789", min_size=n - 1, max_size=n - 1).map(_gtin) for n in (8, 12, 13, 14))
)
AI_LIKE = st.one_of(
    st.sampled_from(sorted({*PRIMARY_KEYS, *AI_FORMATS, *ALPHAS})),
    st.sampled_from(["", "0", "1", "001", "999", "01 ", "０１", "٠١", "GTIN", "01%2F"]),
    st.from_regex(r"[0-9]{1,5}", fullmatch=True),
)
PERCENT_BYTES = st.binary(max_size=12).map(lambda raw: "".join(f"%{b:02X}" for b in raw))
VALUES = st.one_of(
    GTINS,
    st.from_regex(r"[0-9]{1,20}", fullmatch=True),
    st.text("!\"%&'()*+,-./0123456789:;<=>?ABCXYZ_abcxyz", max_size=32),
    PERCENT_BYTES,
    ANY_TEXT,
    st.sampled_from(["%", "%2", "%ZZ", "%00", "%2F", "..", "261231", "260200", "251301"]),
)


def _with_check_digit(digits: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=digits - 1, max_size=digits - 1).map(_gtin)


CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
GS1_TEXT = st.text(CSET82, min_size=1, max_size=20).map(lambda text: quote(text, safe=""))
# A primary key and what may follow it in the path, each value in its format.
KEYED_PATHS = st.one_of(
    st.builds(
        lambda gtin, lot, serial: f"/01/{gtin}" + (f"/10/{lot}" if lot else "")
        + (f"/21/{serial}" if serial else ""),
        GTINS, st.none() | GS1_TEXT, st.none() | GS1_TEXT,
    ),
    _with_check_digit(18).map("/00/{}".format),
    st.builds("/414/{}/254/{}".format, _with_check_digit(13), GS1_TEXT),
    st.builds("/253/{}{}".format, _with_check_digit(13), st.text("0123456789ABCXYZ", max_size=17)),
    GS1_TEXT.map("/8004/{}".format),
)  # fmt: skip
SIX_DIGITS = st.from_regex(r"[0-9]{6}", fullmatch=True)
ATTRIBUTES = st.lists(
    st.one_of(
        st.dates().map(lambda day: day.strftime("17=%y%m%d")),
        # Any six digits after a date AI: months 00 and 13-99, day 32, 29 February …
        st.builds("{}={}".format, st.sampled_from(["11", "13", "15", "17"]), SIX_DIGITS),
        st.from_regex(r"3103=[0-9]{6}", fullmatch=True),
        st.sampled_from(["linkType=gs1:pip", "linkType=all", "context=vn", "x=%20"]),
    ),
    max_size=3,
    unique=True,
).map(lambda items: "?" + "&".join(items) if items else "")


def well_formed_link() -> st.SearchStrategy[str]:
    """A Digital Link as a resolver meets it: host, optional stem, a key with its
    qualifiers, optional data attributes."""
    host = st.sampled_from(["https://id.gs1.org", "HTTPS://CHINHHANG.VN", "http://[::1]:8000"])
    stem = st.sampled_from(["", "/stem", "/a/b"])
    return st.builds(lambda *parts: "".join(parts), host, stem, KEYED_PATHS, ATTRIBUTES)


@st.composite
def damaged_link(draw: st.DrawFn) -> str:
    """A well-formed link with one thing wrong: a character changed, dropped or added, text
    dropped in, or two path segments swapped."""
    link = draw(well_formed_link())
    how = draw(st.sampled_from(["change", "drop", "insert", "swap"]))
    at = draw(st.integers(0, len(link) - 1))
    if how == "change":
        return link[:at] + draw(st.characters(codec="utf-8")) + link[at + 1 :]
    if how == "drop":
        return link[:at] + link[at + 1 :]
    if how == "insert":
        return link[:at] + draw(ANY_TEXT) + link[at:]
    head, _, path = link.partition("://")
    segments = path.split("/")
    i, j = draw(st.integers(0, len(segments) - 1)), draw(st.integers(0, len(segments) - 1))
    segments[i], segments[j] = segments[j], segments[i]
    return f"{head}://{'/'.join(segments)}"


def digital_link() -> st.SearchStrategy[str]:
    """Well-formed links, each damaged in one place, and URIs put together from the
    grammar's pieces at random (scheme, host, stem, AI and value pairs, query, fragment)."""
    scheme = st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "", "https:/"])
    host = st.one_of(
        st.sampled_from(["id.gs1.org", "example.vn:8443", "[::1]", "[::1", "a", "", "a..b", "a b"]),
        st.text(max_size=12),
    )
    stem = st.sampled_from(["", "/stem", "/a/b", "/", "//", "/01"])
    pair = st.tuples(AI_LIKE, VALUES).map(lambda p: f"/{p[0]}/{p[1]}")
    path = st.lists(pair, max_size=5).map("".join)
    query_key = st.one_of(AI_LIKE, st.sampled_from(["linkType", "context", "", "="]))
    query = st.lists(st.tuples(query_key, VALUES).map("=".join), max_size=4).map(
        lambda items: "?" + "&".join(items) if items else ""
    )
    fragment = st.sampled_from(["", "#", "#frag", "#?17=261231"])
    assembled = st.builds(lambda *parts: "".join(parts), scheme, host, stem, path, query, fragment)
    return st.one_of(well_formed_link(), damaged_link(), assembled)


def _checked(link: DigitalLink) -> None:
    """What an accepted link guarantees: every value in its AI's format, a GTIN of 14
    digits, an element string, and a canonical path that parses back to the same keys."""
    for ai, value in link.elements:
        assert AI_FORMATS[ai].accepts(value), (ai, value)
    assert link.primary[0] in PRIMARY_KEYS
    if link.gtin is not None:
        assert len(link.gtin) == 14
        assert link.gtin.isdigit()
    assert link.element_string().startswith("^")
    again = parse(f"https://example.vn{link.canonical_path()}")
    assert (again.primary, again.qualifiers) == (link.primary, link.qualifiers)


@given(digital_link())
@bounded(600)
def test_any_uri_is_a_checked_digital_link_or_invalid_digital_link(uri: str) -> None:
    try:
        link = parse(uri)
    except InvalidDigitalLink as error:
        refused = error
    else:
        _checked(link)
        return
    assert str(refused)  # the technical reason, for logs
    assert isinstance(refused.message, str)
    assert refused.message  # the catalogue message a person reads


def test_a_long_host_that_almost_matches_is_refused_at_once() -> None:
    """The host pattern used to try every way of splitting a run of letters into labels:
    `https://` and 26 letters and a "!" took 4 s, 30 letters a minute, each letter doubling
    it; an EPCIS document naming such an EPC held a capture worker that long (EPC lists are
    read with this parser, trace/epcis/identifiers.py). With 40 letters the old pattern would
    run for hours: the bound below is not a timing, it is "finishes at all"."""
    program = (
        "from chinhhang.trace.digital_link import InvalidDigitalLink, parse\n"
        "for host in ('a' * 40 + '!', 'a1-' * 10_000 + '!'):\n"
        "    try:\n"
        "        parse(f'https://{host}/01/09506000134352')\n"
        "    except InvalidDigitalLink as error:\n"
        "        assert 'host' in str(error), error\n"
        "    else:\n"
        "        raise AssertionError('accepted')\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True, timeout=120)


# --- EPCIS 2.0 documents -------------------------------------------------------------------

EPCIS_KEYS = [
    "@context", "type", "schemaVersion", "creationDate", "epcisBody", "eventList", "eventID",
    "eventTime", "eventTimeZoneOffset", "action", "epcList", "bizStep", "disposition",
    "readPoint", "bizLocation", "id", "quantityList", "epcClass", "quantity", "uom",
    "parentID", "childEPCs", "sensorElementList", "sensorReport", "errorDeclaration",
    "example:myField", "bizTransactionList", "sourceList", "destinationList",
]  # fmt: skip
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    ANY_TEXT,
    st.sampled_from(["ObjectEvent", "EPCISDocument", "2.0", "ADD", "2005-04-03T20:33:31+01:00"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(EPCIS_KEYS) | st.text(max_size=8), inner, max_size=5),
    ),
    max_leaves=25,
)


def _accepted_or_refused(document: object) -> None:
    """A document, which dumps and validates back to itself; or InvalidEpcisDocument with
    at least one message naming where."""
    try:
        parsed = validate_document(document)
    except InvalidEpcisDocument as error:
        messages = error.messages
    else:
        dumped = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert validate_document(json.dumps(dumped)) == parsed
        return
    assert messages
    assert all(isinstance(message, str) and message for message in messages)


@given(JSON_VALUES)
@bounded(400)
def test_any_json_value_is_a_document_or_invalid_epcis_document(value: object) -> None:
    _accepted_or_refused(value)
    _accepted_or_refused(json.dumps(value))
    with contextlib.suppress(InvalidEpcisDocument):
        validate_event(value)


Where = tuple[str | int, ...]


def _paths(node: object, here: Where = ()) -> list[Where]:
    """Every place in a JSON value, the root included."""
    found = [here]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*here, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*here, index))
    return found


def _at(document: Any, path: Where) -> Any:
    for part in path:
        document = document[part]
    return document


def _deep(depth: int) -> object:
    nested: object = "bottom"
    for _ in range(depth):
        nested = [nested]
    return nested


def _drop(parent: Any, key: Any, _data: st.DataObject) -> None:
    del parent[key]


def _retype(parent: Any, key: Any, data: st.DataObject) -> None:
    parent[key] = data.draw(JSON_VALUES, label="new value")


def _huge(parent: Any, key: Any, data: st.DataObject) -> None:
    parent[key] = data.draw(st.sampled_from("x9:/%é")) * data.draw(st.integers(1, 200_000))


def _nest(parent: Any, key: Any, data: st.DataObject) -> None:
    parent[key] = _deep(data.draw(st.integers(1, 3_000)))


def _repeat(parent: Any, key: Any, data: st.DataObject) -> None:
    parent[key] = [copy.deepcopy(parent[key])] * data.draw(st.integers(0, 50))


def _empty(parent: Any, key: Any, data: st.DataObject) -> None:
    parent[key] = data.draw(st.sampled_from(["", [], {}, None, 0, -1, 1e308]))


Mutation = Callable[[Any, Any, st.DataObject], None]
MUTATIONS: dict[str, Mutation] = {
    "drop a key": _drop,
    "change the type": _retype,
    "huge string": _huge,
    "deep nesting": _nest,
    "repeat": _repeat,
    "empty": _empty,
}


@given(st.sampled_from(EXAMPLE_NAMES), st.sampled_from(sorted(MUTATIONS)), st.data())
@bounded(500)
def test_a_mutated_standard_example_is_a_document_or_invalid_epcis_document(
    name: str, kind: str, data: st.DataObject
) -> None:
    document = example(name)
    places = [path for path in _paths(document) if path]  # not the root itself
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if not places:
            break
        path = data.draw(st.sampled_from(places), label="where")
        try:
            parent = _at(document, path[:-1])
            MUTATIONS[kind](parent, path[-1], data)
        except (KeyError, IndexError, TypeError):  # an earlier mutation removed the place
            continue
    _accepted_or_refused(document)


@given(st.integers(2_000, 200_000), st.sampled_from(["[", '{"a":', '{"@context":[']))
@bounded(60)
def test_json_text_nested_beyond_the_stack_is_invalid_epcis_document(
    depth: int, opener: str
) -> None:
    """The JSON parser recurses: past the interpreter's limit it raises RecursionError, which
    must come out as InvalidEpcisDocument like any other unreadable text."""
    closer = {"[": "]", '{"a":': "}", '{"@context":[': "]}"}[opener]
    text = opener * depth + "1" + closer * depth
    with pytest.raises(InvalidEpcisDocument):
        validate_document(text)
    with pytest.raises(InvalidEpcisDocument):
        validate_event(text)


def _nested_in(name: str, depth: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The example, and its first event alone, each with an extension field that makes it
    exactly `depth` levels deep (lists in the event, itself in a list in epcisBody)."""
    document = example(name)
    event = document["epcisBody"]["eventList"][0]
    alone = {"@context": document["@context"], **copy.deepcopy(event)}  # captured on its own
    event["example:deep"] = _deep(depth - 4)  # document, epcisBody, eventList, the event
    alone["example:deep"] = _deep(depth - 1)
    return document, alone


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 900])
def test_an_extension_nested_past_the_limit_is_refused_not_a_crash(depth: int) -> None:
    """Between ~255 and ~990 levels the value was accepted, then capture's model_dump failed
    ("Maximum serialization depth exceeded") and POST /epcis/capture answered 500."""
    document, event = _nested_in("Example_9.6.1-ObjectEvent.jsonld", depth)
    for validate, value in ((validate_document, document), (validate_event, event)):
        with pytest.raises(InvalidEpcisDocument, match="nested too deeply"):
            validate(value)
        with pytest.raises(InvalidEpcisDocument, match="nested too deeply"):
            validate(json.dumps(value))


def test_an_extension_nested_up_to_the_limit_is_kept_and_written_back() -> None:
    document, event = _nested_in("Example_9.6.1-ObjectEvent.jsonld", MAX_DEPTH)
    _accepted_or_refused(document)
    validate_document(document)  # accepted, not refused
    assert validate_event(event).model_dump(mode="json", by_alias=True)["example:deep"]


# --- Uploaded pictures ---------------------------------------------------------------------


def picture(kind: str, size: tuple[int, int] = (40, 20), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red").save(out, kind)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG of a few dozen bytes whose header claims width × height pixels: a bomb
    (decoded, 50000 × 50000 RGB would be 7.5 GB)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


SCRIPT = b"<script>alert(document.cookie)</script>"
HTML = b"<!doctype html><html><body onload=alert(1)>" + SCRIPT + b"</body></html>"
# A GIF whose header is also the start of a JavaScript comment: served as script, it runs.
GIF_JS = b"GIF89a/*" + picture("GIF")[8:] + b"*/=1;alert(document.domain);//"


def stored_product_image(data: bytes, media: Path) -> bytes:
    """The catalog's upload check: the stored file's bytes (InvalidInput when refused)."""
    return (media / store_image(data, media, "products")).read_bytes()


UPLOADS: dict[str, Callable[[bytes, Path], bytes]] = {
    "product image": stored_product_image,
    "shopper's photo": lambda data, _media: clean_photo(data),
}


def assert_plain_jpeg(stored: bytes, *payloads: bytes) -> None:
    """A new JPEG, decodable, none of the upload's extra bytes in it."""
    assert stored.startswith(b"\xff\xd8\xff")
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        image.load()
        assert max(image.size) <= MAX_SIDE
    for payload in payloads:
        assert payload not in stored
    assert b"<script" not in stored.lower()


@pytest.mark.parametrize(
    ("size", "said"),
    [
        ((50_000, 50_000), "too many pixels"),  # Pillow's own limit refuses it
        ((10_000, 10_000), "too many pixels"),  # between Pillow's warning and its error
        ((8_000, 8_000), "too many pixels"),  # under Pillow's limit, over ours
    ],
)
def test_a_product_image_bomb_is_refused_from_its_header(
    tmp_path: Path, size: tuple[int, int], said: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        store_image(png_claiming(*size), tmp_path, "products")
    assert said in refused.value.message
    assert not list(tmp_path.rglob("*.jpg"))


@pytest.mark.parametrize(
    "data",
    [
        picture("PNG", (300, 200))[:200],
        picture("JPEG", (300, 200))[:-40],
        picture("WEBP", (300, 200))[:60],
        picture("PNG", (300, 200))[:35] + b"\x00" + picture("PNG", (300, 200))[36:],
        picture("PNG")[:8] + b"\x00" * 64,
    ],
    ids=["png-cut", "jpeg-cut", "webp-cut", "png-bad-chunk-length", "png-garbage"],
)
def test_a_damaged_product_image_is_refused(tmp_path: Path, data: bytes) -> None:
    """A broken chunk length made Pillow raise SyntaxError, which escaped as a 500."""
    with pytest.raises(InvalidInput):
        store_image(data, tmp_path, "products")
    assert not list(tmp_path.rglob("*.jpg"))


@pytest.mark.parametrize("upload", sorted(UPLOADS))
@pytest.mark.parametrize(
    ("carrier", "payload"),
    [
        ("PNG", HTML),
        ("JPEG", HTML),
        ("WEBP", SCRIPT),
        ("PNG", b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n%%EOF"),
    ],
    ids=["png+html", "jpeg+html", "webp+script", "png+pdf"],
)
def test_a_polyglot_picture_is_stored_as_a_mere_picture(
    tmp_path: Path, upload: str, carrier: str, payload: bytes
) -> None:
    """A picture that is also a page (or a PDF) stays a picture: the upload is re-encoded,
    and nothing after the picture's end, nor the bytes of the page, reaches the file."""
    stored = UPLOADS[upload](picture(carrier) + payload, tmp_path)
    assert_plain_jpeg(stored, payload, SCRIPT)


@pytest.mark.parametrize("upload", sorted(UPLOADS))
def test_a_script_hidden_in_a_png_text_chunk_is_dropped(tmp_path: Path, upload: str) -> None:
    from PIL.PngImagePlugin import PngInfo  # noqa: PLC0415 - only this test writes chunks

    info = PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    out = io.BytesIO()
    Image.new("RGBA", (30, 30), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info)
    assert SCRIPT in out.getvalue()
    assert_plain_jpeg(UPLOADS[upload](out.getvalue(), tmp_path), SCRIPT)


@pytest.mark.parametrize("upload", sorted(UPLOADS))
def test_a_gif_javascript_polyglot_is_refused(tmp_path: Path, upload: str) -> None:
    with Image.open(io.BytesIO(GIF_JS)) as gif:  # a real GIF to an image reader
        assert gif.format == "GIF"
    with pytest.raises(InvalidInput) as refused:
        UPLOADS[upload](GIF_JS, tmp_path)
    assert "JPEG, PNG or WebP" in refused.value.message
    assert not list(tmp_path.rglob("*.jpg"))


STARTS = [
    picture("JPEG", (64, 48)),
    picture("PNG", (64, 48)),
    picture("WEBP", (64, 48)),
    picture("PNG", (64, 48), "RGBA"),
    picture("PNG", (64, 48), "P"),
]


def _length_fields(picture: bytes) -> list[tuple[int, int]]:
    """(offset, width in bytes) of every length field a decoder trusts: each PNG chunk's,
    each JPEG segment's up to the image data, the RIFF container's and its first chunk's."""
    if picture.startswith(b"\x89PNG"):
        fields, at = [], 8
        while at + 8 <= len(picture):
            fields.append((at, 4))
            at += 12 + int.from_bytes(picture[at : at + 4], "big")
        return fields
    if picture.startswith(b"\xff\xd8"):
        fields, at = [], 2
        while at + 4 <= len(picture) and picture[at] == 0xFF and picture[at + 1] != 0xDA:
            fields.append((at + 2, 2))
            at += 2 + int.from_bytes(picture[at + 2 : at + 4], "big")
        return fields
    return [(4, 4), (16, 4)]  # RIFF size, the VP8 chunk's size


def _damaged(start: bytes, data: st.DataObject) -> bytes:
    """The picture with a length field rewritten, one byte changed, cut short, or followed
    by random bytes; or random bytes alone."""
    how = data.draw(st.sampled_from(["length", "byte", "cut", "tail", "random"]), label="damage")
    if how == "length":
        at, width = data.draw(st.sampled_from(_length_fields(start)), label="field")
        true = int.from_bytes(start[at : at + width], "big")
        # Near the true length half the time (a chunk read short or long by a little is
        # what confuses a decoder), anything the field can hold otherwise.
        value = data.draw(st.integers(0, 2 * true) | st.integers(0, 256**width - 1), label="n")
        return start[:at] + value.to_bytes(width, "big") + start[at + width :]
    if how == "byte":
        at = data.draw(st.integers(0, len(start) - 1), label="at")
        return start[:at] + bytes([data.draw(st.integers(0, 255), label="byte")]) + start[at + 1 :]
    if how == "cut":
        return start[: data.draw(st.integers(0, len(start) - 1), label="cut")]
    if how == "tail":
        return start[: len(start) // 2] + data.draw(st.binary(max_size=200), label="tail")
    return data.draw(st.binary(max_size=400), label="random")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the whole fuzz run: hypothesis runs many examples per test call."""
    return tmp_path_factory.mktemp("fuzz-uploads")


@given(st.sampled_from(STARTS), st.sampled_from(sorted(UPLOADS)), st.data())
@bounded(600)
def test_damaged_or_random_bytes_give_a_plain_jpeg_or_invalid_input(
    media: Path, start: bytes, upload: str, data: st.DataObject
) -> None:
    try:
        stored = UPLOADS[upload](_damaged(start, data), media)
    except InvalidInput:
        return
    assert_plain_jpeg(stored)
