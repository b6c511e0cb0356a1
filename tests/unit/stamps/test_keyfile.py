"""The key file: ids only grow, secrets stay private and out of messages, and what verifies
is exactly the keys that are not retired."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chinhhang.stamps import keyfile
from chinhhang.stamps.codes import ALPHABET, InvalidCode, new_code, verify
from chinhhang.stamps.keyfile import (
    KeyFileError,
    KeyringWatch,
    fingerprint,
    load,
    retire,
    rotate,
)

NOW = datetime(2026, 11, 28, tzinfo=UTC)
DERIVED = b"d" * 32


def test_no_file_means_key_zero_only(tmp_path: Path) -> None:
    keyring = load(tmp_path / "keys.json").keyring(DERIVED)
    assert dict(keyring.keys) == {0: DERIVED}
    assert keyring.current == 0


def test_rotation_adds_a_current_key_and_keeps_the_old_ones_verifying(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    old = load(path).keyring(DERIVED)
    old_code = new_code(old)
    assert rotate(path, NOW) == 1
    assert rotate(path, NOW) == 2
    keyring = load(path).keyring(DERIVED)
    assert keyring.current == 2
    assert sorted(keyring.keys) == [0, 1, 2]
    assert len({keyring.keys[1], keyring.keys[2], DERIVED}) == 3  # independent secrets
    assert verify(keyring, old_code) == old_code
    assert new_code(keyring)[0] == "2"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_retired_id_is_never_given_again_and_its_codes_stop_verifying(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    rotate(path, NOW)
    one = new_code(load(path).keyring(DERIVED))
    rotate(path, NOW)
    retire(path, 1, NOW)
    key_file = load(path)
    assert 1 not in key_file.keys
    assert key_file.retired == {1: NOW.isoformat(timespec="seconds")}
    with pytest.raises(InvalidCode):
        verify(key_file.keyring(DERIVED), one)
    assert rotate(path, NOW) == 3
    assert "secret" not in json.dumps(json.loads(path.read_text())["retired"])


def test_the_derived_key_can_be_retired_like_any_other(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    rotate(path, NOW)
    retire(path, 0, NOW)
    assert sorted(load(path).keyring(DERIVED).keys) == [1]


@pytest.mark.parametrize(
    ("key_id", "message"),
    [(2, "current key"), (0, "retired already"), (9, "no key 9")],
)
def test_a_retirement_that_cannot_be_is_refused_and_changes_nothing(
    tmp_path: Path, key_id: int, message: str
) -> None:
    path = tmp_path / "keys.json"
    rotate(path, NOW)
    rotate(path, NOW)
    retire(path, 0, NOW)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match=message):
        retire(path, key_id, NOW)
    assert path.read_bytes() == before


def test_the_ids_run_out_after_one_base32_character(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    for expected in range(1, len(ALPHABET)):
        assert rotate(path, NOW) == expected
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="no further rotation"):
        rotate(path, NOW)
    assert path.read_bytes() == before


def test_a_damaged_file_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    rotate(path, NOW)
    secret_text = json.loads(path.read_text())["keys"][0]["secret"]
    path.write_text(path.read_text()[:-20])
    with pytest.raises(KeyFileError, match="not a valid key file") as refused:
        load(path)
    assert secret_text not in str(refused.value)


def test_a_short_key_or_a_current_key_without_a_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"current": 1, "keys": [], "retired": []}))
    with pytest.raises(KeyFileError, match="current key 1 has no secret"):
        load(path)
    path.write_text(
        json.dumps(
            {"current": 1, "keys": [{"id": 1, "secret": "c2hvcnQ=", "created": ""}], "retired": []}
        )
    )
    with pytest.raises(KeyFileError, match="shorter"):
        load(path)


def test_neither_the_keyring_nor_the_file_shows_a_key_in_its_repr(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    rotate(path, NOW)
    key_file = load(path)
    secret = key_file.keys[1]
    for shown in (repr(key_file), repr(key_file.keyring(DERIVED))):
        assert repr(secret) not in shown
        assert repr(DERIVED) not in shown
    assert fingerprint(secret) != fingerprint(DERIVED)
    assert len(fingerprint(secret)) == 12


def test_the_watch_follows_the_file_at_most_once_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys.json"
    clock = [1000.0]
    monkeypatch.setattr(keyfile.time, "monotonic", lambda: clock[0])
    watch = KeyringWatch(path, DERIVED)
    assert watch().current == 0
    rotate(path, NOW)
    assert watch().current == 0  # not looked at again within the second
    clock[0] += keyfile.RECHECK_SECONDS
    assert watch().current == 1
    assert sorted(watch().keys) == [0, 1]
    retire(path, 0, NOW)
    clock[0] += keyfile.RECHECK_SECONDS
    assert sorted(watch().keys) == [1]


def test_the_watch_keeps_the_last_good_keys_when_the_file_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys.json"
    rotate(path, NOW)
    clock = [1000.0]
    monkeypatch.setattr(keyfile.time, "monotonic", lambda: clock[0])
    watch = KeyringWatch(path, DERIVED)
    path.write_text("{ half a file")
    clock[0] += keyfile.RECHECK_SECONDS
    assert watch().current == 1
    assert sorted(watch().keys) == [0, 1]
