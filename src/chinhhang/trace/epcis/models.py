"""Typed models of EPCIS 2.0 documents and events (JSON-LD binding), written from the standard.

They accept what the official EPCIS 2.0 JSON schema accepts and refuse what it refuses; the
tests run both over the standard's examples and over broken variants of them. Where the
standard says more than the schema can, the models say it too, so they are stricter than the
schema there (each rule is tested on its own):
- identifiers are checked: EPC URIs scheme by scheme, Digital Links at id.gs1.org, instance
  identifiers in EPC lists and class identifiers in quantity lists (`identifiers`);
- CBV words are checked, and their URN and web URI forms are accepted and normalised to the
  bare word (`cbv`); the schema refuses the URN form, the models take it (EPCIS 1.x data);
- an extension field's namespace prefix must be declared in @context (the schema only asks that
  the name look like a URI), and objects the schema leaves open (readPoint, epcisBody, master
  data) take extension fields only, not unknown plain names;
- an AggregationEvent names its parentID unless it only observes, and a quantity's uom needs a
  quantity (the XML schema's sequence);
- no field may be null: leave it out instead.

The schema's `format: uri` and `format: date-time` are treated as assertions: without them its
"unknown keys must be URIs" and "eventTime has a time zone" rules say nothing.

Extension fields (`example:myField`) are kept as they are, in `model_extra`, and written back in
place by `model_dump`. Every failure is reported by `validate_document` as a list of messages
naming the field (`epcisBody.eventList[2].action: must be ADD, OBSERVE or DELETE`).
"""

from __future__ import annotations

import json
import math
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from difflib import get_close_matches
from functools import cache
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    ModelWrapValidatorHandler,
    PlainValidator,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from chinhhang.trace.epcis import cbv
from chinhhang.trace.epcis.identifiers import Level, check_identifier, is_uri

MAX_MESSAGES = 20
# How deeply a document's objects and lists may nest. The standard's own structure is under ten
# levels, and extension fields add what a business needs; a deeper value could be read but not
# written back (pydantic stops serializing at ~255 levels: capture would fail with a 500).
MAX_DEPTH = 100
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransformationEvent",
    "AssociationEvent",
    "TransactionEvent",
)
# Prefixes the EPCIS 2.0 context declares, usable without declaring them again; and the schemes
# that make a key a full IRI rather than a compact one.
STANDARD_PREFIXES = frozenset({"epcis", "cbv", "gs1", "rdfs", "owl", "xsd", "dcterms"})
_IRI_SCHEMES = frozenset({"http", "https", "urn"})


class InvalidEpcisDocument(ValueError):
    """An EPCIS document or event that the models refuse; `messages` names every fault found
    (at most MAX_MESSAGES, then a count of the rest)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


# --- Scalars -------------------------------------------------------------------------------
# Plain validators throughout: pydantic's lax mode would turn 1 into "1", "200" into 200.0 and a
# Unix time into a date, where the schema refuses them.


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _uri(value: object) -> str:
    text = _text(value)
    if not is_uri(text):
        raise ValueError(f"{text!r} is not an absolute URI")
    return text


def _document_id(value: object) -> str:
    """A URI, or a JSON-LD blank node such as `_:document1`, as the standard's examples use."""
    text = _text(value)
    return text if re.fullmatch(r"_:[^\s]+", text) else _uri(text)


def _any_id(value: object) -> str:
    return check_identifier(_uri(value))


def _instance_id(value: object) -> str:
    return check_identifier(_uri(value), Level.INSTANCE)


def _class_id(value: object) -> str:
    return check_identifier(_uri(value), Level.CLASS)


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _timestamp(value: object) -> datetime:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        try:
            return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            pass  # a 13th month or a 25th hour: the message below says what is expected
    raise ValueError(
        "must be a date and time with its time zone, such as 2024-05-01T08:30:00+07:00 (RFC 3339)"
    )


def _pattern(regex: str, message: str) -> PlainValidator:
    compiled = re.compile(regex)

    def check(value: object) -> str:
        if isinstance(value, str) and compiled.fullmatch(value):
            return value
        raise ValueError(message)

    return PlainValidator(check)


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _vocabulary(vocabulary: cbv.Vocabulary) -> PlainValidator:
    def check(value: object) -> str:
        return vocabulary.normalise(_text(value))

    return PlainValidator(check)


