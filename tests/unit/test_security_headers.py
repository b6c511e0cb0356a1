"""The security headers' layer (security_headers.py), and what keeps its policy true: no
template, script or chart carries what a strict Content-Security-Policy refuses (inline
script, event-handler attributes, `javascript:` links, style attributes and blocks). A page
that did would not break loudly: the browser would drop that part and say so in its console,
so this reads the sources instead."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from chinhhang.regulator import charts
from chinhhang.security_headers import (
    CONTENT_SECURITY_POLICY,
    SecurityHeaders,
    security_headers,
)

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "chinhhang"
TEMPLATES = sorted(p for p in (PACKAGE / "templates").rglob("*") if p.is_file())
SCRIPTS = sorted((PACKAGE / "static").glob("*.js"))
REFUSED_IN_MARKUP = {
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "style block": re.compile(r"<style\b", re.IGNORECASE),
    "javascript: link": re.compile(r"javascript:", re.IGNORECASE),
}
# What our own scripts must not do either: markup with styles or handlers goes through the
# same checks when inserted, and eval would need 'unsafe-eval'.
REFUSED_IN_SCRIPTS = {
    "style attribute set": re.compile(r"setAttribute\(\s*[\"']style|\.cssText\s*="),
    "markup with a style attribute": re.compile(r"style\s*=\s*\\?[\"']"),
    "handler attribute set": re.compile(r"setAttribute\(\s*[\"']on[a-z]+"),
    "eval": re.compile(r"\beval\(|new\s+Function\(|set(Timeout|Interval)\(\s*[\"']"),
}


def _offences(path: Path, refused: dict[str, re.Pattern[str]]) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [
        f"{path.relative_to(PACKAGE)}:{text.count(chr(10), 0, found.start()) + 1}: {what}: "
        f"{found.group(0)!r}"
        for what, pattern in refused.items()
        for found in pattern.finditer(text)
    ]


def test_the_templates_need_no_inline_script_or_style() -> None:
    assert TEMPLATES, "no templates found"
    found = [offence for path in TEMPLATES for offence in _offences(path, REFUSED_IN_MARKUP)]
    assert found == [], "move these into static/ (security_headers.py):\n" + "\n".join(found)


def test_the_scripts_need_no_eval_or_inline_style() -> None:
    assert SCRIPTS, "no scripts found"
    found = [offence for path in SCRIPTS for offence in _offences(path, REFUSED_IN_SCRIPTS)]
    assert found == [], "\n".join(found)


def test_the_regulators_charts_draw_with_attributes_only() -> None:
    """The charts are SVG built in Python (regulator/charts.py), not templates: presentation
    attributes (fill, font-size) are allowed, a style attribute would not be."""
    drawn = [
        charts.bar_chart("Scans", [("1/11", 3), ("2/11", 5)], empty="none"),
        charts.stacked_bar_chart(
            "Outcomes", ["1/11"], [charts.Series("genuine", [4], "#1f5fa8")], empty="none"
        ),
        charts.horizontal_bar_chart("Provinces", [("Hà Nội", 7)], empty="none"),
    ]
    for svg in drawn:
        for what, pattern in REFUSED_IN_MARKUP.items():
            assert not pattern.search(svg), (what, svg)


def _answer(headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(_scope: Any, _receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return app


def _sent(layer: SecurityHeaders, scope_type: str = "http") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {}

    asyncio.run(layer({"type": scope_type}, receive, send))
    return sent


def test_missing_headers_are_added_and_a_routes_own_value_is_kept() -> None:
    own = [(b"content-type", b"text/html"), (b"referrer-policy", b"no-referrer")]
    layer = SecurityHeaders(_answer(own), security_headers("http://localhost:8000"))
    headers = _sent(layer)[0]["headers"]
    names = [name for name, _value in headers]
    assert len(names) == len(set(names)), headers
    assert dict(headers) == {
        b"content-type": b"text/html",
        b"referrer-policy": b"no-referrer",
        b"content-security-policy": CONTENT_SECURITY_POLICY.encode(),
        b"x-content-type-options": b"nosniff",
        b"x-frame-options": b"DENY",
    }
    assert own == [(b"content-type", b"text/html"), (b"referrer-policy", b"no-referrer")]


@pytest.mark.parametrize(
    ("base_url", "hsts"),
    [
        ("http://127.0.0.1:8000", None),
        ("https://chinhhang.example.vn", b"max-age=31536000"),
    ],
)
def test_hsts_only_for_an_https_address(base_url: str, hsts: bytes | None) -> None:
    layer = SecurityHeaders(_answer([]), security_headers(base_url))
    assert dict(_sent(layer)[0]["headers"]).get(b"strict-transport-security") == hsts


def test_other_scopes_pass_untouched() -> None:
    seen: list[str] = []

    async def app(scope: Any, _receive: Any, _send: Any) -> None:
        seen.append(scope["type"])

    assert _sent(SecurityHeaders(app, security_headers("https://x.vn")), "lifespan") == []
    assert seen == ["lifespan"]


def test_the_policy_allows_no_inline_script_style_or_eval() -> None:
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert directives["style-src"] == "'self'"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
    assert directives["frame-ancestors"] == "'none'"
