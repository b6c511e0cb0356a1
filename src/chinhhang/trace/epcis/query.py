"""The EPCIS query: captured events and the platform's own, merged in one order, for a viewer.

Both sources answer the same EventQuery for the same Viewer, each ordered by PageKey (event
time, source, id). A page asks each for `per_page + 1` events after the cursor, merges them and
cuts: the extra event says whether there is a next page, and the last key shown is where it
starts. Who sees what (SPEC section 9): an organization sees the events it captured and those
naming stamps it holds now, the latter reduced to what concerns those stamps
(partner_view.py); a regulator (and the platform operator) sees everything.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import can_oversee, require
from chinhhang.errors import NotFound
from chinhhang.i18n import N_
from chinhhang.stamps.models import Stamp
from chinhhang.trace.epcis.answer import context_entries, timestamp
from chinhhang.trace.epcis.filters import CAPTURED, EventQuery, PageKey, Viewer
from chinhhang.trace.epcis.identifiers import is_uri
from chinhhang.trace.epcis.params import QueryRequest
from chinhhang.trace.epcis.partner_view import partner_view
from chinhhang.trace.epcis.platform import CONTEXT as PLATFORM_CONTEXT
from chinhhang.trace.epcis.platform import platform_events
from chinhhang.trace.epcis.stamp_ids import equivalent_identifiers
from chinhhang.trace.models import EpcisEvent, EpcisEventEpc

Found = tuple[PageKey, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class QueryPage:
    """Events as JSON-LD objects (each may carry its own `@context`, which the answer
    merges), and where the next page starts (None on the last)."""

    events: list[dict[str, Any]]
    next_key: PageKey | None


def viewer_for(session: Session, actor: Actor) -> Viewer:
    """Everything for a regulator or the platform operator, else the actor's organization;
    Forbidden for an actor who may not even `view`."""
    if can_oversee(session, actor):
        return Viewer(actor.org_id, everything=True)
    return Viewer(require(session, actor, "view").id)


def find_events(
    session: Session, actor: Actor, request: QueryRequest, *, base_url: str
) -> QueryPage:
    """One page of the events `request` selects that the actor may see, oldest first.
    `base_url` (settings.base_url) names the platform's things that have no GS1 key."""
    viewer = viewer_for(session, actor)
    wanted = request.per_page + 1
    captured = captured_events(session, viewer, request.query, request.after, wanted)
    platform = _platform(session, viewer, request.query, request.after, wanted, base_url)
    merged = list(heapq.merge(captured, platform, key=lambda found: found[0]))[:wanted]
    page = merged[: request.per_page]
    more = len(merged) > request.per_page
    return QueryPage([event for _, event in page], page[-1][0] if more and page else None)


def event_by_id(session: Session, actor: Actor, event_id: str, *, base_url: str) -> dict[str, Any]:
    """The event with this eventID, captured or the platform's; NotFound when there is none
    the actor may see (another organization's event is not told apart from none).

    eventIDs are unique per capturing organization, so several visible captured events may
    share one (a regulator sees every organization's): the viewer's own comes first, then
    the first stored (lowest row id)."""
    viewer = viewer_for(session, actor)
    if is_uri(event_id):
        found = _captured_by_id(session, viewer, event_id)
        query = EventQuery(event_ids=(event_id,))
        found = found or _platform(session, viewer, query, None, 1, base_url)
        if found:
            return found[0][1]
    raise NotFound(N_("No such event."))


def _platform(
    session: Session,
    viewer: Viewer,
    query: EventQuery,
    after: PageKey | None,
    limit: int,
    base_url: str,
) -> list[Found]:
    """The platform's events, each with the @context that declares its extension prefix."""
    found = platform_events(session, viewer, query, after, limit, base_url=base_url)
    return [(key, {"@context": PLATFORM_CONTEXT, **event}) for key, event in found]


# What a captured event's answer needs, for `_shown`.
_COLUMNS = (
    EpcisEvent.id,
    EpcisEvent.org_id,
    EpcisEvent.event_time,
    EpcisEvent.record_time,
    EpcisEvent.body,
    EpcisEvent.context,
)


