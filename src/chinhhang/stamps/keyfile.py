"""The code-tag keys after the first: a small JSON file beside the server secret.

Key 0 is derived from the server secret, so an installation that never rotates needs no file.
`chinhhang keys rotate` adds key 1, 2, … as fresh random secrets (never derived from the server
secret, so a rotation after that secret leaked gives new runs a key the thief does not have),
and makes the newest the one new runs are tagged with. Every key not retired keeps verifying:
a stamp's first character names its key (stamps/codes.py), so old and new stamps verify side
by side without a database look-up. A retired key's secret is erased from the file, and its
id is never given again (a code under it must never verify again).

The file holds secrets: it is written whole and then renamed into place (a reader sees the old
file or the new one, never half of one), mode 600, and nothing here ever prints a secret.
This module is pure file handling; the rule that a key still used by active stamps cannot be
retired needs the database and lives in stamps/services/keys.py.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256
from pathlib import Path

from chinhhang.stamps.codes import ALPHABET, Keyring

log = logging.getLogger(__name__)

KEY_FILE = "code_keys.json"
RECHECK_SECONDS = 1.0
KEY_BYTES = 32
DERIVED_KEY_ID = 0  # the key made from the server secret


class KeyFileError(ValueError):
    """The key file cannot be read, or the change asked of it is not allowed."""


@dataclass(frozen=True, slots=True)
class KeyFile:
    """What the file says: the rotated keys' secrets, the current id, the retired ids."""

    current: int = DERIVED_KEY_ID
    keys: dict[int, bytes] = field(default_factory=dict, repr=False)
    created: dict[int, str] = field(default_factory=dict)
    retired: dict[int, str] = field(default_factory=dict)

    def ids(self) -> list[int]:
        """Every id ever given, the derived key's included, in order."""
        return sorted({DERIVED_KEY_ID, *self.keys, *self.retired})

    def keyring(self, derived_key: bytes) -> Keyring:
        """The keys that verify: the derived one unless retired, and each rotated one."""
        keys = dict(self.keys)
        if DERIVED_KEY_ID not in self.retired:
            keys[DERIVED_KEY_ID] = derived_key
        return Keyring(keys, current=self.current)


class KeyringWatch:
    """The keyring as the file says now: a running server follows `keys rotate` and `keys
    retire` within a second, with no restart. Otherwise a server started before a rotation
    would go on issuing under the old key, even after it was retired elsewhere, and would
    refuse the new key's codes.

    Called on every scan, so it looks at the file (one stat) at most once a second and builds
    the keyring only when the file changed. A file that cannot be read later keeps the last
    good keyring (and says so in the log): a half-copied file must not stop the scans. At
    start-up, a bad file is an error (`Settings.keyring`).
    """

    def __init__(self, path: Path, derived_key: bytes) -> None:
        self.path = path
        self._derived_key = derived_key
        self._signature = self._stat()
        self._keyring = load(path).keyring(derived_key)
        self._next_check = time.monotonic() + RECHECK_SECONDS

    def __call__(self) -> Keyring:
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + RECHECK_SECONDS
            signature = self._stat()
            if signature != self._signature:
                self._reload(signature)
        return self._keyring

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _reload(self, signature: tuple[int, int, int] | None) -> None:
        try:
            self._keyring = load(self.path).keyring(self._derived_key)
        except (KeyFileError, ValueError) as error:
            log.error("the key file changed and cannot be read; keeping the keys: %s", error)
            return
        self._signature = signature
        log.info(
            "code-tag keys reloaded from %s (current key %s)", self.path, self._keyring.current
        )


def fingerprint(key: bytes) -> str:
    """A short name for a key that says nothing about it: to compare two servers' files."""
    return sha256(b"chinhhang key fingerprint:" + key).hexdigest()[:12]


