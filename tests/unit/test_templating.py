"""Dates on pages (templating.py): kept by the minute for the verdict page's hot path, and the
same text as converting each time afresh."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from chinhhang.templating import Pages, clock, hole, when

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@given(
    # hypothesis takes naive bounds and draws the zone separately. Before 1920 Saigon's clock
    # was a local mean time with seconds in its offset: no minute of it maps to one text.
    st.datetimes(
        min_value=datetime(1920, 1, 1),  # noqa: DTZ001
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, VIETNAM, ZoneInfo("America/St_Johns")]),
    )
)
def test_when_is_the_minute_on_vietnams_clock(moment: datetime) -> None:
    # Through UTC: a wall time that never existed (Vietnam's clock jumped from 23:00 to 00:00
    # on 31 December 1959) is shown as the instant it stands for, not as given.
    shown = moment.astimezone(UTC).astimezone(VIETNAM)
    assert when(moment) == shown.strftime("%d/%m/%Y %H:%M")
    assert clock(moment) == moment.astimezone(VIETNAM).strftime("%H:%M")


def test_when_passes_holes_and_nothing() -> None:
    assert when("{{hole}}") == "{{hole}}"
    assert when(None) == ""
    assert when(datetime(2026, 11, 27, 23, 59, 59, 999_999, tzinfo=UTC)) == "28/11/2026 06:59"
    # Before 1970 the minute is still the floor, not the truncation toward zero (Saigon was
    # then on UTC+8).
    assert when(datetime(1969, 12, 31, 23, 58, 59, 500_000, tzinfo=UTC)) == "01/01/1970 07:58"


_NAMES = ("serial", "count", "journey")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=12), st.sampled_from(_NAMES)), max_size=6),
    st.text(max_size=12),
    st.fixed_dictionaries({name: st.text(max_size=12) for name in _NAMES}),
)
def test_a_skeleton_is_its_page_with_every_hole_filled_escaped(
    pieces: list[tuple[str, str]], tail: str, fills: dict[str, str]
) -> None:
    """Literal text (braces, markup) comes back as it was; each hole becomes its value escaped,
    wherever and however often it appears."""
    page = "".join(text + hole(name) for text, name in pieces) + tail
    pages = Pages()
    pages.html = lambda *_args: page  # type: ignore[method-assign]
    expected = "".join(text + str(escape(fills[name])) for text, name in pieces) + tail
    assert pages.skeleton("vi", "any.html", ("k",), dict, fills) == expected
