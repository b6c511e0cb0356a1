"""Logging in: the password check, and the lockout that stops password guessing on one address.

The login throttle (10 tries a minute per network and per address, web.py) slows a guesser
down, but it forgets after a minute. The lockout is kept in the database, so every worker sees
it and a restart does not lift it: LOCK_AFTER wrong passwords in a row for one e-mail address,
each within FORGET_AFTER of the one before, lock the address for LOCK_FOR. While it is locked
every login to it is refused, the right password included, with a message that says so and in
how many minutes to try again (HTTP 429 with Retry-After: too many attempts, like the
throttle). A successful login clears the count; the lock ends by itself. The lock of an
account is written to the audit log of each of its organizations.

Addresses that have no account are counted the same way (`unknown_logins`, under a hash of the
address) and lock after as many failures, for as long, with the same message: otherwise the
sixth try would tell a guesser which addresses have an account. While an address is locked no
password is checked, whether it has an account or not, so both answers take the same time too.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import Membership, UnknownLogin, User
from chinhhang.accounts.passwords import MAX_PASSWORD_LENGTH, verify_password
from chinhhang.accounts.services.access import may
from chinhhang.accounts.services.audit import record
from chinhhang.accounts.services.users import find_user, normalise_email
from chinhhang.db import utcnow
from chinhhang.errors import DomainError, InvalidInput
from chinhhang.i18n import N_

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
# A pause this long between two wrong passwords starts the count again: a person who mistypes
# now and then is not locked out, and an unknown address's row can be deleted after it.
FORGET_AFTER = timedelta(minutes=15)
WRONG = N_("The e-mail address or the password is wrong.")
LOCKED = N_(
    "This account is temporarily locked after too many failed login attempts. "
    "Try again in %(minutes)s minutes."
)
LOCKED_A_MINUTE = N_(
    "This account is temporarily locked after too many failed login attempts. "
    "Try again in a minute."
)


class AccountLocked(DomainError):
    """Too many wrong passwords in a row for the address: no login until the lock ends."""

    status_code = 429


Tracked = User | UnknownLogin
_LOCKOUT_FIELDS = ("failed_logins", "last_failed_login_at", "locked_until")
_CLEARED = dict.fromkeys(_LOCKOUT_FIELDS) | {"failed_logins": 0}


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    client_net: str | None = None,
    now: datetime | None = None,
) -> User:
    """The account whose address and password these are.

    Raises InvalidInput with one message for a wrong address or a wrong password, so the answer
    does not tell which accounts exist; AccountLocked (with its Retry-After header) while the
    address is locked, whatever the password, and for the wrong password that locks it. Those
    failures are written to the session before raising: the caller commits them (the login page
    catches the error and answers with the form, so its unit of work commits).
    """
    now = now or utcnow()
    address = email.strip().lower()
    # Only text that can be an address is looked up: a NUL byte, say, is refused by
    # PostgreSQL itself (a 500), and no account can have it anyway.
    user = find_user(session, address) if _address_key(address) is not None else None
    tracked: Tracked | None = user if user is not None else _unknown(session, address)
    _refuse_if_locked(tracked, now)
    if verify_password(user.password_hash if user else None, password[:MAX_PASSWORD_LENGTH]):
        assert user is not None  # noqa: S101 - verify_password is False without a hash
        if not _clear(session, user, now):  # locked by a parallel guess during the check
            _refuse_if_locked(session.get(User, user.id, populate_existing=True), now)
        return user
    failures = _count_failure(session, user, address, now)
    if failures is None:  # another request locked it while this one checked the password
        _refuse_if_locked(user or _unknown(session, address), now)
    elif failures >= LOCK_AFTER:
        raise _locked(_lock(session, user, address, now, client_net), now)
    raise InvalidInput(WRONG)


def lock_ends(
    session: Session, actor: Actor, users: Iterable[User], now: datetime | None = None
) -> dict[int, datetime]:
    """When the lock of each of `users` that is locked now ends, by user id: for the members
    page, where those who manage members see who is locked out, and until when (everyone
    else gets nothing)."""
    if not may(session, actor, "manage_members"):
        return {}
    now = now or utcnow()
    return {user.id: end for user in users if (end := _lock_end(user, now)) is not None}


def _lock_end(tracked: Tracked | None, now: datetime) -> datetime | None:
    if tracked is None or tracked.locked_until is None or tracked.locked_until <= now:
        return None
    return tracked.locked_until


def _refuse_if_locked(tracked: Tracked | None, now: datetime) -> None:
    end = _lock_end(tracked, now)
    if end is not None:
        raise _locked(end, now)


def _locked(until: datetime, now: datetime) -> AccountLocked:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    if minutes > 1:
        error = AccountLocked(LOCKED, minutes=minutes)
    else:  # "in 1 minutes" reads badly, and the catalogue has no plural forms
        error = AccountLocked(LOCKED_A_MINUTE)
    error.headers["Retry-After"] = str(seconds)
    return error


def _address_key(address: str) -> str | None:
    """The key of an address in `unknown_logins`; None for text that is no e-mail address,
    which no account can have, so counting it would tell nobody anything."""
    try:
        return hashlib.sha256(normalise_email(address).encode()).hexdigest()
    except InvalidInput:
        return None


def _unknown(session: Session, address: str) -> UnknownLogin | None:
    """The address's row as stored now (rows are changed by statements, not through the ORM:
    a copy this session read earlier may be stale)."""
    key = _address_key(address)
    return session.get(UnknownLogin, key, populate_existing=True) if key is not None else None


def _clear(session: Session, user: User, now: datetime) -> bool:
    """A successful login: the count starts again. One conditional statement, not the values
    read before the password check: a parallel wrong guess may have locked the account in the
    0.2 s the check took, and that lock must win. False when it did."""
    cleared = session.execute(
        update(User)
        .where(User.id == user.id, _unlocked(User, now))
        .values(_CLEARED)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    ).first()
    session.expire(user, _LOCKOUT_FIELDS)
    return cleared is not None


def _counted(table: type[Tracked], now: datetime) -> ColumnElement[int]:
    """The failures in a row after one more at `now`: 1 when the last was long enough ago."""
    forgotten = or_(
        table.last_failed_login_at.is_(None), table.last_failed_login_at < now - FORGET_AFTER
    )
    return case((forgotten, 1), else_=table.failed_logins + 1)


def _unlocked(table: type[Tracked], now: datetime) -> ColumnElement[bool]:
    return or_(table.locked_until.is_(None), table.locked_until <= now)


def _count_failure(session: Session, user: User | None, address: str, now: datetime) -> int | None:
    """One more wrong password: the failures in a row now, or None if the address was locked
    meanwhile. One statement each, not read-then-write, so that requests failing at the same
    time are all counted (a burst is also bounded by the per-address throttle)."""
    if user is None:
        return _count_unknown_failure(session, address, now)
    statement = (
        update(User)
        .where(User.id == user.id, _unlocked(User, now))
        .values(failed_logins=_counted(User, now), last_failed_login_at=now)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    )
    failures: int | None = session.scalar(statement)
    session.expire(user, _LOCKOUT_FIELDS)  # read again from the row when next used
    return failures


def _count_unknown_failure(session: Session, address: str, now: datetime) -> int | None:
    """`_count_failure` for an address without an account: its row made or counted up."""
    key = _address_key(address)
    if key is None:
        return 0
    # Rows whose failures are forgotten and whose lock is over tell nothing any more.
    session.execute(
        delete(UnknownLogin).where(
            UnknownLogin.last_failed_login_at < now - FORGET_AFTER, _unlocked(UnknownLogin, now)
        )
    )
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(UnknownLogin).values(
        email_hash=key, failed_logins=1, last_failed_login_at=now
    )
    upsert = insert.on_conflict_do_update(
        index_elements=["email_hash"],
        set_={"failed_logins": _counted(UnknownLogin, now), "last_failed_login_at": now},
        where=_unlocked(UnknownLogin, now),
    )
    failures: int | None = session.scalar(upsert.returning(UnknownLogin.failed_logins))
    return failures


def _lock(
    session: Session, user: User | None, address: str, now: datetime, client_net: str | None
) -> datetime:
    """Lock the address until now + LOCK_FOR and start its count again; an account's lock goes
    to the audit log of each of its organizations, where its owners read it."""
    until = now + LOCK_FOR
    values = {"failed_logins": 0, "locked_until": until}
    if user is None:
        key = _address_key(address)
        session.execute(update(UnknownLogin).where(UnknownLogin.email_hash == key).values(values))
        return until
    session.execute(
        update(User).where(User.id == user.id).values(values),
        execution_options={"synchronize_session": False},
    )
    session.expire(user, _LOCKOUT_FIELDS)
    _audit_in_each_org(
        session,
        user,
        "user.lock",
        Actor(org_id=None, role=None, via="web", client_net=client_net),
        failures=LOCK_AFTER,
        until=until.isoformat(timespec="seconds"),
    )
    return until


def unlock(session: Session, email: str) -> bool:
    """The operator's way out of a lock (`chinhhang user unlock`): someone who knows an
    address can keep it locked, five guesses every 15 minutes, and its owner may need in now.
    True when the address was locked; an account's unlock goes to the same audit logs."""
    address = normalise_email(email)  # InvalidInput, saying why, for anything else
    user = find_user(session, address)
    tracked: Tracked | None = user if user is not None else _unknown(session, address)
    was_locked = _lock_end(tracked, utcnow()) is not None
    if user is None:
        session.execute(
            delete(UnknownLogin).where(UnknownLogin.email_hash == _address_key(address))
        )
        return was_locked
    session.execute(
        update(User).where(User.id == user.id).values(_CLEARED),
        execution_options={"synchronize_session": False},
    )
    session.expire(user, _LOCKOUT_FIELDS)
    _audit_in_each_org(session, user, "user.unlock", Actor(org_id=None, role=None, via="cli"))
    return was_locked


def _audit_in_each_org(
    session: Session, user: User, action: str, actor: Actor, **details: Any
) -> None:
    """An entry in the audit log of each of the user's organizations, where its owners read
    it (the platform operator, in none, gets one without an organization)."""
    org_ids: list[int | None] = list(
        session.scalars(
            select(Membership.org_id)
            .where(Membership.user_id == user.id)
            .order_by(Membership.org_id)
        )
    )
    for org_id in org_ids or [None]:
        record(
            session,
            replace(actor, org_id=org_id),
            action,
            f"user:{user.id}",
            email=user.email,
            **details,
        )
