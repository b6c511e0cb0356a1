"""The EPCIS 2.0 query parameters of `GET /epcis/events`, read into an EventQuery; page tokens.

Names are the standard's (EPCIS 2.0 section 8.2.7, REST binding): a parameter may be repeated,
and one value may list several separated by `|` (the binding's separator) or `,`. CBV words
are read in any spelling (`shipping`, its URN, its web URI) and kept as the bare word, as
capture keeps them. Any other name is refused with a message naming it, so a misspelt filter
never silently widens an answer. Pure module.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.trace.epcis import cbv
from chinhhang.trace.epcis.filters import CAPTURED, FIRST_SALE, EventQuery, PageKey
from chinhhang.trace.epcis.identifiers import is_uri
from chinhhang.trace.epcis.models import EVENT_TYPES

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 500
MAX_VALUES = 100  # per parameter: enough for any real filter, bounded SQL
_SEPARATORS = re.compile(r"[|,]")

# name → (EventQuery field, what it selects), in the order the documentation lists them.
LISTS: dict[str, tuple[str, str]] = {
    "eventType": ("event_types", "Event types: ObjectEvent, AggregationEvent, …"),
    "EQ_action": ("actions", "ADD, OBSERVE or DELETE."),
    "EQ_bizStep": ("biz_steps", "Business steps: a CBV word (shipping), URN or URI."),
    "EQ_disposition": ("dispositions", "Dispositions: a CBV word (in_transit), URN or URI."),
    "EQ_readPoint": ("read_points", "Read points (readPoint.id), exactly."),
    "EQ_bizLocation": ("biz_locations", "Business locations (bizLocation.id), exactly."),
    "MATCH_epc": ("match_epc", "In epcList or childEPCs (EPC URI, pattern or Digital Link)."),
    "MATCH_anyEPC": ("match_any_epc", "In any EPC list or parentID."),
    "MATCH_parentID": ("match_parent_id", "The parentID."),
    "MATCH_inputEPC": ("match_input_epc", "In a transformation's inputEPCList."),
    "MATCH_outputEPC": ("match_output_epc", "In a transformation's outputEPCList."),
    "MATCH_epcClass": ("match_epc_class", "An epcClass of quantityList or childQuantityList."),
    "EQ_eventID": ("event_ids", "eventIDs."),
}
TIMES: dict[str, tuple[str, str]] = {
    "GE_eventTime": ("ge_event_time", "eventTime at or after (RFC 3339, with a time zone)."),
    "LT_eventTime": ("lt_event_time", "eventTime before."),
    "GE_recordTime": ("ge_record_time", "recordTime (when captured) at or after."),
    "LT_recordTime": ("lt_record_time", "recordTime before."),
}
PER_PAGE, PAGE_TOKEN = "perPage", "nextPageToken"
# Not filters: the page, and the language of error messages (as on every page).
CONTROLS = frozenset({PER_PAGE, PAGE_TOKEN, "lang"})


@dataclass(frozen=True, slots=True)
class QueryRequest:
    query: EventQuery
    per_page: int = DEFAULT_PER_PAGE
    after: PageKey | None = None


def parse_query(pairs: Iterable[tuple[str, str]]) -> QueryRequest:
    """The request's query string as a QueryRequest; InvalidInput naming the parameter for an
    unknown name, a bad value, or a page token this repository did not give."""
    given: dict[str, list[str]] = {}
    for name, value in pairs:
        if name not in LISTS and name not in TIMES and name not in CONTROLS:
            raise InvalidInput(
                N_("Unknown or unsupported query parameter: %(name)s."), name=name[:60]
            )
        given.setdefault(name, []).append(value)
    fields: dict[str, Any] = {}
    for name, values in given.items():
        if name in LISTS:
            field, _ = LISTS[name]
            fields[field] = _values(name, values)
        elif name in TIMES:
            field, _ = TIMES[name]
            fields[field] = parse_time(name, _single(name, values))
    return QueryRequest(
        EventQuery(**fields),
        per_page=_per_page(given.get(PER_PAGE)),
        after=decode_token(_single(PAGE_TOKEN, given[PAGE_TOKEN])) if PAGE_TOKEN in given else None,
    )


def _single(name: str, values: list[str]) -> str:
    if len(values) != 1:
        raise InvalidInput(N_("%(name)s may be given only once."), name=name)
    return values[0]


def _values(name: str, given: list[str]) -> tuple[str, ...]:
    values = [v.strip() for text in given for v in _SEPARATORS.split(text) if v.strip()]
    if not values:
        raise InvalidInput(N_("%(name)s needs a value."), name=name)
    if len(values) > MAX_VALUES:
        raise InvalidInput(
            N_("%(name)s takes at most %(limit)s values."), name=name, limit=MAX_VALUES
        )
    check = _CHECKS.get(name, _uri)
    return tuple(dict.fromkeys(check(name, value) for value in values))


def _uri(name: str, value: str) -> str:
    if not is_uri(value):
        raise InvalidInput(
            N_("%(name)s: %(value)s is not an absolute URI."), name=name, value=value[:80]
        )
    return value


def _event_type(name: str, value: str) -> str:
    if value in EVENT_TYPES or (":" in value and is_uri(value)):
        return value
    raise InvalidInput(
        N_("%(name)s: %(value)s is not an event type (%(types)s, or an extension's URI)."),
        name=name,
        value=value[:80],
        types=", ".join(EVENT_TYPES),
    )


def _action(name: str, value: str) -> str:
    if value in ("ADD", "OBSERVE", "DELETE"):
        return value
    raise InvalidInput(N_("%(name)s must be ADD, OBSERVE or DELETE."), name=name)


def _vocabulary(vocabulary: cbv.Vocabulary) -> Callable[[str, str], str]:
    def check(name: str, value: str) -> str:
        try:
            return vocabulary.normalise(value)
        except ValueError as error:
            raise InvalidInput(N_("%(name)s: %(reason)s"), name=name, reason=str(error)) from None

    return check


_CHECKS: dict[str, Callable[[str, str], str]] = {
    "eventType": _event_type,
    "EQ_action": _action,
    "EQ_bizStep": _vocabulary(cbv.BIZ_STEP),
    "EQ_disposition": _vocabulary(cbv.DISPOSITION),
}


def parse_time(name: str, value: str) -> datetime:
    """An RFC 3339 time with its zone, in UTC. A space where the zone's `+` was is read as
    `+`: an unencoded `+` in a query string arrives as a space."""
    text = value.strip().replace(" ", "+")
    moment = None
    if re.fullmatch(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d:\d\d)", text):
        try:
            moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
            moment = moment.astimezone(UTC)
        except (ValueError, OverflowError):
            moment = None
    if moment is None:
        raise InvalidInput(
            N_(
                "%(name)s must be a date and time with its time zone, such as "
                "2024-05-01T08:30:00+07:00."
            ),
            name=name,
        )
    return moment


def _per_page(values: list[str] | None) -> int:
    if values is None:
        return DEFAULT_PER_PAGE
    text = _single(PER_PAGE, values).strip()
    if not (text.isascii() and text.isdigit() and len(text) < 6) or not (
        1 <= int(text) <= MAX_PER_PAGE
    ):
        raise InvalidInput(
            N_("perPage must be a whole number from 1 to %(limit)s."), limit=MAX_PER_PAGE
        )
    return int(text)


# --- Page tokens ---------------------------------------------------------------------------
# Opaque to clients (the binding says so): the key of the page's last event, base64url. A
# forged token only moves where a page starts; what may be seen is decided by the query.


def encode_token(key: PageKey) -> str:
    text = f"{key.event_time.astimezone(UTC).isoformat()}|{key.source}|{key.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(token: str) -> PageKey:
    """The PageKey of a token from `encode_token`; InvalidInput for anything else."""
    key = None
    try:
        if len(token) > 200:
            raise ValueError(token)
        padded = token + "=" * (-len(token) % 4)
        moment, source, ident = base64.urlsafe_b64decode(padded).decode().split("|")
        when = datetime.fromisoformat(moment)
        if when.tzinfo is not None:
            key = PageKey(when.astimezone(UTC), int(source), int(ident))
    except (ValueError, OverflowError, binascii.Error):
        key = None
    if key is None or not CAPTURED <= key.source <= FIRST_SALE or not 0 <= key.id < 2**63:
        raise InvalidInput(
            N_("nextPageToken is not one this repository gave; start again without it.")
        )
    return key