def _gs1_term(label: str, words: frozenset[str]) -> PlainValidator:
    def check(value: object) -> str:
        return cbv.gs1_voc_term(label, words, _text(value))

    return PlainValidator(check)


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"lists {value!r} twice")
        seen.add(value)
    return values


def _certification_info(value: object) -> str | list[str]:
    if isinstance(value, list):
        return [_uri(item) for item in value]
    return _uri(value)


def _context(value: object) -> str | dict[str, Any] | list[str | dict[str, Any]]:
    """A JSON-LD @context: a context URI, an inline context, or a list of them, each once."""
    if isinstance(value, str):
        return _uri(value)
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, dict) and not (isinstance(item, str) and is_uri(item)):
                raise ValueError("each @context entry must be a context URI or an object")
        if len({json.dumps(item, sort_keys=True) for item in value}) != len(value):
            raise ValueError("lists the same @context entry twice")
        return value
    raise ValueError("must be a context URI, an object, or a list of them")


Text = Annotated[str, PlainValidator(_text)]
Uri = Annotated[str, PlainValidator(_uri)]
Identifier = Annotated[str, PlainValidator(_any_id)]
InstanceId = Annotated[str, PlainValidator(_instance_id)]
ClassId = Annotated[str, PlainValidator(_class_id)]
# Before, not plain: pydantic (2.14) wraps a plain validator's datetime in a serializer that
# warns on the string it makes in JSON mode. _timestamp returns a datetime, which the core takes.
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
Number = Annotated[int | float, PlainValidator(_number)]
Boolean = Annotated[bool, PlainValidator(_boolean)]
TimeZoneOffset = Annotated[
    str,
    _pattern(
        r"[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00)",
        "must be a time zone offset from -14:00 to +14:00, such as +07:00",
    ),
]
Version = Annotated[str, _pattern(r"[0-9]+(?:\.[0-9]+)*", "must be a version such as 2.0")]
Uom = Annotated[
    str,
    _pattern(r"[A-Z0-9]{2,3}", "must be a UN/ECE Rec. 20 unit code of 2 or 3 capitals, as KGM"),
]
HexBinary = Annotated[str, _pattern(r"[A-Fa-f0-9]+", "must be hexadecimal digits")]
BizStep = Annotated[str, _vocabulary(cbv.BIZ_STEP)]
Disposition = Annotated[str, _vocabulary(cbv.DISPOSITION)]
BizTransactionType = Annotated[str, _vocabulary(cbv.BIZ_TRANSACTION_TYPE)]
SourceDestType = Annotated[str, _vocabulary(cbv.SOURCE_DEST_TYPE)]
ErrorReason = Annotated[str, _vocabulary(cbv.ERROR_REASON)]
Component = Annotated[str, _vocabulary(cbv.COMPONENT)]
MeasurementType = Annotated[str, _gs1_term("measurement type", cbv.MEASUREMENT_TYPES)]
SensorAlertType = Annotated[str, _gs1_term("sensor alert type", cbv.SENSOR_ALERT_TYPES)]
Action = Literal["ADD", "OBSERVE", "DELETE"]
EpcList = Annotated[list[InstanceId], AfterValidator(_unique)]
CertificationInfo = Annotated[str | list[str], PlainValidator(_certification_info)]
Context = Annotated[str | dict[str, Any] | list[str | dict[str, Any]], PlainValidator(_context)]


# --- Extension fields ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scope:
    """What the object being validated knows: declared prefixes and its own field names."""

    prefixes: frozenset[str]
    fields: tuple[str, ...] = ()
    owner: str = ""


# The scope is set by each object's wrap validator for its own fields, so that the name check of
# an extension field (which pydantic runs as a key validator, knowing nothing else) sees the
# prefixes declared by the document's and the event's @context. A ContextVar, not a global:
# validations in other threads or tasks have their own.
_SCOPE: ContextVar[_Scope] = ContextVar("epcis_scope")
_ROOT_SCOPE = _Scope(STANDARD_PREFIXES)


