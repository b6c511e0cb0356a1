"""The server secret, the keys derived from it and the database password never leave the
process: not in a log line, not in an answer, not in `repr(settings)` (issue "[security]").

CHINHHANG_SECRET_KEY signs every stamp's code (docs/codes.md): with it, anyone mints codes
that verify. The keys derived from it (config.derive_key) sign scan tokens, grace cookies and
CSRF tokens. A log shipped to a third party, an error page, or a traceback that prints the
settings would hand them out, so the test runs a day's traffic through the real app with a
known secret (and, on PostgreSQL, a known password in the database URL), captures every log
record of every logger at DEBUG, plus the JSON lines `serve` writes (observability/logs.py),
and every answer, and looks for each secret in every form a program writes bytes: as text,
hex, base64 and base64url, and as Python writes a bytes value.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from chinhhang.accounts.actor import Actor
from chinhhang.alerts.channels import add_channel
from chinhhang.alerts.delivery import deliver_due
from chinhhang.alerts.grouping import process_outbox
from chinhhang.config import Settings, derive_key
from chinhhang.db import session_scope, utcnow
from chinhhang.observability.logs import JsonFormatter, RequestIdFilter
from chinhhang.web import create_app
from tests.conftest import PHONE, cli_env, make_settings
from tests.factories import make_run
from tests.functional.alert_receivers import webhook_receiver
from tests.functional.test_cli import chinhhang
from tests.portal_helpers import Browser, csrf_of, member

SECRET = "known-server-secret-" + "Qx7vR2" * 6  # >= 32 characters, unlike TEST_SECRET
DB_PASSWORD = "Db-Pa55-" + "w0rd9" * 4  # test values to look for
SMTP_PASSWORD = "Smtp-Pa55-" + "m4il" * 4
REDIS_PASSWORD = "Redis-Pa55-" + "c4che" * 4
METRICS_TOKEN = "metrics-token-" + "z9" * 10
# Every purpose the app derives a key for (config.keyring, web.create_app, deps.csrf_token).
PURPOSES = ("code-tag/0", "scan-token", "grace-cookie", "csrf")
JSON = {"Accept": "application/json"}


def secret_forms(secret: str) -> dict[str, str]:
    """The secret and each derived key, in every form code tends to write bytes in."""
    raw = secret.encode()
    keys = {"secret": raw, **{purpose: derive_key(raw, purpose) for purpose in PURPOSES}}
    forms = {"secret": secret}
    for name, key in keys.items():
        forms[f"{name} hex"] = key.hex()
        forms[f"{name} HEX"] = key.hex().upper()
        forms[f"{name} base64"] = base64.b64encode(key).decode().rstrip("=")
        forms[f"{name} base64url"] = base64.urlsafe_b64encode(key).decode().rstrip("=")
        forms[f"{name} bytes repr"] = repr(key)[2:-1]  # b'\x8f…' without b''
    return forms


def leaks(text: str, password: str | None = DB_PASSWORD) -> list[str]:
    """Which secrets `text` holds (empty: none)."""
    found = [name for name, form in secret_forms(SECRET).items() if form in text]
    if password and password in text:
        found.append("database password")
    return found


@dataclass
class Known:
    settings: Settings
    password: str | None  # in the database URL; None on SQLite, which has none


@pytest.fixture
def known(settings: Settings) -> Known:
    """The test's database with SECRET as the server secret; on PostgreSQL reached through a
    URL with a password (the test server trusts local connections and ignores it)."""
    url, password = settings.database_url, None
    if url is not None:
        parsed = make_url(url)
        password = parsed.password or DB_PASSWORD
        url = parsed.set(password=password).render_as_string(hide_password=False)
    return Known(
        make_settings(settings.data_dir, url, secret_key=SECRET, allow_private_webhooks=True),
        password,
    )


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every record of every logger, as `serve` writes it (JSON, one object a line)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def seen(answer: Response) -> str:
    """What an answer shows the world: its headers (cookies included) and its body."""
    headers = "\n".join(f"{name}: {value}" for name, value in answer.headers.multi_items())
    return f"{headers}\n\n{answer.text}"


def shopper_and_portal_traffic(client: TestClient, code: str, email: str) -> list[Response]:
    """A genuine scan (its page carries a scan token and sets the grace cookie, both signed
    with derived keys), the grace period, an over-limit and a forged scan, a bad and a good
    login, and a portal page with its CSRF token."""
    forged = code[:-1] + ("0" if code[-1] != "0" else "1")
    genuine = client.get(f"/v/{code}?lang=en")
    assert "genuine" in genuine.text.lower()
    answers = [genuine, client.get(f"/v/{code}", headers=JSON)]  # within grace
    client.cookies.clear()
    over = client.get(f"/v/{code}", headers=JSON)  # another phone: over the limit
    assert over.json()["outcome"] == "over_limit"
    unknown = client.get(f"/v/{forged}", headers=JSON)
    assert unknown.status_code == 404
    answers += [over, unknown, client.get(f"/v/{forged}")]
    browser = Browser(client)
    refused = browser.login(email, "not-the-password")
    assert refused.status_code != 303  # not logged in
    assert browser.login(email).status_code == 303
    dashboard = client.get("/portal")
    csrf_of(dashboard.text)  # a form token, derived from the csrf key
    return [*answers, refused, dashboard]


def test_a_days_traffic_writes_no_secret_to_logs_or_answers(
    known: Known,
    engine,
    sessions,
    caplog: pytest.LogCaptureFixture,
    json_lines: io.StringIO,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger's records, DEBUG up
    settings = known.settings
    run = make_run(settings, engine, sessions, quantity=2, scan_limit=1)
    person = member(sessions, org_id=run.org_id)
    app = create_app(settings)

    async def broken(request: Request) -> None:
        # A bug that puts the settings into an error message, as a careless log call would.
        raise RuntimeError(f"cannot go on with {request.app.state.settings}")

    app.add_api_route("/broken", broken)
    answers: list[Response] = []
    with (
        TestClient(
            app,
            headers={"User-Agent": PHONE},
            raise_server_exceptions=False,
            follow_redirects=False,
        ) as client,
        webhook_receiver() as receiver,
    ):
        with session_scope(sessions) as session:
            channel = add_channel(
                session,
                Actor.command_line(run.org_id),
                kind="webhook",
                target=receiver.url,
                allow_private=True,
            )
            receiver.secret = channel.secret or ""
        answers += shopper_and_portal_traffic(client, run.codes[0], person.email)
        for headers in ({"Accept": "text/html"}, JSON):
            failed = client.get("/broken", headers=headers)
            assert failed.status_code == 500
            answers.append(failed)
        answers += [client.get("/healthz"), client.get("/readyz")]

        with session_scope(sessions) as session:
            assert process_outbox(session, utcnow()) == 1  # the over-limit scan's alert
        assert deliver_due(sessions, settings) == 1
    (delivered,) = receiver.requests
    assert delivered.verified

    logged = caplog.text + "\n".join(
        str(record.__dict__) for record in caplog.records
    )  # messages, arguments, tracebacks and every extra field
    written = json_lines.getvalue()
    # The capture worked: the 500's traceback and the access lines are in both.
    assert "RuntimeError: cannot go on with" in logged
    assert '"route": "/v/{code}"' in written
    assert "RuntimeError: cannot go on with" in written
    assert leaks(logged, known.password) == []
    assert leaks(written, known.password) == []
    for answer in answers:
        assert leaks(seen(answer), known.password) == [], answer.request.url.path
    webhook = f"{delivered.headers}\n{delivered.body.decode()}"
    assert leaks(webhook, known.password) == []


def test_settings_show_no_secret_token_or_password(tmp_path: Path) -> None:
    """repr() and str() of the settings, which a log call, an error message or a debugger
    prints whole, hide the secret, the metrics token and every URL's password; the values
    themselves are untouched."""
    settings = make_settings(
        tmp_path,
        f"postgresql://chinhhang:{DB_PASSWORD}@db.internal:5432/chinhhang",
        secret_key=SECRET,
        smtp_url=f"smtps://alerts:{SMTP_PASSWORD}@mail.internal:465",
        redis_url=f"redis://:{REDIS_PASSWORD}@cache.internal:6379/0",
        metrics_token=METRICS_TOKEN,
    )
    for shown in (repr(settings), str(settings), f"{settings!r}", repr(settings.keyring)):
        assert leaks(shown) == []
        for hidden in (SMTP_PASSWORD, REDIS_PASSWORD, METRICS_TOKEN):
            assert hidden not in shown
    shown = repr(settings)
    assert "db.internal" in shown  # where the database is stays visible
    assert "chinhhang:" in shown  # and as whom
    assert settings.secret_key == SECRET
    assert DB_PASSWORD in settings.sqlalchemy_url
    assert settings.smtp_url is not None
    assert SMTP_PASSWORD in settings.smtp_url


def test_a_refused_secret_is_not_echoed_in_the_error(tmp_path: Path) -> None:
    """A secret too short to accept is still somebody's secret (perhaps the real one, cut
    short by a bad paste): the error says what is wrong without repeating it."""
    short = "Sh0rt-but-real-" + "s3cr3t"
    with pytest.raises(ValidationError) as refused:
        make_settings(tmp_path, secret_key=short)
    assert "at least 32 characters" in str(refused.value)
    assert short not in str(refused.value)
    assert short not in repr(refused.value)


def test_the_command_line_prints_no_secret(tmp_path: Path) -> None:
    """What an operator's terminal (and any CI log that records it) sees, for commands that
    work, commands that fail, and settings that are refused."""
    env = cli_env(tmp_path, CHINHHANG_SECRET_KEY=SECRET)
    org = chinhhang(env, "org", "create", "--name", "Trà Thái Nguyên", "--kind", "manufacturer")
    assert org.returncode == 0, org.stderr
    org_id = org.stdout.strip()
    product = chinhhang(env, "product", "create", "--org", org_id, "--name", "Trà xanh")
    assert product.returncode == 0, product.stderr
    issued = chinhhang(
        env, "stamps", "issue", "--org", org_id, "--quantity", "2",
        "--product", product.stdout.strip(), "--activate",
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    done = [
        org,
        product,
        issued,
        chinhhang(env, "stamps", "export", issued.stdout.strip(), "--format", "csv", "--output=-"),
        chinhhang(env, "stamps", "export", "999", "--format", "csv", "--output", "-"),
        chinhhang(env, "--help"),
        # A database that does not answer, reached with a password.
        chinhhang(
            {**env, "CHINHHANG_DATABASE_URL": f"postgresql://u:{DB_PASSWORD}@127.0.0.1:1/x"},
            "db",
            "upgrade",
        ),
        # A secret refused for being short: the message must not repeat it.
        chinhhang({**env, "CHINHHANG_SECRET_KEY": SECRET[:31]}, "db", "upgrade"),
    ]
    assert done[3].returncode == 0
    assert "serial,code,url" in done[3].stdout  # the codes, by design: not the secret
    assert done[4].returncode == 2
    assert done[-1].returncode == 2
    assert "at least 32 characters" in done[-1].stderr
    for result in done:
        printed = result.stdout + result.stderr
        assert leaks(printed) == [], result.args
        assert SECRET[:31] not in printed, result.args
