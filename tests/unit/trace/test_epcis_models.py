"""The EPCIS 2.0 models against the official EPCIS JSON schema and the standard's examples, both
read from ../shared/standards/epcis (never copied here).

The schema is run in two ways. `SCHEMA` asserts its formats (`uri` by RFC 3986, `date-time` by
RFC 3339): that is the reference the models must agree with, because without format assertion
the schema's own rules "extension keys are URIs", "eventTime has a time zone" and "a bizStep
is a CBV word or a URI" accept anything. The one liberty taken: a JSON-LD blank node (`_:doc1`)
passes as a URI, as the standard's examples use one for every document's `id`. `LAX_SCHEMA`
asserts no formats (draft 7's default) and only documents which refusals need them.

Where the standard says more than the schema can (EPC URI syntax, CBV words in the CBV's own
namespaces, declared prefixes, …) the models are stricter; those cases are listed apart and the
schema is shown to accept them. Where the models are more lenient (CBV URNs, normalised to
words), the normalised output is shown to be valid.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft7Validator, FormatChecker
from rfc3339_validator import validate_rfc3339
from rfc3986_validator import validate_rfc3986

from chinhhang.catalog.gtin import check_digit
from chinhhang.trace.digital_link import parse as parse_digital_link
from chinhhang.trace.epcis import (
    InvalidEpcisDocument,
    ObjectEvent,
    TransactionEvent,
    cbv,
    validate_document,
    validate_event,
)
from chinhhang.trace.epcis.identifiers import (
    InvalidIdentifier,
    Level,
    check_identifier,
    digital_link_to_lgtin,
    digital_link_to_sgtin,
    identifier_level,
    lgtin_to_digital_link,
    lgtin_uri,
    parse_epc_uri,
    sgtin_to_digital_link,
    sgtin_uri,
)
from tests.conftest import IN_CI

# ../shared beside the repository (or CHINHHANG_SHARED); a clone elsewhere finds the workplace's.
_PLACES = [os.environ.get("CHINHHANG_SHARED"), Path(__file__).parents[3].parent / "shared"]
SHARED = next(
    (Path(p) for p in [*_PLACES, "/work/shared"] if p and Path(p, "standards").is_dir()),
    Path("../shared"),
)
EPCIS = SHARED / "standards" / "epcis"
EXAMPLES = EPCIS / "examples"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.glob("*.jsonld")) if EXAMPLES.is_dir() else []

OBJECT = "Example_9.6.1-ObjectEvent.jsonld"
QUANTITY = "Example_9.6.2-ObjectEvent.jsonld"
AGGREGATION = "Example_9.6.3-AggregationEvent.jsonld"
TRANSFORMATION = "Example_9.6.4-TransformationEvent.jsonld"
ASSOCIATION = "AssociationEvent__AssociationEvent-f.jsonld"
PLAIN = "AssociationEvent__AssociationEvent-a.jsonld"  # no extension fields
ERROR_DECLARATION = "AssociationEvent__AssociationEvent-g.jsonld"
TRANSACTION = "Example-TransactionEvents-2020_07_03y.jsonld"
PERSISTENT = "PersistentDisposition-example.jsonld"
# Two of the standard's own examples break its schema; the models refuse them at the same
# places (see test_the_two_broken_examples_are_refused_where_the_schema_refuses_them).
REFUSED_EXAMPLES = {TRANSACTION, PERSISTENT}


def _missing(what: Path) -> None:
    message = f"the EPCIS standard files are not at {what} (set CHINHHANG_SHARED)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@cache
def _example_text(name: str) -> str:
    path = EXAMPLES / name
    if not path.is_file():
        _missing(path)
    return path.read_text()


def example(name: str) -> dict[str, Any]:
    """A fresh copy of one of the standard's example documents."""
    document: dict[str, Any] = json.loads(_example_text(name))
    return document


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("uri")
    def uri(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        return instance.startswith("_:") or bool(validate_rfc3986(instance, rule="URI"))

    @checker.checks("date-time")
    def date_time(instance: object) -> bool:
        return not isinstance(instance, str) or bool(validate_rfc3339(instance))

    return checker


@cache
def _validators() -> tuple[Draft7Validator, Draft7Validator]:
    path = EPCIS / "EPCIS-JSON-Schema.json"
    if not path.is_file():
        _missing(path)
    schema = json.loads(path.read_text())
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=_format_checker()), Draft7Validator(schema)


