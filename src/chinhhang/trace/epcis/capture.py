"""Capture: an EPCIS 2.0 document (or one event) validated by the typed models and stored whole.

A document is all in or all out (the REST binding's `captureErrorBehaviour: rollback`): every
event is validated, every eventID checked for duplicates, and only then is anything written,
inside a savepoint, so a clash found by the database itself (a concurrent capture of the same
eventID) also leaves nothing behind. Each stored event keeps its JSON as the models normalise
it (bare CBV words, keys as the binding spells them) and the @context it was captured under,
which the query answer needs to declare its extension prefixes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import can_oversee, require
from chinhhang.db import utcnow
from chinhhang.errors import Conflict, DomainError, InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.trace.epcis.contexts import context_problems
from chinhhang.trace.epcis.models import (
    EVENT_TYPES,
    MAX_MESSAGES,
    Event,
    InvalidEpcisDocument,
    read_json,
    validate_document,
    validate_event,
)
from chinhhang.trace.epcis.stored import (
    INSTANCE_ROLES,
    identifiers_of,
    linkable_stamps,
    named_identifiers,
)
from chinhhang.trace.models import EpcisCapture, EpcisEvent, EpcisEventEpc

MAX_BYTES = 10 * 1024 * 1024
MAX_EVENTS = 10_000
# The widths of the query columns (trace/models.py): a longer value is refused, not cut.
MAX_URI = 500
MAX_TYPE = 200
# eventIDs per `IN (…)` when looking for duplicates: well under every database's limit.
CHUNK = 500


class InvalidEpcis(InvalidInput):
    """A refused document; `problems` names every faulty field (the models' messages)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(N_("The EPCIS document is not valid; nothing was stored."))
        self.problems = _capped(problems)


class DuplicateEvents(Conflict):
    """eventIDs captured before; `problems` names them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            N_("Some events of this document were captured before; nothing was stored.")
        )
        self.problems = _capped(problems)


class TooLarge(DomainError):
    """More than a capture takes (MAX_BYTES, MAX_EVENTS); nothing was read further."""

    status_code = 413


def too_large_body() -> TooLarge:
    return TooLarge(
        N_("A capture takes at most %(limit)s MB; split the document into several captures."),
        limit=MAX_BYTES // (1024 * 1024),
    )


@dataclass
class _Row:
    """One event ready to be written."""

    where: str  # `epcisBody.eventList[3]`, for messages
    event_id: str
    columns: dict[str, Any]
    identifiers: list[tuple[str, str]] = field(default_factory=list)


def capture(session: Session, actor: Actor, data: object) -> EpcisCapture:
    """Stores every event of the EPCIS document `data` (JSON text, bytes or a parsed value).

    Raises Forbidden without `capture_events`, TooLarge (413) past MAX_BYTES or MAX_EVENTS,
    InvalidEpcis (400) for an invalid document or an eventID given twice, DuplicateEvents (409)
    for an eventID the organization stored before (eventIDs are unique per capturing
    organization). Nothing is stored unless everything is."""
    org = require(session, actor, "capture_events")
    value = _parsed(data)
    if isinstance(value, dict) and value.get("type") in EVENT_TYPES:
        # One event sent where a document is expected: the models' complaints about its
        # fields would hide the real mistake.
        raise InvalidEpcis(
            ["(document): this is one event, not an EPCISDocument: POST it to /epcis/events"]
        )
    _check_event_count(value)
    try:
        document = validate_document(value)
    except InvalidEpcisDocument as error:
        raise InvalidEpcis(error.messages) from None
    _check_contexts(document.context, document.epcis_body.event_list)
    context = json.dumps(document.context, separators=(",", ":"))
    rows = _rows(document.epcis_body.event_list, "epcisBody.eventList", context)
    return _store(session, actor, org, rows)


def capture_event(session: Session, actor: Actor, data: object) -> tuple[EpcisCapture, str]:
    """One event captured on its own (the binding's POST /events): it carries its own
    @context. The same refusals as `capture`; answers the capture and the eventID."""
    org = require(session, actor, "capture_events")
    try:
        event = validate_event(_parsed(data))
    except InvalidEpcisDocument as error:
        raise InvalidEpcis(error.messages) from None
    _check_contexts(event.context, [])
    context = json.dumps(event.context, separators=(",", ":"))
    rows = _rows([event], "", context)
    return _store(session, actor, org, rows), rows[0].event_id


def _check_contexts(context: object, events: Sequence[Event]) -> None:
    """Inline contexts that declare anything but prefixes are refused (contexts.py): query
    answers share prefixes among organizations, and must not share anything else."""
    problems = context_problems(context, "@context")
    for index, event in enumerate(events):
        problems += context_problems(event.context, f"epcisBody.eventList[{index}].@context")
    if problems:
        raise InvalidEpcis(problems)


def _parsed(data: object) -> object:
    """The document read (trace/epcis/models.py `read_json`), once its size is known to fit."""
    if isinstance(data, str | bytes | bytearray):
        size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
        if size > MAX_BYTES:
            raise too_large_body()
    try:
        return read_json(data)
    except InvalidEpcisDocument as error:
        raise InvalidEpcis(error.messages) from None


def _check_event_count(value: object) -> None:
    """Counted before validation, so an oversized document costs no model building."""
    body = value.get("epcisBody") if isinstance(value, dict) else None
    events = body.get("eventList") if isinstance(body, dict) else None
    if isinstance(events, list) and len(events) > MAX_EVENTS:
        raise TooLarge(
            N_(
                "A capture takes at most %(limit)s events and this document has %(count)s; "
                "split it into several captures."
            ),
            limit=MAX_EVENTS,
            count=len(events),
        )


def _rows(events: Sequence[Event], list_path: str, context: str) -> list[_Row]:
    rows: list[_Row] = []
    problems: list[str] = []
    first_at: dict[str, str] = {}
    for index, event in enumerate(events):
        where = f"{list_path}[{index}]" if list_path else ""
        row = _row(event, where, context, problems)
        if row is None:
            continue
        if row.event_id in first_at:
            problems.append(
                f"{_field(where, 'eventID')}: {row.event_id} is also the eventID of "
                f"{first_at[row.event_id]}"
            )
        first_at.setdefault(row.event_id, where or "(event)")
        rows.append(row)
    if problems:
        raise InvalidEpcis(problems)
    return rows


def _row(event: Event, where: str, context: str, problems: list[str]) -> _Row | None:
    body = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    # The repository sets recordTime; a single event's @context is kept beside it.
    body.pop("recordTime", None)
    if not where:
        body.pop("@context", None)
    event_id = body.setdefault("eventID", f"urn:uuid:{uuid4()}")
    read_point = getattr(event, "read_point", None)
    biz_location = getattr(event, "biz_location", None)
    columns = {
        "event_id": event_id,
        "event_type": event.type,
        "action": getattr(event, "action", None),
        "biz_step": getattr(event, "biz_step", None),
        "disposition": getattr(event, "disposition", None),
        "read_point": read_point.id if read_point is not None else None,
        "biz_location": biz_location.id if biz_location is not None else None,
        "body": json.dumps(body, separators=(",", ":")),  # ASCII: lone surrogates escaped
        "context": context,
    }
    found = _too_long(where, columns) + _too_long_ids(where, event)
    try:
        columns["event_time"] = event.event_time.astimezone(UTC)
    except OverflowError:
        found.append(f"{_field(where, 'eventTime')}: out of range once converted to UTC")
    problems.extend(found)
    return None if found else _Row(where, event_id, columns, identifiers_of(event))


_WIDTHS = {
    "event_id": ("eventID", MAX_URI),
    "event_type": ("type", MAX_TYPE),
    "biz_step": ("bizStep", MAX_URI),
    "disposition": ("disposition", MAX_URI),
    "read_point": ("readPoint.id", MAX_URI),
    "biz_location": ("bizLocation.id", MAX_URI),
}


def _too_long(where: str, columns: dict[str, Any]) -> list[str]:
    return [
        f"{_field(where, name)}: longer than {width} characters"
        for column, (name, width) in _WIDTHS.items()
        if isinstance(columns[column], str) and len(columns[column]) > width
    ]


def _too_long_ids(where: str, event: Event) -> list[str]:
    return [
        f"{_field(where, name)}: longer than {MAX_URI} characters"
        for name, _, uri in named_identifiers(event)
        if len(uri) > MAX_URI
    ]


def _field(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _capped(messages: list[str]) -> list[str]:
    if len(messages) <= MAX_MESSAGES:
        return messages
    return [*messages[:MAX_MESSAGES], f"… and {len(messages) - MAX_MESSAGES} more"]


def _check_not_stored(session: Session, org_id: int, rows: list[_Row]) -> None:
    """The organization's own eventIDs only: whether another organization stored an id is
    none of its business (and must not let it take the id first)."""
    where = {row.event_id: row.where for row in rows}
    ids = list(where)
    stored: list[str] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        stored += session.scalars(
            select(EpcisEvent.event_id).where(
                EpcisEvent.org_id == org_id, EpcisEvent.event_id.in_(chunk)
            )
        )
    if stored:
        raise DuplicateEvents(
            [
                f"{_field(where[event_id], 'eventID')}: {event_id} was captured before"
                for event_id in sorted(stored, key=ids.index)
            ]
        )


def _store(session: Session, actor: Actor, org: Organization, rows: list[_Row]) -> EpcisCapture:
    _check_not_stored(session, org.id, rows)
    stamps = linkable_stamps(session, org.id, (pair for row in rows for pair in row.identifiers))
    now = utcnow()
    try:
        # A savepoint, so that a refusal by the database leaves the request's transaction
        # as it was: the capture is all or nothing even when its error is answered (the
        # EPCIS routes answer errors themselves, and the request's unit of work then commits).
        with session.begin_nested():
            job = EpcisCapture(org_id=org.id, user_id=actor.user_id, event_count=len(rows))
            job.created_at = now
            session.add(job)
            session.flush()  # the capture's id, for its events
            _insert(session, job, org.id, now, rows, stamps)
    except IntegrityError:
        raise DuplicateEvents(
            ["eventID: another capture stored one of these events at the same moment"]
        ) from None
    return job


def _insert(
    session: Session,
    job: EpcisCapture,
    org_id: int,
    now: datetime,
    rows: list[_Row],
    stamps: dict[str, str],
) -> None:
    if not rows:
        return
    fixed = {"capture_id": job.id, "org_id": org_id, "record_time": now}
    events = [{**row.columns, **fixed} for row in rows]
    # Each row's id is matched by its eventID (unique in the document), not by position:
    # asking for the parameters' order makes SQLite insert one row per statement.
    returned = session.execute(
        insert(EpcisEvent).returning(EpcisEvent.event_id, EpcisEvent.id), events
    )
    pks: dict[str, int] = dict(returned.all())
    links = [
        {
            "event_pk": pks[row.event_id],
            "role": role,
            "epc": uri,
            "stamp_code": stamps.get(uri) if role in INSTANCE_ROLES else None,
        }
        for row in rows
        for role, uri in row.identifiers
    ]
    if links:
        session.execute(insert(EpcisEventEpc), links)


# --- Capture jobs --------------------------------------------------------------------------


def capture_job(session: Session, actor: Actor, capture_id: int) -> EpcisCapture:
    """The organization's capture (any capture for a regulator); NotFound otherwise."""
    everything = can_oversee(session, actor)
    org_id = None if everything else require(session, actor, "view").id
    job = session.get(EpcisCapture, capture_id)
    if job is None or (org_id is not None and job.org_id != org_id):
        raise NotFound(N_("No such capture."))
    return job


def list_captures(
    session: Session, actor: Actor, *, before: int | None, limit: int
) -> list[EpcisCapture]:
    """The organization's own captures, newest first; `before` is the last id of a page."""
    org = require(session, actor, "view")
    query = select(EpcisCapture).where(EpcisCapture.org_id == org.id)
    if before is not None:
        query = query.where(EpcisCapture.id < before)
    return list(session.scalars(query.order_by(EpcisCapture.id.desc()).limit(limit)))
