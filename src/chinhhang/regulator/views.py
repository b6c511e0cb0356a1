"""The market-control dashboard's pages: the figures (HTML, or JSON with `?format=json` or
`Accept: application/json`), each table as CSV, and one stamp's history.

Every page needs a login (`Requires("view")`); the services decide whose figures the person
sees (regulator/services/access.py). Filters come from the query and a bad one is answered
with the page, its filter form and a clear message, status 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from chinhhang.accounts.actor import Actor
from chinhhang.deps import ReadSessionDep, Requires, SessionDep
from chinhhang.errors import DomainError
from chinhhang.i18n import N_, translator
from chinhhang.localtime import vietnam_today
from chinhhang.portal import PORTAL_HEADERS, error_text, portal_page
from chinhhang.provinces import all_provinces
from chinhhang.regulator.charts import Series, bar_chart, horizontal_bar_chart, stacked_bar_chart
from chinhhang.regulator.csv_export import table_csv
from chinhhang.regulator.filters import Filters, parse_filters, parse_stamp
from chinhhang.regulator.services import (
    Dashboard,
    dashboard,
    export_table,
    stamp_history,
)
from chinhhang.templating import language_of

router = APIRouter(prefix="/regulator", include_in_schema=False)
Viewer = Annotated[Actor, Depends(Requires("view"))]
Text = Annotated[str, Query(max_length=40)]
First = Annotated[str, Query(alias="from", max_length=40)]
Last = Annotated[str, Query(alias="to", max_length=40)]
OUTCOME_COLOURS = {"over_limit": "#b3261e", "not_activated": "#b25e00", "void": "#5f6368"}


def _release(session: Session) -> None:
    """End the login check's transaction before the figures are read.

    On SQLite a portal request's session holds the database's write lock from its first
    statement to its end (BEGIN IMMEDIATE, db.py); the figures are long reads over every scan,
    and holding the lock through them would make the scan path wait. The figures are read in
    a read session (deferred BEGIN, no write lock) instead; nothing is written here.
    """
    session.commit()


def _wants_json(request: Request, format_: str) -> bool:
    return format_ == "json" or "application/json" in request.headers.get("accept", "")


def _json_error(request: Request, error: DomainError) -> JSONResponse:
    body = {"error": {"code": str(error.status_code), "message": error_text(request, error)}}
    return JSONResponse(body, error.status_code, headers=PORTAL_HEADERS)


@dataclass(frozen=True, slots=True)
class FilterText:
    """The dashboard's filters as typed in the address (the page and its CSV exports)."""

    first: str
    last: str
    province: str
    org: str
    product: str

    def parsed(self) -> Filters:
        """InvalidInput (a clear 400) for a value that is not a filter."""
        return parse_filters(
            first=self.first,
            last=self.last,
            province=self.province,
            org=self.org,
            product=self.product,
            today=vietnam_today(),
        )

    def typed(self) -> dict[str, str]:
        """For the form shown again above an error."""
        return {
            "from": self.first,
            "to": self.last,
            "province": self.province,
            "org": self.org,
            "product": self.product,
        }


def filter_text(
    first: First = "", last: Last = "", province: Text = "", org: Text = "", product: Text = ""
) -> FilterText:
    return FilterText(first, last, province, org, product)


Typed = Annotated[FilterText, Depends(filter_text)]


@router.get("")
def dashboard_page(
    request: Request,
    session: SessionDep,
    reading: ReadSessionDep,
    actor: Viewer,
    typed: Typed,
    format: Text = "",
) -> Response:
    _release(session)
    try:
        board = dashboard(reading, actor, typed.parsed())
    except DomainError as error:
        if _wants_json(request, format):
            return _json_error(request, error)
        context: dict[str, Any] = {
            "board": None,
            "typed": typed.typed(),
            "provinces": all_provinces(),
        }
        context["error"] = error_text(request, error)
        return portal_page(request, "regulator/dashboard.html", context, error.status_code)
    if _wants_json(request, format):
        return JSONResponse(_json(board), headers=PORTAL_HEADERS)
    context = {
        "board": board,
        "filters": board.filters,
        "provinces": all_provinces(),
        "charts": _charts(board, translator(language_of(request))),
    }
    return portal_page(request, "regulator/dashboard.html", context)