def schema_errors(document: object, *, formats: bool = True) -> list[str]:
    """The schema's complaints, each as `path: message` in the models' path style."""
    validator = _validators()[0 if formats else 1]
    out = []
    for error in validator.iter_errors(document):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        out.append(f"{path.lstrip('.') or '(document)'}: {error.message}")
    return out


def model_errors(document: object) -> list[str]:
    try:
        validate_document(document)
    except InvalidEpcisDocument as exc:
        return exc.messages
    return []


_EVENT_PATH = re.compile(r"epcisBody\.eventList\[\d+\]")


def anchors(messages: list[str]) -> set[str]:
    """Where faults are, at the grain both sides can name: the event, or else the document.
    (The schema names the object for a missing key or an anyOf it fails; the models name the
    field.)"""
    found = set()
    for message in messages:
        match = _EVENT_PATH.match(message)
        found.add(match.group() if match else "(document)")
    return found


def assert_both_refuse(document: dict[str, Any]) -> None:
    by_models, by_schema = model_errors(document), schema_errors(document)
    assert by_models, "the models accept it"
    assert by_schema, "the schema accepts it"
    assert anchors(by_models) == anchors(by_schema), (by_models, by_schema)


# --- (a) The standard's examples --------------------------------------------------------------


def test_the_standard_files_are_there() -> None:
    if len(EXAMPLE_NAMES) < 20:
        _missing(EXAMPLES)
    _validators()


@pytest.mark.parametrize("name", sorted(set(EXAMPLE_NAMES) - REFUSED_EXAMPLES))
def test_every_example_is_valid_for_the_models_and_the_schema(name: str) -> None:
    document = example(name)
    assert schema_errors(document) == []
    assert model_errors(document) == []


def test_the_two_broken_examples_are_refused_where_the_schema_refuses_them() -> None:
    # The TransactionEvent example gives sourceList and destinationList as single objects; the
    # persistentDisposition example names its events by `id` and puts persistentDisposition on
    # AggregationEvents, which the schema gives no such field.
    for name in sorted(REFUSED_EXAMPLES):
        assert_both_refuse(example(name))
    assert model_errors(example(TRANSACTION)) == [
        "epcisBody.eventList[1].sourceList: must be a list",
        "epcisBody.eventList[1].destinationList: must be a list",
    ]
    assert (
        "epcisBody.eventList[0].persistentDisposition: unknown field: an AggregationEvent "
        "has no persistentDisposition" in model_errors(example(PERSISTENT))
    )


def fixed_transaction_example() -> dict[str, Any]:
    document = example(TRANSACTION)
    event = document["epcisBody"]["eventList"][1]
    event["sourceList"] = [event["sourceList"]]
    event["destinationList"] = [event["destinationList"]]
    return document


def test_transaction_events_are_accepted_as_the_schema_does() -> None:
    document = fixed_transaction_example()
    assert schema_errors(document) == []
    parsed = validate_document(document)
    first, second = parsed.epcis_body.event_list
    assert isinstance(first, TransactionEvent)
    assert isinstance(second, TransactionEvent)
    assert second.model_extra is not None
    assert second.model_extra["rail:trainAxleCount"] == "12"


def test_the_models_read_what_the_examples_say() -> None:
    document = validate_document(
        example("Example_9.6.1-ObjectEvent-with-pseudo-SBDH-headers.jsonld")
    )
    shipped, received = document.epcis_body.event_list
    assert isinstance(shipped, ObjectEvent)
    assert isinstance(received, ObjectEvent)
    assert shipped.biz_step == "shipping"
    assert shipped.epc_list == [
        "urn:epc:id:sgtin:0614141.107346.2017",
        "urn:epc:id:sgtin:0614141.107346.2018",
    ]
    assert shipped.event_time.utcoffset() is not None
    assert received.biz_transaction_list is not None
    assert received.biz_transaction_list[1].type == "desadv"
    assert received.model_extra == {"example:myField": "Example of a vendor/user extension"}
    assert document.sender == "urn:epc:id:sgln:0353579.00001.0"