def captured_events(
    session: Session, viewer: Viewer, query: EventQuery, after: PageKey | None, limit: int
) -> list[Found]:
    """Captured events matching `query` that `viewer` may see, after `after`, in key order."""
    statement = (
        select(*_COLUMNS)
        .where(_visible(viewer), _after(after), *conditions(query, _holder(viewer)))
        .order_by(EpcisEvent.event_time, EpcisEvent.id)
        .limit(limit)
    )
    return _shown(session, viewer, session.execute(statement).all())


def _captured_by_id(session: Session, viewer: Viewer, event_id: str) -> list[Found]:
    """The visible captured event with this eventID: the viewer's own, else the first stored."""
    statement = (
        select(*_COLUMNS)
        .where(_visible(viewer), EpcisEvent.event_id == event_id)
        .order_by((EpcisEvent.org_id == viewer.org_id).desc(), EpcisEvent.id)
        .limit(1)
    )
    return _shown(session, viewer, session.execute(statement).all())


def _holder(viewer: Viewer) -> int | None:
    """The organization that sees others' events only through the stamps it holds."""
    return None if viewer.everything else viewer.org_id


def _shown(session: Session, viewer: Viewer, rows: Sequence[Any]) -> list[Found]:
    """The rows as the viewer may see them: whole for their capturer and for a regulator, as
    a partner's view (partner_view.py) for an organization that holds some of their stamps.
    The held identifiers of the whole page are read in one query."""
    holder = _holder(viewer)
    partial = {pk for pk, org_id, *_ in rows if holder is not None and org_id != holder}
    held = _held_identifiers(session, holder, sorted(partial)) if holder is not None else {}
    found: list[Found] = []
    for pk, _org_id, event_time, record_time, body, context in rows:
        if pk in partial:
            event = partner_view(
                json.loads(body), held.get(pk, frozenset()), timestamp(record_time)
            )
        else:
            event = _event(body, context, record_time)
        found.append((PageKey(event_time, CAPTURED, pk), event))
    return found


def _held_identifiers(
    session: Session, holder: int, event_pks: list[int]
) -> dict[int, frozenset[tuple[str, str]]]:
    """event → its (role, identifier) pairs linked to stamps `holder` holds now."""
    if not event_pks:
        return {}
    statement = (
        select(EpcisEventEpc.event_pk, EpcisEventEpc.role, EpcisEventEpc.epc)
        .join(Stamp, Stamp.code == EpcisEventEpc.stamp_code)
        .where(EpcisEventEpc.event_pk.in_(event_pks), _holds(holder))
    )
    found: dict[int, set[tuple[str, str]]] = {}
    for pk, role, epc in session.execute(statement):
        found.setdefault(pk, set()).add((role, epc))
    return {pk: frozenset(pairs) for pk, pairs in found.items()}


def _event(body: str, context: str | None, record_time: Any) -> dict[str, Any]:
    """The stored event as the answer shows it: recordTime after eventTime, and the @context
    it was captured under (its document's, then its own)."""
    stored: dict[str, Any] = json.loads(body)
    entries = context_entries(json.loads(context) if context else None)
    entries += context_entries(stored.pop("@context", None))
    event: dict[str, Any] = {"@context": entries} if entries else {}
    for key, value in stored.items():
        event[key] = value
        if key == "eventTime":
            event["recordTime"] = timestamp(record_time)
    return event


def _holds(org_id: int) -> ColumnElement[bool]:
    """The stamp (joined) is held by the organization now: custody moves on receipt; until a
    stamp is first received elsewhere its issuer holds it."""
    return func.coalesce(Stamp.holder_org_id, Stamp.org_id) == org_id


