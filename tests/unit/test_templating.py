"""Dates on pages (templating.py): kept by the minute for the verdict page's hot path, and the
same text as converting each time afresh."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from chinhhang.templating import clock, when

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@given(
    # hypothesis takes naive bounds and draws the zone separately.
    st.datetimes(
        min_value=datetime(1970, 1, 2),  # noqa: DTZ001
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, VIETNAM, ZoneInfo("America/St_Johns")]),
    )
)
def test_when_is_the_minute_on_vietnams_clock(moment: datetime) -> None:
    assert when(moment) == moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")
    assert clock(moment) == moment.astimezone(VIETNAM).strftime("%H:%M")


def test_when_passes_holes_and_nothing() -> None:
    assert when("{{hole}}") == "{{hole}}"
    assert when(None) == ""
    assert when(datetime(2026, 11, 27, 23, 59, 59, 999_999, tzinfo=UTC)) == "28/11/2026 06:59"