# --- (b) Broken variants: both refuse -----------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]
E0 = ("epcisBody", "eventList", 0)


def ev(*path: str | int) -> tuple[str | int, ...]:
    """A path inside the first event."""
    return (*E0, *path)


def _at(document: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    node: Any = document
    for key in path:
        node = node[key]
    return node


def put(path: tuple[str | int, ...], value: object) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        _at(document, path[:-1])[path[-1]] = value

    return mutate


def drop(path: tuple[str | int, ...]) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        del _at(document, path[:-1])[path[-1]]

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(document)

    return mutate


# (case, example, mutation, whether the schema needs its formats asserted to refuse it)
BROKEN: list[tuple[str, str, Mutation, bool]] = [
    ("no @context", PLAIN, drop(("@context",)), False),
    ("no schemaVersion", OBJECT, drop(("schemaVersion",)), False),
    ("schemaVersion not a version", OBJECT, put(("schemaVersion",), "two"), False),
    ("no creationDate", OBJECT, drop(("creationDate",)), False),
    ("creationDate without time zone", OBJECT, put(("creationDate",), "2005-07-11T11:30:47"), True),
    ("no epcisBody", OBJECT, drop(("epcisBody",)), False),
    ("no eventList", OBJECT, drop(("epcisBody", "eventList")), False),
    ("eventList not a list", OBJECT, put(("epcisBody", "eventList"), {}), False),
    ("document type misspelt", OBJECT, put(("type",), "EPCISDoc"), False),
    ("unprefixed key on the document", OBJECT, put(("comment",), "hello"), True),
    ("event not an object", OBJECT, put(E0, "ObjectEvent"), False),
    ("event without type", OBJECT, drop(ev("type")), False),
    ("event type misspelt", OBJECT, put(ev("type"), "ObjectEvents"), True),
    ("no eventTime", OBJECT, drop(ev("eventTime")), False),
    ("eventTime without time zone", OBJECT, put(ev("eventTime"), "2005-04-03T20:33:31"), True),
    ("eventTime not a time", OBJECT, put(ev("eventTime"), "yesterday"), True),
    ("eventTime a number", OBJECT, put(ev("eventTime"), 1112560411), False),
    ("no eventTimeZoneOffset", OBJECT, drop(ev("eventTimeZoneOffset")), False),
    ("offset out of range", OBJECT, put(ev("eventTimeZoneOffset"), "+15:00"), False),
    ("offset without colon", OBJECT, put(ev("eventTimeZoneOffset"), "-0600"), False),
    ("eventID not a URI", OBJECT, put(ev("eventID"), "event 1"), True),
    ("no action", OBJECT, drop(ev("action")), False),
    ("wrong action", OBJECT, put(ev("action"), "MOVE"), False),
    ("action in lower case", OBJECT, put(ev("action"), "observe"), False),
    (
        "epcList not a list",
        OBJECT,
        put(ev("epcList"), "urn:epc:id:sgtin:0614141.107346.2017"),
        False,
    ),
    (
        "epcList lists an EPC twice",
        OBJECT,
        put(ev("epcList"), ["urn:epc:id:sgtin:0614141.107346.2017"] * 2),
        False,
    ),
    ("EPC not a URI", OBJECT, put(ev("epcList"), ["0614141 107346 2017"]), True),
    ("no epcList nor quantityList", OBJECT, drop(ev("epcList")), False),
    ("quantity a string", QUANTITY, put(ev("quantityList", 0, "quantity"), "200"), False),
    ("quantity without epcClass", QUANTITY, drop(ev("quantityList", 0, "epcClass")), False),
    ("uom in lower case", QUANTITY, put(ev("quantityList", 0, "uom"), "kgm"), False),
    ("extra key in a quantity", QUANTITY, put(ev("quantityList", 0, "lot"), "A1"), False),
    ("empty quantityList alone", QUANTITY, put(ev("quantityList"), []), False),
    ("unknown bare bizStep", OBJECT, put(ev("bizStep"), "shipped"), True),
    (
        "unknown bizStep in the CBV URN space",
        OBJECT,
        put(ev("bizStep"), "urn:epcglobal:cbv:bizstep:shipped"),
        False,
    ),
    ("bizStep null", OBJECT, put(ev("bizStep"), None), False),
    ("unknown bare disposition", OBJECT, put(ev("disposition"), "lost"), True),
    ("readPoint without id", OBJECT, put(ev("readPoint"), {}), False),
    (
        "readPoint a string",
        OBJECT,
        put(ev("readPoint"), "urn:epc:id:sgln:0614141.07346.1234"),
        False,
    ),
    ("bizTransaction missing", OBJECT, drop(ev("bizTransactionList", 0, "bizTransaction")), False),
    (
        "unknown bare bizTransaction type",
        OBJECT,
        put(ev("bizTransactionList", 0, "type"), "order"),
        True,
    ),
    (
        "sourceList not a list",
        QUANTITY,
        put(ev("sourceList"), {"type": "location", "source": "urn:epc:id:sgln:4012345.00225.0"}),
        False,
    ),
    ("source without type", QUANTITY, drop(ev("sourceList", 0, "type")), False),
    ("unknown bare source type", QUANTITY, put(ev("sourceList", 0, "type"), "owner"), True),
    ("unprefixed unknown key", OBJECT, put(ev("myField"), "x"), True),
    ("unprefixed unknown key, near a field", OBJECT, put(ev("bizstep"), "shipping"), True),
    ("ilmd on an OBSERVE event", OBJECT, put(ev("ilmd"), {"example:batch": "XYZ"}), False),
    ("ilmd key unprefixed", TRANSFORMATION, put(ev("ilmd", "batch"), "XYZ"), True),
    ("certificationInfo a number", OBJECT, put(ev("certificationInfo"), 5), False),
    ("no parentID on an AssociationEvent", ASSOCIATION, drop(ev("parentID")), False),
    (
        "no children on an ADD",
        AGGREGATION,
        both(drop(ev("childEPCs")), drop(ev("childQuantityList"))),
        False,
    ),
    (
        "childEPCs not a list",
        AGGREGATION,
        put(ev("childEPCs"), "urn:epc:id:sgtin:0614141.107346.2017"),
        False,
    ),
    (
        "transformation with outputs only",
        TRANSFORMATION,
        both(drop(ev("inputEPCList")), drop(ev("inputQuantityList"))),
        False,
    ),
    ("action on a TransformationEvent", TRANSFORMATION, put(ev("action"), "ADD"), True),
    (
        "errorDeclaration without declarationTime",
        ERROR_DECLARATION,
        drop(ev("errorDeclaration", "declarationTime")),
        False,
    ),
    (
        "unknown bare error reason",
        ERROR_DECLARATION,
        put(ev("errorDeclaration", "reason"), "typo"),
        True,
    ),
    ("empty sensorReport", ASSOCIATION, put(ev("sensorElementList", 0, "sensorReport"), []), False),
    (
        "sensorReport without type",
        ASSOCIATION,
        drop(ev("sensorElementList", 0, "sensorReport", 0, "type")),
        False,
    ),
    (
        "unknown bare measurement type",
        ASSOCIATION,
        put(ev("sensorElementList", 0, "sensorReport", 0, "type"), "Heat"),
        True,
    ),
    (
        "GS1 measurement type as a full URI",
        ASSOCIATION,
        put(
            ev("sensorElementList", 0, "sensorReport", 0, "type"), "https://gs1.org/voc/Temperature"
        ),
        False,
    ),
    (
        "sensor value a string",
        ASSOCIATION,
        put(ev("sensorElementList", 0, "sensorReport", 0, "minValue"), "12.1"),
        False,
    ),
    (
        "hexBinaryValue not hex",
        ASSOCIATION,
        put(ev("sensorElementList", 0, "sensorReport", 0, "hexBinaryValue"), "xyz"),
        False,
    ),
    (
        "booleanValue a string",
        ASSOCIATION,
        put(ev("sensorElementList", 0, "sensorReport", 0, "booleanValue"), "true"),
        False,
    ),
    ("persistentDisposition empty", QUANTITY, put(ev("persistentDisposition"), {}), False),
    (
        "persistentDisposition set empty",
        QUANTITY,
        put(ev("persistentDisposition"), {"set": []}),
        False,
    ),
    (
        "TransactionEvent without bizTransactionList",
        TRANSACTION,
        both(drop(("epcisBody", "eventList", 1)), drop(ev("bizTransactionList"))),
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "mutate", "needs_formats"),
    [pytest.param(name, mutate, formats, id=case) for case, name, mutate, formats in BROKEN],
)
def test_the_models_and_the_schema_refuse_the_same_broken_documents(
    name: str, mutate: Mutation, needs_formats: bool
) -> None:
    document = example(name)
    mutate(document)
    assert_both_refuse(document)
    # Which refusals only the asserted formats give: without them the schema accepts these.
    assert (schema_errors(document, formats=False) == []) == needs_formats


def test_messages_name_the_field() -> None:
    document = example(OBJECT)
    events = document["epcisBody"]["eventList"]
    events.append(copy.deepcopy(events[0]))
    events[2]["action"] = "MOVE"
    events[1]["eventTime"] = "2005-04-04T20:33:31"
    assert model_errors(document) == [
        "epcisBody.eventList[1].eventTime: must be a date and time with its time zone, such as "
        "2024-05-01T08:30:00+07:00 (RFC 3339)",
        "epcisBody.eventList[2].action: must be ADD, OBSERVE or DELETE",
    ]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "myField",
            "unknown field: an extension field needs a namespace prefix declared in "
            "@context, such as example:myField",
        ),
        ("bizstep", "unknown field (did you mean bizStep?)"),
        ("id", "unknown field: an event is identified by eventID"),
        ("acme:myField", "namespace prefix 'acme' is not declared in @context"),
    ],
)
def test_unknown_keys_are_explained(key: str, message: str) -> None:
    document = example(OBJECT)
    document["epcisBody"]["eventList"][0][key] = "x"
    assert model_errors(document) == [f"epcisBody.eventList[0].{key}: {message}"]


