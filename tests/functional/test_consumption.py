"""What counts as a scan (SPEC section 2): HEAD, previews and the grace period do not."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.db import session_scope, utcnow
from chinhhang.scans import grace, services
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.services import Selection, void
from tests.factories import make_run

JSON = {"Accept": "application/json"}


def scan_count(engine, code: str) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(Stamp.scan_count).where(Stamp.code == code)) or 0)


def test_head_does_not_consume(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    assert client.head(f"/v/{run.codes[0]}").status_code == 200
    assert scan_count(engine, run.codes[0]) == 0
    assert client.get(f"/v/{run.codes[0]}", headers=JSON).json()["outcome"] == "genuine"


@pytest.mark.parametrize(
    "agent",
    [
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "TelegramBot (like TwitterBot)",
        "WhatsApp/2.23.20.0",
        "Mozilla/5.0 (compatible; Zalo-Bot/1.0)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Discordbot/2.0",
    ],
)
def test_link_previews_get_a_neutral_page_and_consume_nothing(
    client, settings, engine, sessions, agent: str
) -> None:
    run = make_run(settings, engine, sessions)
    page = client.get(f"/v/{run.codes[0]}", headers={"User-Agent": agent})
    assert page.status_code == 200
    assert "Xác thực sản phẩm" in page.text  # neutral "verify a product" page
    assert "Hàng chính hãng" not in page.text
    assert scan_count(engine, run.codes[0]) == 0


def test_the_preview_pages_button_does_scan(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions)
    answer = client.post(f"/v/{run.codes[0]}", headers={"User-Agent": "TelegramBot"})
    assert "Hàng chính hãng" in answer.text
    assert scan_count(engine, run.codes[0]) == 1


def test_the_same_browser_reopening_sees_genuine_without_consuming(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    first = client.get(f"/v/{run.codes[0]}")
    assert grace.COOKIE_NAME in first.cookies
    again = client.get(f"/v/{run.codes[0]}")
    assert "Hàng chính hãng" in again.text
    assert "bạn đã xác thực tem này lúc" in again.text
    body = client.get(f"/v/{run.codes[0]}", headers=JSON).json()
    assert body["outcome"] == "genuine"
    assert body["verified_on_this_device_at"]
    assert scan_count(engine, run.codes[0]) == 1


def test_a_different_browser_consumes(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    client.get(f"/v/{run.codes[0]}")
    client.cookies.clear()  # another phone
    assert client.get(f"/v/{run.codes[0]}", headers=JSON).json()["outcome"] == "over_limit"


def test_grace_is_per_stamp(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    client.get(f"/v/{run.codes[0]}")
    assert client.get(f"/v/{run.codes[1]}", headers=JSON).json()["scan_count"] == 1
    assert scan_count(engine, run.codes[1]) == 1


def test_grace_zero_is_strict(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1, grace_minutes=0)
    client.get(f"/v/{run.codes[0]}")
    assert client.get(f"/v/{run.codes[0]}", headers=JSON).json()["outcome"] == "over_limit"


def test_grace_expires(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1, grace_minutes=30)
    scanner = client.app.state.scanner
    client.get(f"/v/{run.codes[0]}")
    real_clock = scanner.clock
    scanner.clock = lambda: real_clock() + timedelta(minutes=31)
    try:
        assert client.get(f"/v/{run.codes[0]}", headers=JSON).json()["outcome"] == "over_limit"
    finally:
        scanner.clock = real_clock


def test_a_forged_grace_cookie_is_ignored(client, settings, engine, sessions) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    client.get(f"/v/{run.codes[0]}")
    client.cookies.clear()
    forged = grace.write(b"not-the-server-key" * 2, {}, run.codes[0], grace_now())
    client.cookies.set(grace.COOKIE_NAME, forged)
    assert client.get(f"/v/{run.codes[0]}", headers=JSON).json()["outcome"] == "over_limit"


def grace_now():
    return utcnow()


def test_a_voided_stamp_is_not_genuine_even_inside_grace(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1)
    client.get(f"/v/{run.codes[0]}")
    with session_scope(sessions) as session:
        void(session, Actor.command_line(run.org_id), selection=Selection(run_id=run.run_id))
    assert client.get(f"/v/{run.codes[0]}", headers=JSON).json()["outcome"] == "void"


def language_link(page_html: str) -> str:
    match = re.search(r'class="lang" href="([^"]+)"', page_html)
    assert match
    return html.unescape(match.group(1))


def test_switching_language_on_a_genuine_page_counts_nothing(
    client, settings, engine, sessions
) -> None:
    """Even on a strict run (grace 0) and with cookies blocked, the language link re-shows the
    verdict instead of counting a second scan (which would show 'already verified')."""
    run = make_run(settings, engine, sessions, scan_limit=1, grace_minutes=0)
    first = client.get(f"/v/{run.codes[0]}")
    link = language_link(first.text)
    assert "seen=" in link
    client.cookies.clear()
    english = client.get(f"/v/{run.codes[0]}{link}")
    assert "Genuine product" in english.text
    assert "you verified this at" in english.text
    assert scan_count(engine, run.codes[0]) == 1
    back = client.get(f"/v/{run.codes[0]}{language_link(english.text)}")
    assert "Hàng chính hãng" in back.text
    assert scan_count(engine, run.codes[0]) == 1


def test_a_view_token_is_for_its_code_and_a_few_minutes_only(
    client, settings, engine, sessions
) -> None:
    run = make_run(settings, engine, sessions, scan_limit=1, grace_minutes=0)
    link = language_link(client.get(f"/v/{run.codes[0]}").text)
    client.get(f"/v/{run.codes[1]}")
    client.cookies.clear()
    other_code = client.get(f"/v/{run.codes[1]}{link}", headers=JSON).json()
    assert other_code["outcome"] == "over_limit"  # the token names another code
    forged = link.split("seen=")[0] + "seen=1700000000.AAAAAAAAAAAAAAAAAAAAAA"
    assert client.get(f"/v/{run.codes[0]}{forged}", headers=JSON).json()["outcome"] == "over_limit"
    scanner = client.app.state.scanner
    real_clock = scanner.clock
    scanner.clock = lambda: real_clock() + timedelta(minutes=grace.VIEW_TOKEN_MINUTES + 1)
    try:
        late = client.get(f"/v/{run.codes[0]}{link}", headers=JSON).json()
    finally:
        scanner.clock = real_clock
    assert late["outcome"] == "over_limit"


def test_a_genuine_codes_tag_is_checked_once(
    client, settings, engine, sessions, monkeypatch
) -> None:
    """The route checks the tag and hands the checked code on: the scan does not check it
    again. The code as typed (lower case, a trailing slash) is counted as the stamp's."""
    checks: list[str] = []

    def counted_verify(keyring, text: str) -> str:
        checks.append(text)
        return verify(keyring, text)

    verify = services.verify
    monkeypatch.setattr(services, "verify", counted_verify)
    run = make_run(settings, engine, sessions)
    answer = client.get(f"/v/{run.codes[0].lower()}/", headers=JSON)
    assert answer.json()["outcome"] == "genuine"
    assert checks == [run.codes[0].lower()]
    assert scan_count(engine, run.codes[0]) == 1
