"""SQL pieces the dashboard's queries share: whose rows a scope covers (the local day of a
UTC time is localtime.local_day). Portable between SQLite and PostgreSQL; every figure is a
GROUP BY in the database, never a loop over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select

from chinhhang.accounts.models import Organization
from chinhhang.alerts.models import Alert, ShopperReport
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Stamp

# Kinds whose figures are those of the stamps in their custody (they issue none).
CUSTODIANS = frozenset({"distributor", "retailer"})


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose figures: every organization's (`org` None, overseers only), or one
    organization's: the stamps it issued (a manufacturer) or holds (a distributor or retailer),
    the same rows that organization sees in its own portal."""

    overseer: bool
    org: Organization | None = None

    @property
    def custody(self) -> bool:
        return self.org is not None and self.org.kind in CUSTODIANS

    def scans(self) -> list[ColumnElement[bool]]:
        if self.org is None:
            return []
        if self.custody:
            return [ScanEvent.stamp_code.in_(_held_codes(self.org.id))]
        return [ScanEvent.org_id == self.org.id]

    def stamps(self) -> list[ColumnElement[bool]]:
        if self.org is None:
            return []
        column = Stamp.holder_org_id if self.custody else Stamp.org_id
        return [column == self.org.id]

    def alerts(self) -> list[ColumnElement[bool]]:
        if self.org is None:
            return []
        column = Alert.custodian_org_id if self.custody else Alert.org_id
        return [column == self.org.id]

    def reports(self) -> list[ColumnElement[bool]]:
        if self.org is None:
            return []
        if self.custody:
            # Reports are the manufacturer's and the agencies' to read (the seller named in
            # one may be this very custodian), as in the portal's list of reports.
            return [false()]
        return [ShopperReport.org_id == self.org.id]


def _held_codes(org_id: int) -> Select[Any]:
    """The codes of the stamps in an organization's custody (a partial index serves it)."""
    return select(Stamp.code).where(Stamp.holder_org_id == org_id)