def test_messages_are_capped() -> None:
    document = example(OBJECT)
    event = document["epcisBody"]["eventList"][0]
    event["action"] = "MOVE"
    document["epcisBody"]["eventList"] = [event] * 30
    messages = model_errors(document)
    assert len(messages) == 21
    assert messages[-1] == "… and 10 more"


def test_what_is_not_json_is_refused_with_a_message() -> None:
    with pytest.raises(InvalidEpcisDocument, match="not JSON"):
        validate_document('{"type": "EPCISDocument",')
    with pytest.raises(InvalidEpcisDocument, match="NaN is not a JSON number"):
        validate_document('{"type": NaN}')
    assert model_errors([]) == ["(document): must be an object"]


# Rules of the standard that the schema cannot state: it sees URIs, not EPCs, and any URI
# outside urn:epcglobal:cbv passes as user vocabulary. The models refuse these.
STRICTER: list[tuple[str, str, Mutation]] = [
    ("SGTIN without serial", OBJECT, put(ev("epcList"), ["urn:epc:id:sgtin:0614141.107346"])),
    ("SGTIN key of 12 digits", OBJECT, put(ev("epcList"), ["urn:epc:id:sgtin:0614141.10734.2017"])),
    (
        "SGTIN serial of 21 characters",
        OBJECT,
        put(ev("epcList"), ["urn:epc:id:sgtin:0614141.107346." + "1" * 21]),
    ),
    ("unknown EPC scheme", OBJECT, put(ev("epcList"), ["urn:epc:id:sgtn:0614141.107346.2017"])),
    ("EPC tag URI", OBJECT, put(ev("epcList"), ["urn:epc:tag:sgtin-96:3.0614141.107346.2017"])),
    ("SSCC of 16 digits", AGGREGATION, put(ev("parentID"), "urn:epc:id:sscc:0614141.123456789")),
    (
        "SGLN key of 11 digits",
        OBJECT,
        put(ev("readPoint", "id"), "urn:epc:id:sgln:0614141.0734.1234"),
    ),
    (
        "Digital Link at id.gs1.org with a bad check digit",
        OBJECT,
        put(ev("epcList"), ["https://id.gs1.org/01/70614141123452/21/2017"]),
    ),
    (
        "class in an EPC list",
        OBJECT,
        put(ev("epcList"), ["urn:epc:class:lgtin:4012345.012345.998877"]),
    ),
    (
        "Digital Link without serial in an EPC list",
        OBJECT,
        put(ev("epcList"), ["https://id.gs1.org/01/70614141123451"]),
    ),
    (
        "instance as an epcClass",
        QUANTITY,
        put(ev("quantityList", 0, "epcClass"), "urn:epc:id:sgtin:4012345.012345.998877"),
    ),
    (
        "pattern with a star before a value",
        QUANTITY,
        put(ev("quantityList", 0, "epcClass"), "urn:epc:idpat:sgtin:4012345.*.998877"),
    ),
    (
        "unknown bizStep in the CBV web space",
        OBJECT,
        put(ev("bizStep"), "https://ref.gs1.org/cbv/BizStep-shipped"),
    ),
    (
        "disposition URI given as bizStep",
        OBJECT,
        put(ev("bizStep"), "https://ref.gs1.org/cbv/Disp-in_transit"),
    ),
    ("undeclared prefix", OBJECT, put(ev("acme:myField"), "x")),
    ("unprefixed key in readPoint", OBJECT, put(ev("readPoint", "floor"), 2)),
    (
        "AggregationEvent ADD without parentID",
        AGGREGATION,
        both(put(ev("action"), "ADD"), drop(ev("parentID"))),
    ),
    ("uom without quantity", QUANTITY, drop(ev("quantityList", 0, "quantity"))),
    ("blank node as eventID", OBJECT, put(ev("eventID"), "_:event1")),
]


