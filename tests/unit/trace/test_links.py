"""Link types and the RFC 9264 linkset a resolver serves."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.errors import InvalidInput
from chinhhang.trace.links import GS1_VOC, LINK_TYPES, Link, link_type, linkset, linkset_header

ANCHOR = "https://chinhhang.vn/01/09506000134352"
PAGE = Link("pip", "https://chinhhang.vn/p/1", "Thông tin sản phẩm", "vi")
PAGE_EN = Link("pip", "https://chinhhang.vn/p/1?lang=en", "Product information", "en")
CHECK = Link("verificationService", "https://chinhhang.vn/check", "Kiểm tra", "vi")


@pytest.mark.parametrize("name", sorted(LINK_TYPES))
def test_every_form_of_a_link_type_names_the_same_type(name: str) -> None:
    for written in (f"gs1:{name}", f"{GS1_VOC}{name}", name, f" gs1:{name} "):
        assert link_type(written) == name


@given(st.text(max_size=80))
def test_other_link_types_are_refused_with_the_choices(text: str) -> None:
    stripped = text.strip().removeprefix("gs1:").removeprefix(GS1_VOC)
    if stripped in LINK_TYPES:
        assert link_type(text) == stripped
        return
    with pytest.raises(InvalidInput) as refused:
        link_type(text)
    assert "gs1:pip" in refused.value.values["choices"]


def test_the_linkset_has_the_rfc_9264_shape() -> None:
    document = json.loads(json.dumps(linkset(ANCHOR, [PAGE, PAGE_EN, CHECK], PAGE)))
    (context,) = document["linkset"]
    assert context["anchor"] == ANCHOR
    assert [t["href"] for t in context[GS1_VOC + "pip"]] == [PAGE.href, PAGE_EN.href]
    assert context[GS1_VOC + "verificationService"][0] == {
        "href": CHECK.href,
        "title": CHECK.title,
        "hreflang": ["vi"],
        "type": "text/html",
    }
    assert context[GS1_VOC + "defaultLink"] == [PAGE.target()]
    assert len(context[GS1_VOC + "defaultLinkMulti"]) == 2  # Vietnamese and English
    for key, targets in context.items():
        if key != "anchor":
            assert key.startswith(GS1_VOC)
            assert all({"href", "title", "hreflang"} <= set(t) for t in targets)


def test_one_language_needs_no_default_link_multi() -> None:
    (context,) = linkset(ANCHOR, [PAGE, CHECK], PAGE)["linkset"]  # type: ignore[misc]
    assert GS1_VOC + "defaultLinkMulti" not in context


def test_the_link_header_points_at_the_linkset() -> None:
    header = linkset_header(f"{ANCHOR}?linkType=linkset")
    assert header == (
        f'<{ANCHOR}?linkType=linkset>; rel="linkset"; type="application/linkset+json"'
    )
