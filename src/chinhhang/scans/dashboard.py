"""The portal's first page: an organization's figures at a glance.

One read for the route: stamp counts, scans per day, the latest warnings and the shipments
waiting to be received. Regulators and the platform operator outside any organization get no
figures here (theirs are per organization, reached from the list of organizations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Organization
from chinhhang.accounts.services import require
from chinhhang.scans.history import ScanRow, latest_warnings, scans_per_day
from chinhhang.stamps.models import IN_TRANSIT, Shipment
from chinhhang.stamps.services import stamp_counts

DAYS = 14


@dataclass(frozen=True, slots=True)
class Dashboard:
    org: Organization | None
    # True for a regulator or the operator: the page points to the organizations instead.
    overseer: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    per_day: list[tuple[date, int]] = field(default_factory=list)
    warnings: list[ScanRow] = field(default_factory=list)
    incoming: int = 0

    @property
    def busiest(self) -> int:
        """The largest daily count (at least 1), the scale of the page's bars."""
        return max([1, *(n for _day, n in self.per_day)])


def dashboard(session: Session, actor: Actor) -> Dashboard:
    """Raises Forbidden for a user who belongs to no organization and is not the operator."""
    if actor.org_id is None and actor.platform_admin:
        return Dashboard(org=None, overseer=True)
    org = require(session, actor, "view")
    if org.kind == "regulator":
        return Dashboard(org=org, overseer=True)
    incoming = session.scalar(
        select(func.count())
        .select_from(Shipment)
        .where(Shipment.to_org_id == org.id, Shipment.status == IN_TRANSIT)
    )
    return Dashboard(
        org=org,
        counts=stamp_counts(session, actor),
        per_day=scans_per_day(session, actor, DAYS),
        warnings=latest_warnings(session, actor),
        incoming=int(incoming or 0),
    )
