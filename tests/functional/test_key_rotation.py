"""Key rotation as an operator does it (issue "security"): stamps from before and after a
rotation both verify; a forged tag under either key is turned away before any database work;
a key still carried by stamps that are not void cannot be retired, and once retired its codes
no longer verify."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry
from chinhhang.config import Settings
from chinhhang.db import make_engine, make_sessionmaker, session_scope, utcnow
from chinhhang.stamps import keyfile
from chinhhang.stamps.codes import ALPHABET, TAG_CHARS
from chinhhang.stamps.keyfile import load
from chinhhang.stamps.models import Stamp, StampRun
from chinhhang.stamps.services import Selection, fill_run, void
from chinhhang.stamps.services.keys import KeyInUse, key_statuses, retire_key, rotate_key
from chinhhang.web import create_app
from tests.conftest import PHONE, cli_env
from tests.factories import RunFixture, make_run
from tests.functional.test_cli import chinhhang


def _rotated(settings: Settings) -> Settings:
    """The same installation after a restart: the keyring is read afresh from the file."""
    return Settings(_env_file=None, **settings.model_dump())  # type: ignore[call-arg]


def _scan(settings: Settings, code: str) -> int:
    with TestClient(create_app(settings), headers={"User-Agent": PHONE}) as client:
        return client.get(f"/v/{code}").status_code


def _forged(code: str) -> str:
    """The same key id and random part with a different tag: what a forger without the key
    (or with the other key) produces."""
    tag = code[-TAG_CHARS:]
    other = "".join(ALPHABET[(ALPHABET.index(c) + 1) % len(ALPHABET)] for c in tag)
    return code[:-TAG_CHARS] + other


def _issue(settings: Settings) -> RunFixture:
    engine = make_engine(settings)
    try:
        return make_run(settings, engine, make_sessionmaker(engine), quantity=3, scan_limit=5)
    finally:
        engine.dispose()


def test_codes_from_before_and_after_a_rotation_verify(settings: Settings, sessions) -> None:
    before = _issue(settings)
    with session_scope(sessions) as session:
        new_id = rotate_key(session, settings.keyring_path, utcnow())
    assert new_id == 1
    rotated = _rotated(settings)
    assert rotated.keyring.current == 1
    after = _issue(rotated)
    assert before.codes[0][0] == "0"
    assert after.codes[0][0] == "1"
    with session_scope(sessions) as session:
        assert session.get(StampRun, after.run_id).key_id == 1
    # Both stamps are genuine on the restarted server; the old one on an old server too.
    assert _scan(rotated, before.codes[0]) == 200
    assert _scan(rotated, after.codes[0]) == 200
    assert _scan(settings, before.codes[1]) == 200


def test_a_forged_tag_under_either_key_is_refused_without_the_database(
    settings: Settings, sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _issue(settings)
    with session_scope(sessions) as session:
        rotate_key(session, settings.keyring_path, utcnow())
    rotated = _rotated(settings)
    after = _issue(rotated)
    app = create_app(rotated)
    store = app.state.scanner.store

    def no_database(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the scan path touched the database for a forged code")

    for way_in in ("_read", "_sqlite_writer", "_postgres"):  # every path to the database
        monkeypatch.setattr(store, way_in, no_database)
    with TestClient(app, headers={"User-Agent": PHONE}) as client:
        for code in (before.codes[0], after.codes[0]):
            assert client.get(f"/v/{_forged(code)}").status_code == 404
        # A code under key 0 with a tag made by key 1 (and the reverse) is forged too.
        for genuine, donor in (
            (before.codes[0], after.codes[0]),
            (after.codes[0], before.codes[0]),
        ):
            swapped = genuine[:-TAG_CHARS] + donor[-TAG_CHARS:]
            assert client.get(f"/v/{swapped}").status_code == 404
        # A key id that was never issued: no database either.
        assert client.get(f"/v/{'7' + after.codes[0][1:]}").status_code == 404


def test_a_key_in_use_cannot_be_retired_and_a_retired_key_verifies_nothing(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    before = _issue(settings)
    path = settings.keyring_path
    with session_scope(sessions) as session:
        rotate_key(session, path, utcnow())
    rotated = _rotated(settings)
    after = _issue(rotated)
    with session_scope(sessions) as session, pytest.raises(KeyInUse, match="3 stamps"):
        retire_key(session, path, 0, utcnow())
    assert 0 not in load(path).retired  # refused: nothing changed
    with session_scope(sessions) as session:
        void(session, _owner(before), selection=Selection(run_id=before.run_id))
    with session_scope(sessions) as session:
        retire_key(session, path, 0, utcnow())
    retired = _rotated(settings)
    assert 0 not in retired.keyring.keys
    assert _scan(retired, before.codes[0]) == 404  # its key is gone: forged, like any guess
    assert _scan(retired, after.codes[0]) == 200
    with session_scope(sessions) as session:
        states = {s.key_id: s.state for s in key_statuses(session, path, retired.keyring)}
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.org_id.is_(None)))
        assert {"key.rotate", "key.retire"} <= set(actions)
    assert states == {0: "retired", 1: "current"}


def _owner(run: RunFixture) -> Actor:
    return Actor.command_line(run.org_id)


def test_the_keys_command_rotates_lists_and_refuses_without_showing_a_secret(
    tmp_path: Path,
) -> None:
    env = cli_env(tmp_path / "data")
    rotated = chinhhang(env, "keys", "rotate", check=True)
    assert rotated.stdout.strip() == "1"
    listed = chinhhang(env, "keys", "list", check=True)
    lines = listed.stdout.strip().splitlines()
    assert [line.split("\t")[:2] for line in lines[1:]] == [["0", "active"], ["1", "current"]]
    refused = chinhhang(env, "keys", "retire", "1")
    assert refused.returncode == 2
    assert "current key" in refused.stderr
    key_file = tmp_path / "data" / "code_keys.json"
    assert key_file.stat().st_mode & 0o777 == 0o600
    secret = load(key_file).keys[1]
    for shown in (rotated, listed, refused):
        text = shown.stdout + shown.stderr
        assert base64.urlsafe_b64encode(secret).decode() not in text
        assert secret.hex() not in text


def test_a_run_filled_after_a_rotation_keeps_the_key_it_was_issued_under(
    settings: Settings, engine, sessions: sessionmaker[Session]
) -> None:
    """A run still being written when the servers restart on a new key (it resumes from
    `filled`) must not come out half under one key and half under the other."""
    started = make_run(settings, engine, sessions, quantity=2, state="issued")
    with session_scope(sessions) as session:
        run = session.get(StampRun, started.run_id)
        run.filled, run.quantity = 2, 4  # two stamps more to write, as after an interruption
        rotate_key(session, settings.keyring_path, utcnow())
    rotated = _rotated(settings)
    with session_scope(sessions) as session:
        run = session.get(StampRun, started.run_id)
    fill_run(engine, run, rotated.keyring)
    with session_scope(sessions) as session:
        codes = session.scalars(select(Stamp.code).where(Stamp.run_id == started.run_id))
        assert {code[0] for code in codes} == {"0"}


def test_a_running_server_follows_a_rotation_and_a_retirement_without_restart(
    settings: Settings, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Servers started before `keys rotate` issue under the new key and verify its codes;
    after `keys retire` none of them issues or accepts the retired key any more."""
    monkeypatch.setattr(keyfile, "RECHECK_SECONDS", 0.0)
    before = _issue(settings)
    with TestClient(create_app(settings), headers={"User-Agent": PHONE}) as client:
        with session_scope(sessions) as session:
            rotate_key(session, settings.keyring_path, utcnow())
        after = _issue(settings)  # the same settings object: no restart
        assert after.codes[0][0] == "1"
        assert client.get(f"/v/{after.codes[0]}").status_code == 200
        assert client.get(f"/v/{before.codes[0]}").status_code == 200
        with session_scope(sessions) as session:
            void(session, _owner(before), selection=Selection(run_id=before.run_id))
            retire_key(session, settings.keyring_path, 0, utcnow())
        assert client.get(f"/v/{before.codes[1]}").status_code == 404
        assert client.get(f"/v/{after.codes[1]}").status_code == 200
    assert settings.keyring.current == 1
    assert 0 not in settings.keyring.keys