def declared_prefixes(context: object) -> frozenset[str]:
    """The terms an @context (or a list of them) defines as IRI prefixes."""
    names: set[str] = set()
    for item in context if isinstance(context, list) else [context]:
        if not isinstance(item, dict):
            continue  # a remote context: not fetched, so whatever it defines is unknown here
        for key, value in item.items():
            defines = isinstance(value, str) or (
                isinstance(value, dict) and isinstance(value.get("@id"), str)
            )
            if defines and not key.startswith("@") and ":" not in key:
                names.add(key)
    return frozenset(names)


def _extension_name(key: str, fields: tuple[str, ...], owner: str = "") -> str:
    prefix, colon, _ = key.partition(":")
    if not colon:
        if key == "id" and "eventID" in fields:
            raise ValueError("unknown field: an event is identified by eventID")
        if owner in EVENT_TYPES and key in _EVENT_FIELDS:
            raise ValueError(f"unknown field: an {owner} has no {key}")
        near = get_close_matches(key, fields, n=1, cutoff=0.75)
        if near:
            raise ValueError(f"unknown field (did you mean {near[0]}?)")
        raise ValueError(
            f"unknown field: an extension field needs a namespace prefix declared in @context, "
            f"such as example:{key}"
        )
    if not is_uri(key):
        raise ValueError("an extension field is named by a compact IRI such as example:myField")
    if prefix not in _SCOPE.get(_ROOT_SCOPE).prefixes and prefix not in _IRI_SCHEMES:
        raise ValueError(f"namespace prefix {prefix!r} is not declared in @context")
    return key


def _extension_key(key: str) -> str:
    scope = _SCOPE.get(_ROOT_SCOPE)
    return _extension_name(key, scope.fields, scope.owner)


def _ilmd_key(key: str) -> str:
    return _extension_name(key, ())


ExtensionKey = Annotated[str, AfterValidator(_extension_key)]
Ilmd = dict[Annotated[str, AfterValidator(_ilmd_key)], Any]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, serialize_by_alias=True)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("must not be null: leave the field out instead")
        return value


class _Closed(_Model):
    """An object the standard closes: its own fields and nothing else."""

    model_config = ConfigDict(extra="forbid")


@cache
def _field_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The JSON names of a model's fields (cached: this runs for every object validated)."""
    return tuple(field.alias or name for name, field in model.model_fields.items())


