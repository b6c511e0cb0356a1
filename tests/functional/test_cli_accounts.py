"""`chinhhang user create`, `token create` and `org approve`: the first accounts (SPEC 5)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from chinhhang.accounts.services import token_actor
from chinhhang.db import make_engine, make_sessionmaker, session_scope
from chinhhang.web import create_app
from tests.conftest import cli_env, make_settings
from tests.functional.test_cli import chinhhang

PASSWORD = "mật khẩu đủ dài"


def _ok(env: dict[str, str], *args: str) -> str:
    done = chinhhang(env, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_first_owner_logs_in_and_a_token_acts_for_its_org(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    org = _ok(env, "org", "create", "--name", "Công ty B", "--kind", "manufacturer")
    user = _ok(
        env,
        "user",
        "create",
        "--email",
        "Chu@B.vn",
        "--org",
        org,
        "--role",
        "owner",
        "--password",
        PASSWORD,
    )
    assert user.isdigit()
    token = _ok(env, "token", "create", "--org", org, "--role", "operator", "--name", "ERP")
    assert token.startswith("chh_")
    settings = make_settings(tmp_path)
    engine = make_engine(settings)
    with session_scope(make_sessionmaker(engine)) as session:
        actor = token_actor(session, token, None)
        assert actor is not None
        assert (actor.org_id, actor.role) == (int(org), "operator")
    engine.dispose()
    with TestClient(create_app(settings), follow_redirects=False) as client:
        form = client.get("/portal/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        answer = client.post(
            "/portal/login",
            data={"email": "chu@b.vn", "password": PASSWORD, "csrf_token": csrf.group(1)},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/portal"
        cookie = answer.headers["set-cookie"]
        assert "ch_session=" in cookie
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()


def test_password_is_asked_for_twice_when_not_given(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    org = _ok(env, "org", "create", "--name", "Kho C", "--kind", "distributor")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chinhhang",
            "user",
            "create",
            "--email",
            "kho@c.vn",
            "--org",
            org,
            "--role",
            "viewer",
        ],
        env=env,
        input=f"{PASSWORD}\n{PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout


def test_bad_accounts_and_tokens_are_clear_errors(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    org = _ok(env, "org", "create", "--name", "Công ty D", "--kind", "manufacturer")
    cases = [
        (
            [
                "user",
                "create",
                "--email",
                "x@d.vn",
                "--org",
                org,
                "--role",
                "boss",
                "--password",
                PASSWORD,
            ],
            "Unknown role",
        ),
        (
            [
                "user",
                "create",
                "--email",
                "x@d.vn",
                "--org",
                org,
                "--role",
                "owner",
                "--password",
                "short",
            ],
            "password",
        ),
        (
            [
                "user",
                "create",
                "--email",
                "nope",
                "--org",
                org,
                "--role",
                "owner",
                "--password",
                PASSWORD,
            ],
            "e-mail",
        ),
        (
            [
                "user",
                "create",
                "--email",
                "x@d.vn",
                "--org",
                "999",
                "--role",
                "owner",
                "--password",
                PASSWORD,
            ],
            "No such organization",
        ),
        (["token", "create", "--org", "999", "--role", "viewer"], "No such organization"),
        (["token", "create", "--org", org, "--role", "god"], "Unknown role"),
        (["org", "approve", org], "already approved"),
    ]
    for args, message in cases:
        done = chinhhang(env, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
    assert "Traceback" not in done.stderr
