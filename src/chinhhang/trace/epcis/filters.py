"""What an EPCIS query asks for and who asks: shared by the captured events' query and the
platform's own events (trace/epcis/platform.py), so both answer the same question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Order of the merged answer: event time, then the source (captured events before platform
# events at the same instant), then the source's own id. A page ends at a key; the next page
# starts after it.
CAPTURED, STAMP_STEP, FIRST_SALE = 0, 1, 2


@dataclass(frozen=True, slots=True, order=True)
class PageKey:
    event_time: datetime
    source: int
    id: int


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whose events may be shown: `org_id` sees its own and those about stamps it holds;
    `everything` (a regulator, the platform operator) sees all."""

    org_id: int | None
    everything: bool = False


@dataclass(frozen=True, slots=True)
class EventQuery:
    """The standard query parameters (EPCIS 2.0 section 8.2.7), parsed. Empty tuples and None
    mean "no condition". Vocabulary values are bare CBV words (`shipping`) or URIs of user
    vocabularies, as the models keep them; identifiers are as given (MATCH_ also takes SGTIN
    and Digital Link forms of one stamp)."""

    event_types: tuple[str, ...] = ()
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    ge_record_time: datetime | None = None
    lt_record_time: datetime | None = None
    actions: tuple[str, ...] = ()
    biz_steps: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    read_points: tuple[str, ...] = ()
    biz_locations: tuple[str, ...] = ()
    match_epc: tuple[str, ...] = ()
    match_any_epc: tuple[str, ...] = ()
    match_parent_id: tuple[str, ...] = ()
    match_input_epc: tuple[str, ...] = ()
    match_output_epc: tuple[str, ...] = ()
    match_epc_class: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    # Not a standard parameter: events about the stamps of these products (the platform's own
    # events only; the traceability record export asks with it).
    product_ids: tuple[int, ...] = ()
