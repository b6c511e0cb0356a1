"""The market-control dashboard: every figure for the filters, read in one service call.

The HTML page, its JSON variant and the CSV exports are all built from `dashboard()`, so a
figure cannot differ between them. Read-only: nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.models import Product
from chinhhang.errors import NotFound
from chinhhang.i18n import N_
from chinhhang.regulator.filters import Filters
from chinhhang.regulator.services import figures, lists
from chinhhang.regulator.services.access import scope_for
from chinhhang.regulator.services.drill import StampHistory, stamp_history
from chinhhang.regulator.services.tables import Table
from chinhhang.regulator.sql import Scope

# The tables in the order the page shows them; each can be exported as CSV.
TABLES = (
    "scans_per_day",
    "suspicious_per_day",
    "suspicious_by_province",
    "suspicious_by_product",
    "suspicious_by_organization",
    "stamps_by_organization",
    "alerts_by_reason",
    "open_alerts",
    "reports_by_province",
    "open_reports",
    "pending_organizations",
)
_FIGURES: dict[str, Callable[[Session, Scope, Filters], Table]] = {
    "scans_per_day": figures.scans_per_day,
    "suspicious_per_day": figures.suspicious_per_day,
    "suspicious_by_province": figures.suspicious_by_province,
    "suspicious_by_product": figures.suspicious_by_product,
    "suspicious_by_organization": figures.suspicious_by_organization,
    "stamps_by_organization": figures.stamps_by_organization,
    "alerts_by_reason": figures.alerts_by_reason,
    "open_alerts": lists.open_alerts,
    "reports_by_province": figures.reports_by_province,
    "open_reports": lists.open_reports,
}
PENDING = "pending_organizations"


@dataclass(frozen=True, slots=True)
class Dashboard:
    filters: Filters
    scope: Scope
    tables: dict[str, Table]
    # An overseer's choice of organizations for the filter; empty for anyone else.
    organizations: list[tuple[int, str]] = field(default_factory=list)
    product: str | None = None

    @property
    def totals(self) -> dict[str, int]:
        """Sums of the tables' count columns (each table is already a GROUP BY)."""
        tables = self.tables
        totals = {
            "scans": tables["scans_per_day"].total("total"),
            "dynamic_scans": tables["scans_per_day"].total("dynamic"),
            "static_scans": tables["scans_per_day"].total("static"),
            "suspicious_scans": tables["suspicious_per_day"].total("total"),
            "stamps_issued": tables["stamps_by_organization"].total("issued"),
            "stamps_activated": tables["stamps_by_organization"].total("activated"),
            "stamps_activated_in_period": tables["stamps_by_organization"].total(
                "activated_in_period"
            ),
            "stamps_void": tables["stamps_by_organization"].total("void"),
            "open_alerts": tables["alerts_by_reason"].total("open"),
            "open_guessing_alerts": _guessing(tables["alerts_by_reason"]),
            "open_reports": tables["reports_by_province"].total("open"),
        }
        for outcome in figures.SUSPICIOUS:
            totals[f"suspicious_{outcome}"] = tables["suspicious_per_day"].total(outcome)
        if PENDING in tables:
            totals[PENDING] = len(tables[PENDING].rows)
        return totals


def _guessing(table: Table) -> int:
    counts = [row[1] for row in table.rows if row[0] == "guessing"]
    return sum(count for count in counts if isinstance(count, int))


def dashboard(session: Session, actor: Actor, filters: Filters) -> Dashboard:
    """Every figure the actor may see under `filters` (docs/regulator.md).

    Raises Forbidden for a user outside any organization (not the operator), InvalidInput for
    an organization or product filter naming nothing the actor may see.
    """
    scope, filters = scope_for(session, actor, filters)
    _without_jit(session)
    tables = {name: figure(session, scope, filters) for name, figure in _FIGURES.items()}
    choices: list[tuple[int, str]] = []
    if scope.overseer:
        tables[PENDING] = lists.pending_organizations(session)
        choices = lists.organization_choices(session)
    product = session.get(Product, filters.product_id) if filters.product_id else None
    return Dashboard(filters, scope, tables, choices, product.name if product else None)


def export_table(
    session: Session, actor: Actor, filters: Filters, name: str
) -> tuple[Table, Filters]:
    """One of the dashboard's tables for a CSV download, and the filters as applied; the
    same figures as `dashboard()`. NotFound for a name that is not one of TABLES or not the
    actor's to see (the waiting organizations are overseers')."""
    if name not in TABLES:
        raise NotFound(N_("There is no such table."))
    scope, filters = scope_for(session, actor, filters)
    if name == PENDING:
        if not scope.overseer:
            raise NotFound(N_("There is no such table."))
        return lists.pending_organizations(session), filters
    _without_jit(session)
    return _FIGURES[name](session, scope, filters), filters


def _without_jit(session: Session) -> None:
    """PostgreSQL compiles a query whose estimated cost is high (JIT): the stamp figures'
    joins over serial ranges are estimated at millions of rows but read a few, and compiling
    them took 2 s of a 5 ms query at 10 million stamps (bench/dashboard.py). For this
    transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


__all__ = (
    "TABLES",
    "Dashboard",
    "StampHistory",
    "Table",
    "dashboard",
    "export_table",
    "stamp_history",
)
