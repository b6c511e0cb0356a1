"""The dashboard's SVG charts: valid XML whatever the text, bars proportional to their values,
accessible names, nothing drawn for nothing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.regulator.charts import (
    LABEL_WIDTH,
    PLOT_BOTTOM,
    PLOT_TOP,
    RIGHT,
    Series,
    bar_chart,
    horizontal_bar_chart,
    stacked_bar_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, the very thing under test


def bars(svg: str) -> list[ET.Element]:
    root = parse(svg)
    return [e for e in root.iter(f"{SVG}rect") if e.get("class") == "bar"]


def test_a_bar_chart_is_accessible_svg_with_proportional_bars() -> None:
    svg = bar_chart("Scans per day", [("01/11", 4), ("02/11", 0), ("03/11", 2)], empty="-")
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Scans per day"
    assert root.find(f"{SVG}title").text == "Scans per day"
    drawn = bars(svg)
    assert [b.get("data-value") for b in drawn] == ["4", "2"]  # the zero draws nothing
    heights = [float(b.get("height")) for b in drawn]
    assert heights[0] == pytest.approx(PLOT_BOTTOM - PLOT_TOP)
    assert heights[0] == pytest.approx(2 * heights[1])
    assert all(
        float(b.get("y")) + float(b.get("height")) == pytest.approx(PLOT_BOTTOM) for b in drawn
    )
    assert [b.find(f"{SVG}title").text for b in drawn] == ["01/11: 4", "03/11: 2"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "01/11" in texts
    assert "03/11" in texts


@pytest.mark.parametrize(
    "draw",
    [
        lambda: bar_chart("T", [], empty="Nothing in this period."),
        lambda: bar_chart("T", [("a", 0), ("b", 0)], empty="Nothing in this period."),
        lambda: stacked_bar_chart("T", [], [], empty="Nothing in this period."),
        lambda: horizontal_bar_chart("T", [], empty="Nothing in this period."),
    ],
)
def test_nothing_to_show_is_said_in_words(draw) -> None:
    svg = draw()
    root = parse(svg)
    assert root.get("role") == "img"
    assert bars(svg) == []
    assert "Nothing in this period." in [t.text for t in root.iter(f"{SVG}text")]


def test_stacked_bars_add_up_and_have_a_legend() -> None:
    series = [
        Series("Over the limit", [1, 0, 3], "#b3261e"),
        Series("Not activated", [1, 0, 1], "#b25e00"),
    ]
    svg = stacked_bar_chart("Suspicious", ["d1", "d2", "d3"], series, empty="-")
    drawn = bars(svg)
    assert [b.get("data-value") for b in drawn] == ["1", "1", "3", "1"]
    tallest = sum(float(b.get("height")) for b in drawn[2:])
    assert tallest == pytest.approx(PLOT_BOTTOM - PLOT_TOP)
    assert float(drawn[0].get("height")) == pytest.approx(tallest / 4)
    # Stacked: the second layer sits on the first.
    assert float(drawn[1].get("y")) + float(drawn[1].get("height")) == pytest.approx(
        float(drawn[0].get("y"))
    )
    legend = [t.text for t in parse(svg).iter(f"{SVG}text")]
    assert "Over the limit" in legend
    assert "Not activated" in legend


def test_series_must_match_the_labels() -> None:
    with pytest.raises(ValueError, match="one value per label"):
        stacked_bar_chart("T", ["a", "b"], [Series("s", [1], "#000")], empty="-")


def test_horizontal_bars_are_proportional_and_keep_long_names_in_their_titles() -> None:
    name = "Thành phố Hồ Chí Minh và những vùng lân cận rất dài"
    svg = horizontal_bar_chart("By province", [(name, 6), ("Huế", 3)], empty="-")
    drawn = bars(svg)
    assert float(drawn[0].get("width")) == pytest.approx(2 * float(drawn[1].get("width")))
    assert drawn[0].find(f"{SVG}title").text == f"{name}: 6"
    assert any(t.text and t.text.endswith("…") for t in parse(svg).iter(f"{SVG}text"))


def test_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script> & "quotes" \x00\x1f'
    svg = bar_chart(hostile, [(hostile, 1)], empty=hostile)
    root = parse(svg)  # parses: nothing broke out of its element or attribute
    assert "<script>" not in svg
    assert root.get("aria-label") == '<script>alert("x")</script> & "quotes" '
    assert not list(root.iter("script"))


@given(
    st.text(max_size=40),
    st.lists(st.tuples(st.text(max_size=30), st.integers(0, 10**9)), max_size=400),
)
def test_any_title_labels_and_values_make_valid_svg(title: str, points) -> None:
    top = max((v for _, v in points), default=0)
    stacked = [Series(title, [v for _, v in points], "#123456")]
    for svg, size, room in (
        (bar_chart(title, points, empty=title), "height", PLOT_BOTTOM - PLOT_TOP),
        (horizontal_bar_chart(title, points, empty=title), "width", RIGHT - 40 - LABEL_WIDTH),
        (
            stacked_bar_chart(title, [label for label, _ in points], stacked, empty=title),
            "height",
            PLOT_BOTTOM - PLOT_TOP,
        ),
    ):
        root = parse(svg)
        assert root.get("role") == "img"
        drawn = bars(svg)
        assert len(drawn) == sum(1 for _, v in points if v > 0)
        for bar in drawn:
            value = int(bar.get("data-value"))
            assert 0 < value <= top
            assert float(bar.get(size)) == pytest.approx(room * value / top, abs=0.01)