def _json(board: Dashboard) -> dict[str, Any]:
    filters, org = board.filters, board.scope.org
    return {
        "filters": {
            "from": filters.first.isoformat(),
            "to": filters.last.isoformat(),
            "province": filters.province,
            "org": filters.org_id,
            "product": filters.product_id,
        },
        "overseer": board.scope.overseer,
        "organization": {"id": org.id, "name": org.name, "kind": org.kind} if org else None,
        "totals": board.totals,
        "tables": {name: table.json() for name, table in board.tables.items()},
    }


def _charts(board: Dashboard, gettext: Any) -> dict[str, Markup]:
    """The pictures above the tables (pure SVG from regulator/charts.py, escaped there)."""
    per_day = board.tables["scans_per_day"]
    days = [d.strftime("%d/%m") for d in per_day.column("day") if isinstance(d, date)]
    suspicious = board.tables["suspicious_per_day"]
    by_province = board.tables["suspicious_by_province"]
    empty = gettext(N_("Nothing in this period."))
    names = {
        "over_limit": gettext(N_("Over the scan limit")),
        "not_activated": gettext(N_("Not activated")),
        "void": gettext(N_("Void stamp")),
    }
    series = [Series(names[o], suspicious.counts(o), OUTCOME_COLOURS[o]) for o in OUTCOME_COLOURS]
    places = [
        str(name) if name else gettext(N_("Unknown place"))
        for name in by_province.column("province")
    ]
    scans = bar_chart(
        gettext(N_("Scans per day")),
        list(zip(days, per_day.counts("total"), strict=True)),
        empty=empty,
    )
    outcomes = stacked_bar_chart(
        gettext(N_("Suspicious scans per day, by outcome")), days, series, empty=empty
    )
    provinces = horizontal_bar_chart(
        gettext(N_("Suspicious scans by province")),
        list(zip(places, by_province.counts("total"), strict=True)),
        empty=empty,
    )
    # Markup: the chart functions escape every piece of text they draw.
    return {
        "scans": Markup(scans),  # noqa: S704
        "suspicious": Markup(outcomes),  # noqa: S704
        "provinces": Markup(provinces),  # noqa: S704
    }


@router.get("/export/{table}.csv")
def export_csv(
    session: SessionDep,
    reading: ReadSessionDep,
    actor: Viewer,
    table: str,
    typed: Typed,
) -> Response:
    """One table as CSV, with the dashboard's filters; 404 for a table that is not one of
    services.TABLES."""
    _release(session)
    found, applied = export_table(reading, actor, typed.parsed(), table)
    name = f"chinhhang-{found.name}-{applied.first.isoformat()}-{applied.last.isoformat()}.csv"
    headers = {**PORTAL_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(
        table_csv(found).encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers
    )


@router.get("/stamps")
def stamp_page(
    request: Request,
    session: SessionDep,
    reading: ReadSessionDep,
    actor: Viewer,
    org: Text = "",
    serial: Text = "",
    format: Text = "",
) -> Response:
    """One stamp's history, named by its issuer's number and its serial; with neither, the
    form that asks for them."""
    _release(session)
    typed = {"org": org, "serial": serial}
    try:
        wanted = parse_stamp(org, serial)
        history = stamp_history(reading, actor, *wanted) if wanted else None
    except DomainError as error:
        if _wants_json(request, format):
            return _json_error(request, error)
        context = {"history": None, "typed": typed, "error": error_text(request, error)}
        return portal_page(request, "regulator/stamp.html", context, error.status_code)
    if _wants_json(request, format):
        return JSONResponse(history.json() if history else None, headers=PORTAL_HEADERS)
    return portal_page(request, "regulator/stamp.html", {"history": history, "typed": typed})
