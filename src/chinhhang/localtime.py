"""Vietnam's clock and calendar, for pages, services and SQL alike (no web framework here).

Times are stored in UTC; people read them on Vietnam's clock, and "a day" (a promotion's last
day, scans per day, a warranty's purchase date) is Vietnam's calendar day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from chinhhang.db import utcnow

DISPLAY_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def vietnam_today(now: datetime | None = None) -> date:
    """Today on Vietnam's calendar."""
    return (now or utcnow()).astimezone(DISPLAY_ZONE).date()


class local_day(FunctionElement[str]):  # noqa: N801 - reads as the SQL function it stands for
    """The calendar day in Vietnam of a UTC timestamp column, as 'YYYY-MM-DD' text.

    PostgreSQL converts with the zone's rules (`AT TIME ZONE 'Asia/Ho_Chi_Minh'`). SQLite has
    no zone database, and stores the UTC time as text: it adds seven hours, which is exact
    because Vietnam has kept UTC+7 without daylight saving since 1975. The text is cut to
    whole seconds first: SQLite's date functions round to the millisecond, which would put a
    scan at 16:59:59.9999 UTC on the next day while a period's bounds (compared as text)
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
