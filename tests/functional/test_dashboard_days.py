"""The dashboard counts scans on Vietnam's calendar days, as every page shows times."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from chinhhang.accounts.actor import Actor
from chinhhang.db import session_scope
from chinhhang.localtime import DISPLAY_ZONE, vietnam_today
from chinhhang.scans.history import scans_per_day
from chinhhang.scans.models import ScanEvent
from tests.factories import make_run


def test_a_scan_just_after_midnight_in_vietnam_counts_on_that_day(
    settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions)
    today = vietnam_today()
    half_past_midnight = datetime.combine(today, time(0, 30), DISPLAY_ZONE).astimezone(UTC)
    just_before = half_past_midnight - timedelta(hours=1)  # 23:30 yesterday in Vietnam
    with session_scope(sessions) as session:
        for at in (half_past_midnight, just_before):
            session.add(
                ScanEvent(
                    kind="dynamic",
                    outcome="genuine",
                    stamp_code=run.codes[0],
                    product_id=run.product_id,
                    org_id=run.org_id,
                    scan_number=1,
                    scanned_at=at,
                )
            )
    with sessions() as session:
        days = scans_per_day(session, Actor(org_id=run.org_id, role="viewer"), 2)
    assert days == [(today - timedelta(days=1), 1), (today, 1)]
