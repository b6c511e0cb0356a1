"""SQL pieces the dashboard's queries share: the local day of a UTC time, and whose rows a
scope covers. Portable between SQLite and PostgreSQL; every figure is a GROUP BY in the
database, never a loop over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from chinhhang.accounts.models import Organization
from chinhhang.alerts.models import Alert, ShopperReport
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Stamp

# Kinds whose figures are those of the stamps in their custody (they issue none).
CUSTODIANS = frozenset({"distributor", "retailer"})


class local_day(FunctionElement[str]):  # noqa: N801 - reads as the SQL function it stands for
    """The calendar day in Vietnam of a UTC timestamp column, as 'YYYY-MM-DD' text.

    PostgreSQL converts with the zone's rules (`AT TIME ZONE 'Asia/Ho_Chi_Minh'`). SQLite has
    no zone database, and stores the UTC time as text: it adds seven hours, which is exact
    because Vietnam has kept UTC+7 without daylight saving since 1975. The text is cut to
    whole seconds first: SQLite's date functions round to the millisecond, which would put a
    scan at 16:59:59.9999 UTC on the next day while the period's bounds (compared as text)
    keep it on this one.
    """

    type = String()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(({column}) AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD')"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"date(substr({column}, 1, 19), '+7 hours')"


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
            return [ShopperReport.stamp_code.in_(_held_codes(self.org.id))]
        return [ShopperReport.org_id == self.org.id]


def _held_codes(org_id: int) -> Select[Any]:
    """The codes of the stamps in an organization's custody (a partial index serves it)."""
    return select(Stamp.code).where(Stamp.holder_org_id == org_id)