@pytest.mark.parametrize(
    ("name", "mutate"), [pytest.param(name, mutate, id=case) for case, name, mutate in STRICTER]
)
def test_the_models_are_stricter_where_the_schema_cannot_say(name: str, mutate: Mutation) -> None:
    document = example(name)
    mutate(document)
    assert schema_errors(document) == []
    assert anchors(model_errors(document)) == {"epcisBody.eventList[0]"}


@pytest.mark.parametrize(
    ("field", "value", "word"),
    [
        ("bizStep", "urn:epcglobal:cbv:bizstep:shipping", "shipping"),
        ("bizStep", "https://ref.gs1.org/cbv/BizStep-shipping", "shipping"),
        ("disposition", "urn:epcglobal:cbv:disp:in_transit", "in_transit"),
        ("disposition", "cbv:Disp-in_transit", "in_transit"),
    ],
)
def test_cbv_uris_are_read_as_their_words(field: str, value: str, word: str) -> None:
    # The schema refuses the URN form (it wants words); the models take EPCIS 1.x data as it
    # comes and write the word, which the schema accepts.
    document = example(OBJECT)
    document["epcisBody"]["eventList"][0][field] = value
    assert bool(schema_errors(document)) == value.startswith("urn:")
    parsed = validate_document(document).model_dump(mode="json", by_alias=True, exclude_none=True)
    assert parsed["epcisBody"]["eventList"][0][field] == word
    assert schema_errors(parsed) == []


