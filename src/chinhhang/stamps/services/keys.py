"""Code-tag key rotation's rules: which stamps use a key, and when a key may be retired.

A key is in use while a stamp tagged with it is not void (an issued roll may still be applied
and scanned; a stamp over its limit is still answered "copied"), or while a run under it is
still being filled. Retiring such a key would turn real stamps into "forged" answers, so it is
refused with the count. The secrets themselves stay in the key file (stamps/keyfile.py); the
audit log records each change by key id and fingerprint, never the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services.audit import record
from chinhhang.stamps import keyfile
from chinhhang.stamps.codes import Keyring
from chinhhang.stamps.models import VOID, Stamp, StampRun

# The operator at the server's command line, acting for the platform (no organization).
PLATFORM_OPERATOR = Actor(org_id=None, role=None, platform_admin=True, via="cli")


class KeyInUse(keyfile.KeyFileError):
    """Stamps that are not void still carry this key."""


@dataclass(frozen=True, slots=True)
class KeyStatus:
    key_id: int
    state: str  # "current", "active" (verifies) or "retired"
    since: str  # created (or retired) at; "" for the key derived from the server secret
    fingerprint: str  # "" once retired
    stamps_in_use: int


def stamps_in_use(session: Session, key_id: int) -> int:
    """Stamps under `key_id` that a shopper may still scan, plus those not yet written."""
    live = session.scalar(
        select(func.count())
        .select_from(Stamp)
        .join(StampRun, StampRun.id == Stamp.run_id)
        .where(StampRun.key_id == key_id, Stamp.status != VOID)
    )
    unwritten = session.scalar(
        select(func.coalesce(func.sum(StampRun.quantity - StampRun.filled), 0)).where(
            StampRun.key_id == key_id
        )
    )
    return int(live or 0) + int(unwritten or 0)


def key_statuses(session: Session, path: Path, keyring: Keyring) -> list[KeyStatus]:
    """Every key id ever given, for `keys list`: a fingerprint to compare servers' files by,
    never the key, and how many stamps would answer "forged" if it were retired."""
    key_file = keyfile.load(path)
    statuses = []
    for kid in key_file.ids():
        if kid in key_file.retired:
            state, since, mark = "retired", key_file.retired[kid], ""
        else:
            state = "current" if kid == key_file.current else "active"
            since, mark = key_file.created.get(kid, ""), keyfile.fingerprint(keyring.keys[kid])
        statuses.append(KeyStatus(kid, state, since, mark, stamps_in_use(session, kid)))
    return statuses


def rotate_key(session: Session, path: Path, now: datetime) -> int:
    """A new current key for new runs; the old ones keep verifying."""
    new_id = keyfile.rotate(path, now)
    fingerprint = keyfile.fingerprint(keyfile.load(path).keys[new_id])
    record(session, PLATFORM_OPERATOR, "key.rotate", f"key:{new_id}", fingerprint=fingerprint)
    session.flush()  # on record now: a rotation must not be left without its entry
    return new_id


def retire_key(session: Session, path: Path, key_id: int, now: datetime) -> None:
    """Erase a key no stamp needs any more; refused (KeyInUse) while one does."""
    in_use = stamps_in_use(session, key_id)
    if in_use:
        raise KeyInUse(
            f"{in_use:,} stamps that are not void use key {key_id}; void them "
            "(or wait until their runs are void) before retiring it"
        )
    keyfile.retire(path, key_id, now)
    record(session, PLATFORM_OPERATOR, "key.retire", f"key:{key_id}")