class _Open(_Model):
    """An object that may carry extension fields named with a declared namespace prefix."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[ExtensionKey, Any] = Field(init=False)

    @model_validator(mode="wrap")
    @classmethod
    def _in_scope(cls, data: object, handler: ModelWrapValidatorHandler[Self]) -> Self:
        prefixes = _SCOPE.get(_ROOT_SCOPE).prefixes
        if isinstance(data, dict) and "@context" in data:
            prefixes |= declared_prefixes(data["@context"])
        token = _SCOPE.set(_Scope(prefixes, _field_names(cls), cls.__name__))
        try:
            return handler(data)
        finally:
            _SCOPE.reset(token)


# --- Parts of events -----------------------------------------------------------------------


class QuantityElement(_Closed):
    """How much of a class of objects: `{epcClass, quantity, uom}`."""

    epc_class: ClassId
    quantity: Number | None = None
    uom: Uom | None = None

    @model_validator(mode="after")
    def _uom_measures_a_quantity(self) -> Self:
        if self.uom is not None and self.quantity is None:
            raise ValueError("uom is given without a quantity")
        return self


class BizTransaction(_Closed):
    type: BizTransactionType | None = None
    biz_transaction: Identifier


class Source(_Closed):
    type: SourceDestType
    source: Identifier


class Destination(_Closed):
    type: SourceDestType
    destination: Identifier


DispositionSet = Annotated[list[Disposition], Field(min_length=1), AfterValidator(_unique)]


class PersistentDisposition(_Closed):
    """Dispositions that stay until unset, unlike `disposition`, which the next event replaces."""

    set_: DispositionSet | None = Field(None, alias="set")
    unset: DispositionSet | None = None

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if self.set_ is None and self.unset is None:
            raise ValueError("persistentDisposition needs set or unset")
        return self


class Location(_Open):
    """A readPoint or bizLocation: `{id}`."""

    id: Identifier


class ErrorDeclaration(_Open):
    declaration_time: Timestamp
    reason: ErrorReason | None = None
    corrective_event_ids: list[Uri] | None = Field(None, alias="correctiveEventIDs")


class SensorMetadata(_Open):
    time: Timestamp | None = None
    device_id: Identifier | None = Field(None, alias="deviceID")
    device_metadata: Uri | None = None
    raw_data: Uri | None = None
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    data_processing_method: Uri | None = None
    biz_rules: Uri | None = None


class SensorReport(_Open):
    type: MeasurementType
    exception: SensorAlertType | None = None
    device_id: Identifier | None = Field(None, alias="deviceID")
    device_metadata: Uri | None = None
    raw_data: Uri | None = None
    data_processing_method: Uri | None = None
    biz_rules: Uri | None = None
    time: Timestamp | None = None
    microorganism: Uri | None = None
    chemical_substance: Uri | None = None
    coordinate_reference_system: Uri | None = None
    value: Number | None = None
    component: Component | None = None
    string_value: Text | None = None
    boolean_value: Boolean | None = None
    hex_binary_value: HexBinary | None = None
    uri_value: Uri | None = None
    min_value: Number | None = None
    max_value: Number | None = None
    mean_value: Number | None = None
    s_dev: Number | None = None
    perc_rank: Number | None = None
    perc_value: Number | None = None
    uom: Text | None = None


class SensorElement(_Open):
    sensor_metadata: SensorMetadata | None = None
    sensor_report: Annotated[list[SensorReport], Field(min_length=1)]


# --- Events --------------------------------------------------------------------------------


class _Event(_Open):
    """What every event has. An event of a document takes the document's @context; one
    captured alone must carry its own (see validate_event)."""

    context: Context | None = Field(None, alias="@context")
    type: str
    event_time: Timestamp
    record_time: Timestamp | None = None
    event_time_zone_offset: TimeZoneOffset
    event_id: Uri | None = Field(None, alias="eventID")
    certification_info: CertificationInfo | None = None
    error_declaration: ErrorDeclaration | None = None


class _StandardEvent(_Event):
    """Why, where and in which conditions: the optional dimensions every standard event type
    shares (an extension event has only the fields of _Event, plus its own)."""

    biz_step: BizStep | None = None
    disposition: Disposition | None = None
    read_point: Location | None = None
    biz_location: Location | None = None
    source_list: list[Source] | None = None
    destination_list: list[Destination] | None = None
    sensor_element_list: list[SensorElement] | None = None


class ObjectEvent(_StandardEvent):
    """Something happened to objects: commissioned, shipped, received, sold, observed."""

    type: Literal["ObjectEvent"]
    action: Action
    epc_list: EpcList | None = None
    quantity_list: list[QuantityElement] | None = None
    persistent_disposition: PersistentDisposition | None = None
    biz_transaction_list: list[BizTransaction] | None = None
    ilmd: Ilmd | None = None

    @field_validator("ilmd")
    @classmethod
    def _ilmd_at_birth(cls, ilmd: Ilmd, info: ValidationInfo) -> Ilmd:
        # Instance/lot master data describes objects as they come into being, so only ADD.
        if info.data.get("action", "ADD") != "ADD":
            raise ValueError("only an ADD event carries ilmd")
        return ilmd

    @model_validator(mode="after")
    def _has_what(self) -> Self:
        sensed = bool(self.sensor_element_list) and self.read_point is not None
        if self.epc_list is None and not self.quantity_list and not sensed:
            raise ValueError(
                "an ObjectEvent needs epcList, a non-empty quantityList, or a non-empty "
                "sensorElementList with readPoint"
            )
        return self


class _ParentChildEvent(_StandardEvent):
    """A parent and its children: what aggregation and association have in common."""

    action: Action
    child_epcs: list[InstanceId] | None = Field(None, alias="childEPCs")
    child_quantity_list: list[QuantityElement] | None = None
    biz_transaction_list: list[BizTransaction] | None = None

    @model_validator(mode="after")
    def _has_children(self) -> Self:
        if not self.child_epcs and not self.child_quantity_list and self.action != "DELETE":
            raise ValueError("childEPCs or childQuantityList must name a child unless DELETE")
        return self


class AggregationEvent(_ParentChildEvent):
    """Objects were put into (ADD), taken out of (DELETE) or seen in (OBSERVE) a parent."""

    type: Literal["AggregationEvent"]
    parent_id: InstanceId | None = Field(None, alias="parentID")

    @model_validator(mode="after")
    def _has_parent(self) -> Self:
        if self.parent_id is None and self.action != "OBSERVE":
            raise ValueError(f"an AggregationEvent with action {self.action} needs parentID")
        return self


class AssociationEvent(_ParentChildEvent):
    """Objects were associated with (ADD) or dissociated from (DELETE) a parent, such as a
    sensor fitted to a container."""

    type: Literal["AssociationEvent"]
    parent_id: InstanceId = Field(alias="parentID")


class TransactionEvent(_StandardEvent):
    """Objects were tied to (ADD) or untied from (DELETE) a business transaction. Still part
    of EPCIS 2.0 and its schema (QuantityEvent is what 2.0 dropped), so it is accepted."""

    type: Literal["TransactionEvent"]
    action: Action
    biz_transaction_list: Annotated[list[BizTransaction], Field(min_length=1)]
    parent_id: InstanceId | None = Field(None, alias="parentID")
    epc_list: list[InstanceId] | None = None
    quantity_list: list[QuantityElement] | None = None

    @model_validator(mode="after")
    def _has_what(self) -> Self:
        if self.epc_list is None and not self.quantity_list and self.action != "DELETE":
            raise ValueError("a TransactionEvent needs epcList or a non-empty quantityList")
        return self


class TransformationEvent(_StandardEvent):
    """Inputs were consumed and outputs made from them: mixing, cooking, bottling, cutting."""

    type: Literal["TransformationEvent"]
    input_epc_list: EpcList | None = Field(None, alias="inputEPCList")
    input_quantity_list: list[QuantityElement] | None = None
    output_epc_list: EpcList | None = Field(None, alias="outputEPCList")
    output_quantity_list: list[QuantityElement] | None = None
    transformation_id: Uri | None = Field(None, alias="transformationID")
    persistent_disposition: PersistentDisposition | None = None
    biz_transaction_list: list[BizTransaction] | None = None
    ilmd: Ilmd | None = None

    @model_validator(mode="after")
    def _has_inputs_and_outputs(self) -> Self:
        # Several events of one transformation share a transformationID, each naming only
        # some of its inputs or outputs; without one, an event must name both.
        inputs = bool(self.input_epc_list) or bool(self.input_quantity_list)
        outputs = bool(self.output_epc_list) or bool(self.output_quantity_list)
        if not (inputs and outputs) and not (self.transformation_id and (inputs or outputs)):
            raise ValueError(
                "a TransformationEvent needs inputs and outputs (inputEPCList or "
                "inputQuantityList, outputEPCList or outputQuantityList), or a "
                "transformationID with either"
            )
        return self


def _extension_type(value: object) -> str:
    text = _text(value)
    if ":" not in text or not is_uri(text):
        raise ValueError(
            f"unknown event type {text!r}: must be {', '.join(EVENT_TYPES)}, or the URI of "
            "an extension event type"
        )
    return text


class ExtensionEvent(_Event):
    """An event of a type that extends EPCIS, named by URI; the schema allows them, with the
    fields every event has and extension fields."""

    type: Annotated[str, PlainValidator(_extension_type)]


def _event_tag(value: object) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in EVENT_TYPES else "extension"


Event = Annotated[
    Annotated[ObjectEvent, Tag("ObjectEvent")]
    | Annotated[AggregationEvent, Tag("AggregationEvent")]
    | Annotated[TransformationEvent, Tag("TransformationEvent")]
    | Annotated[AssociationEvent, Tag("AssociationEvent")]
    | Annotated[TransactionEvent, Tag("TransactionEvent")]
    | Annotated[ExtensionEvent, Tag("extension")],
    Discriminator(_event_tag),
]
_TAGS = frozenset({*EVENT_TYPES, "extension"})
# Every field some event type has, to tell "not on this type" from "unknown".
_EVENT_FIELDS = frozenset(
    field.alias or name
    for model in (ObjectEvent, AggregationEvent, TransformationEvent, AssociationEvent)
    for name, field in model.model_fields.items()
)


# --- The document --------------------------------------------------------------------------


def _attribute(value: object) -> int | float | str | dict[str, Any]:
    if isinstance(value, str | dict):
        return value
    return _number(value)


AttributeValue = Annotated[int | float | str | dict[str, Any], PlainValidator(_attribute)]


class MasterDataAttribute(_Open):
    id: Uri
    attribute: AttributeValue | None = None


class VocabularyElement(_Open):
    id: Uri
    attributes: list[MasterDataAttribute] | None = None
    children: list[Uri] | None = None


class MasterDataVocabulary(_Open):
    type: Uri
    vocabulary_element_list: list[VocabularyElement] | None = None


class MasterData(_Open):
    vocabulary_list: list[MasterDataVocabulary] | None = None


class EpcisHeader(_Open):
    epcis_master_data: MasterData | None = None


class EpcisBody(_Open):
    event_list: list[Event]


class EPCISDocument(_Open):
    """An EPCIS 2.0 document, as captured: events in `epcisBody.eventList`."""

    context: Context = Field(alias="@context")
    id: Annotated[str, PlainValidator(_document_id)] | None = None
    type: Literal["EPCISDocument"]
    schema_version: Version
    creation_date: Timestamp
    instance_identifier: Text | None = None
    sender: Text | None = None
    receiver: Text | None = None
    epcis_header: EpcisHeader | None = None
    epcis_body: EpcisBody


# --- Validation with messages --------------------------------------------------------------

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field (this object takes no extension fields)",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "too_short": "must not be empty",
}


def _path(loc: tuple[int | str, ...]) -> str:
    """`epcisBody.eventList[2].action` for pydantic's ('epcisBody', 'eventList', 2,
    'ObjectEvent', 'action'): without the union's tag, nor the marker of a dict key."""
    out = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]" and not (part in _TAGS and not isinstance(previous, str)):
            out += f".{part}" if out else part
        previous = part
    return out


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    context = error.get("ctx", {})
    if kind == "value_error":
        return str(context["error"])
    if kind == "literal_error":
        return "must be " + str(context["expected"]).replace("'", "")
    return _MESSAGES.get(kind, error["msg"])