def _visible(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.everything:
        return true()
    if viewer.org_id is None:
        return false()
    held = (
        select(EpcisEventEpc.id)
        .join(Stamp, Stamp.code == EpcisEventEpc.stamp_code)
        .where(EpcisEventEpc.event_pk == EpcisEvent.id, _holds(viewer.org_id))
    )
    return or_(EpcisEvent.org_id == viewer.org_id, held.exists())


def _after(after: PageKey | None) -> ColumnElement[bool]:
    if after is None:
        return true()
    if after.source > CAPTURED:  # captured events come first at the same instant
        return EpcisEvent.event_time > after.event_time
    return or_(
        EpcisEvent.event_time > after.event_time,
        and_(EpcisEvent.event_time == after.event_time, EpcisEvent.id > after.id),
    )


def conditions(query: EventQuery, holder: int | None = None) -> list[ColumnElement[bool]]:
    """The query's conditions on captured events (none for an empty query). With `holder`,
    an identifier matches another organization's event only where the holder sees it (a
    stamp it holds): a MATCH_ filter must not tell it what the event's hidden lists name."""
    found: list[ColumnElement[bool]] = [
        column.in_(values)
        for values, column in (
            (query.event_types, EpcisEvent.event_type),
            (query.actions, EpcisEvent.action),
            (query.biz_steps, EpcisEvent.biz_step),
            (query.dispositions, EpcisEvent.disposition),
            (query.read_points, EpcisEvent.read_point),
            (query.biz_locations, EpcisEvent.biz_location),
            (query.event_ids, EpcisEvent.event_id),
        )
        if values
    ]
    if query.ge_event_time is not None:
        found.append(EpcisEvent.event_time >= query.ge_event_time)
    if query.lt_event_time is not None:
        found.append(EpcisEvent.event_time < query.lt_event_time)
    if query.ge_record_time is not None:
        found.append(EpcisEvent.record_time >= query.ge_record_time)
    if query.lt_record_time is not None:
        found.append(EpcisEvent.record_time < query.lt_record_time)
    if query.product_ids:
        found.append(_about_products(query.product_ids))
    found += [
        _named(roles, values, holder)
        for values, roles in (
            (query.match_epc, ("epc",)),
            (query.match_any_epc, ("epc", "parent", "input", "output")),
            (query.match_parent_id, ("parent",)),
            (query.match_input_epc, ("input",)),
            (query.match_output_epc, ("output",)),
            (query.match_epc_class, ("class",)),
        )
        if values
    ]
    return found


def _named(
    roles: tuple[str, ...], values: tuple[str, ...], holder: int | None
) -> ColumnElement[bool]:
    """The event names one of `values` in one of `roles`: any spelling of the identifier
    (SGTIN or Digital Link), or an EPC pattern (`urn:epc:idpat:sgtin:0614141.107346.*`);
    for a `holder`, in its own event or as a stamp it holds."""
    spellings = sorted({spelling for value in values for spelling in _spellings(value)})
    matches = [EpcisEventEpc.epc.in_(spellings)]
    matches += [
        EpcisEventEpc.epc.like(pattern, escape="\\")
        for value in values
        for pattern in _like_patterns(value)
    ]
    seen: list[ColumnElement[bool]] = []
    if holder is not None:
        held = select(Stamp.code).where(Stamp.code == EpcisEventEpc.stamp_code, _holds(holder))
        seen.append(or_(EpcisEvent.org_id == holder, held.exists()))
    return (
        select(EpcisEventEpc.id)
        .where(
            EpcisEventEpc.event_pk == EpcisEvent.id,
            EpcisEventEpc.role.in_(roles),
            or_(*matches),
            *seen,
        )
        .exists()
    )


def _about_products(product_ids: tuple[int, ...]) -> ColumnElement[bool]:
    """The event names a stamp (one linked at capture) of one of these products."""
    return (
        select(EpcisEventEpc.id)
        .join(Stamp, Stamp.code == EpcisEventEpc.stamp_code)
        .where(EpcisEventEpc.event_pk == EpcisEvent.id, Stamp.product_id.in_(product_ids))
        .exists()
    )


def _spellings(value: str) -> set[str]:
    """Every spelling of an identifier: its Digital Link, and the SGTIN (LGTIN) of every
    company prefix length it may have; all of them denote the same GTIN and serial (lot)."""
    found = set(equivalent_identifiers(value))
    for spelling in list(found):
        for length in range(6, 13):
            found.update(equivalent_identifiers(spelling, length))
    return found


_IDPAT = "urn:epc:idpat:"


def _like_patterns(value: str) -> list[str]:
    """LIKE patterns of an EPC pattern: `*` stands for a whole part; an SGTIN pattern also
    matches the lots (LGTIN classes) of the same GTIN."""
    if not value.startswith(_IDPAT) or "*" not in value:
        return []
    scheme, _, rest = value[len(_IDPAT) :].partition(":")
    like = ".".join("%" if part == "*" else _escaped(part) for part in rest.split("."))
    patterns = [f"urn:epc:id:{scheme}:{like}"]
    if scheme == "sgtin":
        patterns.append(f"urn:epc:class:lgtin:{like}")
    return patterns


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
