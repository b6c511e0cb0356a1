"""Working shoppers' reports (SPEC section 7): the organizations' side.

Who sees which report: a manufacturer the reports on its own stamps; regulators and the
platform operator all of them (a manufacturer's report read-only: SPEC section 1). Working
one (new → investigating → confirmed | dismissed, and back to investigating to reopen) takes
`work_reports`: the manufacturer for its own reports, a regulator for those without an
organization. Every change is a note in the report's history (public notes are shown to the
shopper following the reference) and an entry in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization, User
from chinhhang.accounts.services import record, require
from chinhhang.accounts.services.access import can_oversee
from chinhhang.alerts.models import REPORT_STATUSES, ReportNote, ShopperReport
from chinhhang.alerts.photos import photo_path
from chinhhang.catalog.models import Product
from chinhhang.db import utcnow
from chinhhang.errors import Conflict, DomainError, InvalidInput, NotFound, plain_text
from chinhhang.i18n import N_
from chinhhang.provinces import parse_province, province_name
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.serials import grouped, serial_for

NOTE_LIMIT = 2000
# Which status may follow which; a closed report is reopened by investigating it again.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"investigating", "confirmed", "dismissed"}),
    "investigating": frozenset({"confirmed", "dismissed"}),
    "confirmed": frozenset({"investigating"}),
    "dismissed": frozenset({"investigating"}),
}


@dataclass(slots=True)
class ReportView:
    """A report as the organizations working it see it."""

    report: ShopperReport
    product: str | None = None
    serial: str | None = None
    organization: str | None = None
    # (note, the writer's e-mail, the writer's organization), oldest first.
    notes: list[tuple[ReportNote, str | None, str | None]] = field(default_factory=list)
    # Whether the viewer may change its status (the service checks again on use).
    can_work: bool = False
    # The shopper's contact is for those who work reports, not every viewer (personal data).
    shows_contact: bool = False

    @property
    def province(self) -> str | None:
        return province_name(self.report.province_code)

    @property
    def next_statuses(self) -> list[str]:
        allowed = TRANSITIONS.get(self.report.status, frozenset())
        return [status for status in REPORT_STATUSES if status in allowed]


def _visible(session: Session, actor: Actor, query: Select) -> Select:  # type: ignore[type-arg]
    """Regulators and the operator: every report; a manufacturer: its own; others: none.
    Raises Forbidden for someone who may not even look at their organization."""
    if can_oversee(session, actor):
        return query
    org = require(session, actor, "view")
    if org.kind == "manufacturer":
        return query.where(ShopperReport.org_id == org.id)
    return query.where(false())


def list_reports(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    province: str | int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[ReportView]:
    """Newest first, keyset-paged by id; InvalidInput for an unknown status or province."""
    if status is not None and status not in REPORT_STATUSES:
        raise InvalidInput(N_("Unknown report status."))
    province_code = parse_province(province)
    query = _visible(session, actor, _rows())
    if status is not None:
        query = query.where(ShopperReport.status == status)
    if province_code is not None:
        query = query.where(ShopperReport.province_code == province_code)
    if before is not None:
        query = query.where(ShopperReport.id < before)
    rows = session.execute(query.order_by(ShopperReport.id.desc()).limit(limit)).all()
    return [_view(*row) for row in rows]


def _rows() -> Select:  # type: ignore[type-arg]
    return (
        select(ShopperReport, Product.name, Organization.name, Stamp.sequence)
        .outerjoin(Product, Product.id == ShopperReport.product_id)
        .outerjoin(Organization, Organization.id == ShopperReport.org_id)
        .outerjoin(Stamp, Stamp.code == ShopperReport.stamp_code)
    )


def _view(
    report: ShopperReport,
    product: str | None,
    organization: str | None,
    sequence: int | None,
) -> ReportView:
    serial = grouped(serial_for(int(sequence))) if sequence is not None else None
    return ReportView(report, product, serial, organization)


def _found(session: Session, actor: Actor, report_id: int) -> ReportView:
    found = session.execute(
        _visible(session, actor, _rows()).where(ShopperReport.id == report_id)
    ).first()
    if found is None:
        raise NotFound(N_("No such report."))
    return _view(*found)


def get_report(session: Session, actor: Actor, report_id: int) -> ReportView:
    """One report with its history; NotFound when it does not exist or is not the actor's."""
    view = _found(session, actor, report_id)
    notes = session.execute(
        select(ReportNote, User.email, Organization.name)
        .outerjoin(User, User.id == ReportNote.user_id)
        .outerjoin(Organization, Organization.id == ReportNote.org_id)
        .where(ReportNote.report_id == report_id)
        .order_by(ReportNote.id)
    ).all()
    view.notes = [(note, email, org) for note, email, org in notes]
    view.can_work = _may_work(session, actor, view.report)
    view.shows_contact = view.can_work
    return view


def _may_work(session: Session, actor: Actor, report: ShopperReport) -> bool:
    try:
        _workable(session, actor, report)
    except DomainError:  # Forbidden (role, kind) or NotFound (not theirs to work)
        return False
    return True


def _workable(session: Session, actor: Actor, report: ShopperReport) -> Organization:
    """The actor's organization if it works this report: the manufacturer its own, a
    market-control agency every report (SPEC section 7: owners and regulators work them).
    Forbidden or NotFound otherwise."""
    org = require(session, actor, "work_reports")
    if report.org_id == org.id or org.kind == "regulator":
        return org
    raise NotFound(N_("No such report."))


def change_status(
    session: Session,
    actor: Actor,
    report_id: int,
    *,
    status: str,
    note: str | None = None,
    public: bool = False,
) -> ShopperReport:
    """Move the report to `status` with an optional note (shown to the shopper if `public`).

    Raises InvalidInput (unknown status, note too long, a public note without text), Conflict
    (a transition the workflow does not have), NotFound or Forbidden; nothing changes then.
    """
    report = session.get(ShopperReport, report_id)
    if report is None:
        raise NotFound(N_("No such report."))
    org = _workable(session, actor, report)
    if status not in REPORT_STATUSES:
        raise InvalidInput(N_("Unknown report status."))
    text = plain_text(note or "", "note").strip() or None
    if text is not None and len(text) > NOTE_LIMIT:
        raise InvalidInput(N_("The note is too long: at most %(n)s characters."), n=NOTE_LIMIT)
    if public and text is None:
        raise InvalidInput(N_("Write the note the shopper will see, or do not make it public."))
    if status not in TRANSITIONS[report.status]:
        raise Conflict(
            N_(
                "This change of status is not possible: a new report is investigated, then "
                "confirmed or dismissed; a confirmed or dismissed one can only be reopened "
                "for investigation."
            )
        )
    previous, now = report.status, utcnow()
    report.status, report.updated_at = status, now
    session.add(
        ReportNote(
            report_id=report.id,
            org_id=org.id,
            user_id=actor.user_id,
            status_from=previous,
            status_to=status,
            text=text,
            public=public,
            at=now,
        )
    )
    record(
        session,
        actor,
        "report.status",
        f"report:{report.id}",
        reference=report.reference,
        status_from=previous,
        status_to=status,
        public=public,
    )
    session.flush()  # the caller's answer shows the new status and note
    return report


def report_photo(session: Session, actor: Actor, report_id: int, data_dir: Path) -> Path:
    """The stored photo of a report the actor may see; NotFound when there is none."""
    view = _found(session, actor, report_id)
    path = photo_path(data_dir, view.report.photo_file or "")
    if path is None:
        raise NotFound(N_("This report has no photo."))
    return path
