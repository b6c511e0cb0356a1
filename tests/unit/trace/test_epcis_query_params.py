"""The EPCIS query parameters (params.py), the page tokens, and the answer's @context (answer.py):
pure functions, no database."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.errors import InvalidInput
from chinhhang.trace.epcis.answer import EPCIS_CONTEXT, query_document
from chinhhang.trace.epcis.filters import CAPTURED, FIRST_SALE, STAMP_STEP, EventQuery, PageKey
from chinhhang.trace.epcis.params import (
    DEFAULT_PER_PAGE,
    LISTS,
    TIMES,
    QueryRequest,
    decode_token,
    encode_token,
    parse_query,
)

NOON = datetime(2024, 5, 1, 5, 30, tzinfo=UTC)


def test_no_parameters_ask_for_everything_on_a_first_page() -> None:
    assert parse_query([]) == QueryRequest(EventQuery(), DEFAULT_PER_PAGE, None)


def test_values_are_split_repeated_and_normalised() -> None:
    request = parse_query(
        [
            ("EQ_bizStep", "shipping|urn:epcglobal:cbv:bizstep:receiving"),
            ("EQ_bizStep", "https://ref.gs1.org/cbv/BizStep-shipping, https://example.com/step"),
            ("eventType", "ObjectEvent,AggregationEvent"),
            ("GE_eventTime", "2024-05-01T12:30:00+07:00"),
            ("LT_recordTime", "2024-05-01T12:30:00 07:00"),
            ("perPage", "5"),
            ("lang", "en"),
        ]
    )
    assert request.query.biz_steps == ("shipping", "receiving", "https://example.com/step")
    assert request.query.event_types == ("ObjectEvent", "AggregationEvent")
    assert request.query.ge_event_time == NOON
    assert request.query.lt_record_time == NOON
    assert request.per_page == 5


def test_every_event_query_field_has_its_parameter() -> None:
    named = {field for field, _ in (*LISTS.values(), *TIMES.values())}
    assert named == set(EventQuery.__dataclass_fields__) - {"product_ids"}


@pytest.mark.parametrize(
    "pairs",
    [
        [("orderBy", "eventTime")],
        [("EQ_bizStep", "unknown_step")],
        [("EQ_disposition", "urn:epcglobal:cbv:bizstep:shipping")],  # a step, not a disposition
        [("GE_eventTime", "2024-05-01")],
        [("GE_eventTime", "0001-01-01T00:00:00+05:00")],  # before year 1 in UTC
        [("MATCH_epc", "x" * 10)],
        [("MATCH_epc", ",".join(f"urn:x:{n}" for n in range(101)))],
        [("perPage", "1"), ("perPage", "2")],
        [("nextPageToken", "")],
    ],
)
def test_bad_parameters_are_invalid_input(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInput):
        parse_query(pairs)


@given(st.lists(st.tuples(st.sampled_from([*LISTS, *TIMES, "perPage", "x"]), st.text())))
def test_any_query_string_is_read_or_refused_never_crashes(pairs) -> None:
    with contextlib.suppress(InvalidInput):
        parse_query(pairs)


@pytest.mark.parametrize("source", [CAPTURED, STAMP_STEP, FIRST_SALE])
def test_a_page_token_gives_back_its_key(source: int) -> None:
    key = PageKey(NOON, source, 2**40)
    assert decode_token(encode_token(key)) == key


@given(st.text(max_size=300))
def test_any_other_token_is_refused(token: str) -> None:
    try:
        key = decode_token(token)
    except InvalidInput:
        return
    assert decode_token(encode_token(key)) == key


def test_the_answer_declares_every_events_prefixes_once() -> None:
    one = {"@context": ["https://gs1.github.io/EPCIS/epcis-context-simple.jsonld", {"a": "urn:a:"}]}
    two = {"@context": [{"a": "urn:a:", "b": "urn:b:"}]}
    answer = query_document([{**one, "eventID": "urn:1"}, {**two, "eventID": "urn:2"}], NOON)
    assert answer["@context"] == [EPCIS_CONTEXT, {"a": "urn:a:", "b": "urn:b:"}]
    assert answer["creationDate"] == "2024-05-01T05:30:00.000Z"
    events = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert events == [{"eventID": "urn:1"}, {"eventID": "urn:2"}]


@pytest.mark.parametrize(
    "context",
    [
        [{"c": "urn:c:"}, "https://example.com/ctx.jsonld"],  # a remote context: anything
        [{"@vocab": "urn:evil:"}],
        [{"@vocab": 1}],
        [{"c": "urn:c:", "@base": "urn:evil:"}],
        [{"example:secret": "urn:evil:"}],  # would override another's example:secret
        [{"epcList": "urn:evil:"}],  # a term of the EPCIS context
        [{"gs1": "urn:evil:"}],
        [{"c": {"@id": "urn:c:", "@type": "@id"}}],
    ],
)
def test_only_plain_prefixes_are_shared_with_other_events(context) -> None:
    """A context that could change how other events read stays on its own event (stored
    before capture refused it, or a remote one, which capture keeps)."""
    mine = {"@context": [EPCIS_CONTEXT, {"example": "urn:ex:"}], "eventID": "urn:1"}
    theirs = {"@context": context, "eventID": "urn:2"}
    answer = query_document([mine, theirs, {**mine, "eventID": "urn:3"}], NOON)
    assert answer["@context"] == [EPCIS_CONTEXT, {"example": "urn:ex:"}]
    events = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert events == [{"eventID": "urn:1"}, theirs, {"eventID": "urn:3"}]


def test_standard_prefixes_with_their_own_iris_are_not_lifted() -> None:
    rdfs = {"rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
    platform = {"chinhhang": "https://chinhhang.vn/voc/"}
    answer = query_document([{"@context": [EPCIS_CONTEXT, rdfs, platform], "eventID": "u:1"}], NOON)
    assert answer["@context"] == [EPCIS_CONTEXT, platform]


def test_an_event_whose_prefix_clashes_keeps_its_own_context() -> None:
    first = {"@context": [{"ex": "urn:one:"}], "eventID": "urn:1"}
    second = {"@context": [EPCIS_CONTEXT, {"ex": "urn:two:"}], "eventID": "urn:2"}
    answer = query_document([first, second], NOON)
    assert answer["@context"] == [EPCIS_CONTEXT, {"ex": "urn:one:"}]
    events = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert events == [{"eventID": "urn:1"}, second]