def test_user_vocabulary_is_kept() -> None:
    document = example(OBJECT)
    event = document["epcisBody"]["eventList"][0]
    event["bizStep"] = "https://chinhhang.example/vocab/activating"
    event["disposition"] = "example:activated"
    parsed = validate_document(document).epcis_body.event_list[0]
    assert isinstance(parsed, ObjectEvent)
    assert parsed.biz_step == "https://chinhhang.example/vocab/activating"
    assert parsed.disposition == "example:activated"
    assert schema_errors(document) == []


def test_an_event_captured_alone_needs_its_context() -> None:
    event = example(OBJECT)["epcisBody"]["eventList"][0]
    assert schema_errors(event) != []
    with pytest.raises(InvalidEpcisDocument, match="@context: required field is missing"):
        validate_event(event)
    event["@context"] = example(OBJECT)["@context"]
    assert schema_errors(event) == []
    assert isinstance(validate_event(event), ObjectEvent)


def test_the_vocabularies_are_the_schemas() -> None:
    definitions = _validators()[0].schema["definitions"]

    def words(name: str) -> set[str]:
        return set(definitions[name]["anyOf"][1]["enum"])

    assert words("bizStep") == cbv.BIZ_STEP.words
    assert words("disposition") == cbv.DISPOSITION.words
    assert words("bizTransaction-type") == cbv.BIZ_TRANSACTION_TYPE.words
    assert words("source-dest-type") == cbv.SOURCE_DEST_TYPE.words
    assert words("error-reason") == cbv.ERROR_REASON.words
    assert words("component") == cbv.COMPONENT.words
    assert words("measurementType") == cbv.MEASUREMENT_TYPES
    assert words("sensorAlertType") == cbv.SENSOR_ALERT_TYPES


