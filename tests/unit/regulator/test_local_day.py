"""Scans are counted on Vietnam's calendar on both databases: 16:59 UTC is still the same day
in Vietnam, 17:00 UTC is the next one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from chinhhang.localtime import local_day
from chinhhang.scans.models import ScanEvent


def test_local_day_follows_vietnams_clock(session) -> None:
    moments = [
        datetime(2026, 11, 26, 16, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 26, 17, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 18, 30, tzinfo=UTC),
    ]
    session.add_all(
        ScanEvent(kind="static", outcome="product", scanned_at=moment) for moment in moments
    )
    session.flush()
    day = local_day(ScanEvent.scanned_at)
    rows = session.execute(select(day, func.count()).group_by(day).order_by(day)).all()
    assert [(str(d), n) for d, n in rows] == [
        ("2026-11-26", 1),
        ("2026-11-27", 1),
        ("2027-01-01", 1),
    ]