def describe(error: ValidationError) -> list[str]:
    """One message per fault, naming the field; capped at MAX_MESSAGES."""
    distinct = {
        f"{_path(detail['loc']) or '(document)'}: {_message(detail)}": None
        for detail in error.errors()
    }
    messages = list(distinct)
    if len(messages) > MAX_MESSAGES:
        rest = len(messages) - MAX_MESSAGES
        messages = [*messages[:MAX_MESSAGES], f"… and {rest} more"]
    return messages


_TOO_DEEP = f"(document): nested too deeply (more than {MAX_DEPTH} levels)"


def read_json(data: object) -> object:
    """JSON text parsed, else data; either way no deeper than MAX_DEPTH. NaN and Infinity are
    refused, and so is a number too large to be anything but infinity (1e999): JSON has none
    of them, and they could never be written back. The one reader of EPCIS text (capture
    checks the size first)."""
    if isinstance(data, str | bytes | bytearray):
        try:
            data = json.loads(data, parse_constant=_not_a_number, parse_float=_finite)
        except RecursionError:  # deeper than the parser's stack, e.g. "[" * 100_000
            raise InvalidEpcisDocument([_TOO_DEEP]) from None
        except ValueError as exc:  # also bad UTF-8 (UnicodeDecodeError is a ValueError)
            raise InvalidEpcisDocument([f"(document): not JSON: {exc}"]) from None
    _check_depth(data)
    return data


def _not_a_number(constant: str) -> float:
    raise ValueError(f"{constant} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is too large a number")
    return value


def _check_depth(data: object) -> None:
    """InvalidEpcisDocument past MAX_DEPTH; walked with a stack of its own, not recursion,
    so the check cannot overflow (and a cyclic value ends at the limit)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise InvalidEpcisDocument([_TOO_DEEP])
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


def validate_document(data: object) -> EPCISDocument:
    """The EPCISDocument in `data` (a parsed JSON value, or JSON text); InvalidEpcisDocument
    listing every fault otherwise."""
    try:
        return EPCISDocument.model_validate(read_json(data))
    except ValidationError as exc:
        raise InvalidEpcisDocument(describe(exc)) from None


def validate_event(data: object) -> Event:
    """One event captured on its own: as in a document, and with its own @context."""
    data = read_json(data)
    try:
        event = _EVENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise InvalidEpcisDocument(describe(exc)) from None
    if event.context is None:
        raise InvalidEpcisDocument(["@context: required field is missing"])
    return event