# --- (c) Identifiers and vocabulary, by property ---------------------------------------------

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
gtins = st.text("0123456789", min_size=13, max_size=13).map(lambda b: b + str(check_digit(b)))
gs1_values = st.text(CSET82, min_size=1, max_size=20)


@given(gtin=gtins, serial=gs1_values, prefix_length=st.integers(6, 12))
def test_sgtin_to_digital_link_and_back(gtin: str, serial: str, prefix_length: int) -> None:
    urn = sgtin_uri(gtin, serial, prefix_length)
    assert parse_epc_uri(urn).level is Level.INSTANCE
    link = sgtin_to_digital_link(urn)
    assert link == f"https://id.gs1.org/01/{gtin}/21/{quote(serial, safe='')}"
    parsed = parse_digital_link(link)
    assert (parsed.gtin, parsed.value("21")) == (gtin, serial)
    assert identifier_level(link) is Level.INSTANCE
    assert digital_link_to_sgtin(link, prefix_length) == urn


@given(gtin=gtins, lot=gs1_values, prefix_length=st.integers(6, 12))
def test_lgtin_to_digital_link_and_back(gtin: str, lot: str, prefix_length: int) -> None:
    urn = lgtin_uri(gtin, lot, prefix_length)
    link = lgtin_to_digital_link(urn)
    assert identifier_level(link) is Level.CLASS
    assert check_identifier(urn, Level.CLASS) == urn
    assert digital_link_to_lgtin(link, prefix_length) == urn


def test_sgtin_conversion_matches_the_standards_examples() -> None:
    # The Digital Link examples' GTIN 70614141123451 is indicator 7, company prefix 0614141
    # and item reference 12345; a serial's `/` and `%` are escaped in the URN.
    assert sgtin_to_digital_link("urn:epc:id:sgtin:0614141.712345.2017") == (
        "https://id.gs1.org/01/70614141123451/21/2017"
    )
    assert digital_link_to_sgtin("https://id.gs1.org/01/70614141123451/21/2018", 7) == (
        "urn:epc:id:sgtin:0614141.712345.2018"
    )
    assert sgtin_uri("70614141123451", "A/B%", 7) == "urn:epc:id:sgtin:0614141.712345.A%2FB%25"


