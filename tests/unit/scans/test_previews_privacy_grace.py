from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinhhang.scans import grace
from chinhhang.scans.previews import is_preview_agent
from chinhhang.scans.privacy import clip_user_agent, truncate_address
from chinhhang.scans.services import looks_only

KEY = b"g" * 32
NOW = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0 Mobile Safari/537.36",
        # In-app browsers of chat apps are people tapping a link, not preview fetchers.
        "Mozilla/5.0 (Linux; Android 12; SM-A125F) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Mobile Safari/537.36 Zalo android/12345 ZaloTheme/light",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 "
        "Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/447.0.0.0;]",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Safari Line/13.1.0",
        # The browser tests' headless Chromium must see what a phone sees.
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0 Safari/537.36",
    ],
)
def test_phone_browsers_are_not_previews(agent: str) -> None:
    assert not is_preview_agent(agent)


@pytest.mark.parametrize(
    "agent",
    [
        "",
        None,
        "facebookexternalhit/1.1",
        "Twitterbot/1.0",
        "WhatsApp/2.2",
        "TelegramBot",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
        "Slack-ImgProxy",
        "LinkedInBot/1.0",
    ],
)
def test_previews_and_crawlers_are_recognised(agent: str | None) -> None:
    assert is_preview_agent(agent)


def test_head_never_counts_and_json_clients_do() -> None:
    assert looks_only("HEAD", "Mozilla/5.0 (iPhone)", wants_json=True)
    assert not looks_only("GET", "TelegramBot", wants_json=True)
    assert looks_only("GET", "TelegramBot", wants_json=False)


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("testclient", None),
        (None, None),
    ],
)
def test_addresses_are_truncated_never_whole(address: str | None, kept: str | None) -> None:
    assert truncate_address(address) == kept


def test_user_agents_are_clipped() -> None:
    assert len(clip_user_agent("x" * 5000) or "") == 300


def test_grace_cookie_round_trip_and_tamper() -> None:
    cookie = grace.write(KEY, {}, "CODE1", NOW)
    assert grace.read(KEY, cookie) == {"CODE1": NOW}
    assert grace.read(b"other" * 8, cookie) == {}
    payload, sig = cookie.rsplit(".", 1)
    assert grace.read(KEY, payload.replace("CODE1", "CODE2") + "." + sig) == {}


def test_grace_cookie_keeps_only_the_newest_entries() -> None:
    seen: dict[str, datetime] = {}
    cookie = ""
    for i in range(20):
        cookie = grace.write(KEY, seen, f"C{i:02d}", NOW + timedelta(seconds=i))
        seen = grace.read(KEY, cookie)
    assert sorted(seen) == [f"C{i:02d}" for i in range(12, 20)]
    assert len(cookie) < 400


@given(st.text(max_size=2000))
def test_any_cookie_text_reads_safely(text: str) -> None:
    assert isinstance(grace.read(KEY, text), dict)