def load(path: Path) -> KeyFile:
    """The file at `path`, or the empty file (only key 0) when there is none."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return KeyFile()
    except OSError as error:
        raise KeyFileError(f"{path} cannot be read: {error.strerror}") from None
    try:
        data = json.loads(raw)
        key_file = KeyFile(
            current=int(data["current"]),
            keys={int(k["id"]): base64.urlsafe_b64decode(k["secret"]) for k in data["keys"]},
            created={int(k["id"]): str(k["created"]) for k in data["keys"]},
            retired={int(k["id"]): str(k["retired"]) for k in data["retired"]},
        )
    except (ValueError, KeyError, TypeError):
        # Never the file's text in the message: it holds secrets.
        raise KeyFileError(f"{path} is not a valid key file; restore it from your backup") from None
    _check(path, key_file)
    return key_file


def _check(path: Path, key_file: KeyFile) -> None:
    if key_file.current in key_file.retired or (
        key_file.current != DERIVED_KEY_ID and key_file.current not in key_file.keys
    ):
        raise KeyFileError(f"{path}: the current key {key_file.current} has no secret")
    if any(not 0 <= kid < len(ALPHABET) for kid in (*key_file.keys, *key_file.retired)):
        raise KeyFileError(f"{path}: a key id is outside 0-{len(ALPHABET) - 1}")
    if any(len(key) < KEY_BYTES for key in key_file.keys.values()):
        raise KeyFileError(f"{path}: a key is shorter than {KEY_BYTES} bytes")
    if set(key_file.keys) & set(key_file.retired):
        raise KeyFileError(f"{path}: a key is both active and retired")


def rotate(path: Path, now: datetime) -> int:
    """Add a fresh key and make it current; the new id. Ids are never reused, and one base32
    character holds 32 of them."""
    with _locked(path):
        key_file = load(path)
        new_id = max(key_file.ids()) + 1
        if new_id >= len(ALPHABET):
            raise KeyFileError(
                f"all {len(ALPHABET)} key ids have been used; no further rotation is possible"
            )
        _save(
            path,
            KeyFile(
                current=new_id,
                keys={**key_file.keys, new_id: secrets.token_bytes(KEY_BYTES)},
                created={**key_file.created, new_id: now.isoformat(timespec="seconds")},
                retired=key_file.retired,
            ),
        )
    return new_id


def retire(path: Path, key_id: int, now: datetime) -> None:
    """Erase a key's secret for good. The current key cannot go (new runs need it); whether
    stamps still use the key is the caller's to check first (stamps/services/keys.py)."""
    with _locked(path):
        _retire(path, load(path), key_id, now)


def _retire(path: Path, key_file: KeyFile, key_id: int, now: datetime) -> None:
    if key_id in key_file.retired:
        raise KeyFileError(f"key {key_id} is retired already")
    if key_id not in key_file.ids():
        raise KeyFileError(f"there is no key {key_id}")
    if key_id == key_file.current:
        raise KeyFileError(f"key {key_id} is the current key: rotate first")
    remaining = {kid: key for kid, key in key_file.keys.items() if kid != key_id}
    _save(
        path,
        KeyFile(
            current=key_file.current,
            keys=remaining,
            created={kid: at for kid, at in key_file.created.items() if kid in remaining},
            retired={**key_file.retired, key_id: now.isoformat(timespec="seconds")},
        ),
    )


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One change at a time: two rotations at once would otherwise both take the same id."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _save(path: Path, key_file: KeyFile) -> None:
    data = {
        "current": key_file.current,
        "keys": [
            {
                "id": kid,
                "secret": base64.urlsafe_b64encode(key).decode("ascii"),
                "created": key_file.created.get(kid, ""),
            }
            for kid, key in sorted(key_file.keys.items())
        ],
        "retired": [{"id": kid, "retired": at} for kid, at in sorted(key_file.retired.items())],
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            _keep_owner(path, handle.fileno())
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _sync_folder(path.parent)  # the rename itself survives a crash: runs use the new key
    finally:
        temporary.unlink(missing_ok=True)


def _keep_owner(path: Path, fd: int) -> None:
    """`sudo chinhhang keys rotate` must not leave a file only root can read: the servers,
    running as their own user, would refuse to start. The new file keeps the old one's owner."""
    if os.geteuid() != 0:
        return
    try:
        old = os.stat(path)
    except FileNotFoundError:
        old = os.stat(path.parent)  # a first file: the folder's owner (the service user's)
    os.fchown(fd, old.st_uid, old.st_gid)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