@pytest.mark.parametrize(
    "uri",
    [
        "urn:epc:id:sgtin:0614141.107346.2017",
        "urn:epc:id:sgtin:952001.1012345.22222223333",
        "urn:epc:id:sscc:0614141.1234567890",
        "urn:epc:id:sgln:0614141.07346.1234",
        "urn:epc:id:sgln:061414112345..0",
        "urn:epc:id:grai:4012345.55555.987",
        "urn:epc:id:giai:952005385.w2",
        "urn:epc:id:gdti:95252084.0001.0003555480001000",
        "urn:epc:id:gsrn:95252084.000000001",
        "urn:epc:id:pgln:4000001.00012",
        "urn:epc:class:lgtin:4012345.012345.998877",
        "urn:epc:idpat:sgtin:4012345.098765.*",
        "urn:epc:idpat:sgtin:4012345.*.*",
        "urn:epc:idpat:sgtin:*.*.*",
    ],
)
def test_epc_uris_of_every_kind_are_read(uri: str) -> None:
    assert str(parse_epc_uri(uri)) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "urn:epc:id:sgtin:0614141.107346.20 17",
        "urn:epc:id:sgtin:06141.1073461.2017",
        "urn:epc:id:sgtin:0614141.107346.20%2017",
        "urn:epc:id:sscc:0614141.12345678901",
        "urn:epc:id:grai:4012345.55555.12345678901234567",
        "urn:epc:id:giai:4012345.1234567890123456789012345",
        "urn:epc:class:sgtin:4012345.012345.998877",
        "urn:epc:idpat:lgtin:4012345.012345.*",
        "urn:epc:id:sgtin",
    ],
)
def test_malformed_epc_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidIdentifier, match=re.escape(repr(uri)[1:-1])):
        identifier_level(uri)


def test_own_uris_are_identifiers_of_no_gs1_level() -> None:
    assert identifier_level("https://chinhhang.example/p/ABC123") is None
    assert identifier_level("https://brand.example/01/123") is None  # not a Digital Link there
    assert identifier_level("urn:uuid:fd338495-0e6d-41dd-afee-a862ecd32518") is None
    with pytest.raises(InvalidIdentifier):
        identifier_level("not a uri")


vocabularies = st.sampled_from(cbv.VOCABULARIES)


@given(vocabulary=vocabularies, data=st.data())
def test_every_spelling_of_a_cbv_word_normalises_to_it(
    vocabulary: cbv.Vocabulary, data: st.DataObject
) -> None:
    word = data.draw(st.sampled_from(sorted(vocabulary.words)))
    spellings = [word, vocabulary.urn(word), vocabulary.web_uri(word)]
    assert {vocabulary.normalise(s) for s in spellings} == {word}
    assert vocabulary.expand(word) == vocabulary.web_uri(word)


@given(vocabulary=vocabularies, word=st.from_regex(r"[a-z_]{1,20}", fullmatch=True))
def test_unknown_bare_words_are_refused(vocabulary: cbv.Vocabulary, word: str) -> None:
    if word in vocabulary.words:
        return
    with pytest.raises(ValueError, match="unknown"):
        vocabulary.normalise(word)
    with pytest.raises(ValueError, match="unknown"):
        vocabulary.normalise(vocabulary.web_uri(word))


@given(vocabulary=vocabularies, path=st.from_regex(r"[a-z0-9_/-]{1,30}", fullmatch=True))
def test_user_vocabulary_uris_pass_unchanged(vocabulary: cbv.Vocabulary, path: str) -> None:
    uri = f"https://vocab.example/{path}"
    assert vocabulary.normalise(uri) == uri
    assert vocabulary.expand(uri) == uri


def test_a_cbv_term_of_another_vocabulary_is_named() -> None:
    with pytest.raises(ValueError, match="is a CBV term, but not a business step"):
        cbv.BIZ_STEP.normalise("urn:epcglobal:cbv:disp:in_transit")
    with pytest.raises(ValueError, match="did you mean shipping"):
        cbv.BIZ_STEP.normalise("shiping")


# --- (d) Round trip ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(set(EXAMPLE_NAMES) - REFUSED_EXAMPLES))
def test_a_validated_example_dumps_to_a_valid_document(name: str) -> None:
    parsed = validate_document(example(name))
    dumped = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert schema_errors(dumped) == []
    assert validate_document(dumped) == parsed
    # Extension fields come back in place, under their own names.
    original = example(name)["epcisBody"]["eventList"]
    for before, after in zip(original, dumped["epcisBody"]["eventList"], strict=True):
        assert {k for k in before if ":" in k} == {k for k in after if ":" in k}


def test_the_fixed_transaction_example_round_trips() -> None:
    parsed = validate_document(fixed_transaction_example())
    dumped = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert schema_errors(dumped) == []
    assert dumped["epcisBody"]["eventList"][1]["rail:vehicle"][2]["rail:vehiclePosition"] == "3"
