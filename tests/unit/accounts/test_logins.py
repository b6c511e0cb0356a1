"""The login lockout on its clock: wrong passwords in a row lock an address for a while, an
account or not, and the count is forgotten after a pause or a successful login."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry, UnknownLogin, User
from chinhhang.accounts.services import (
    AccountLocked,
    add_membership,
    authenticate,
    create_organization,
    create_user,
    lock_ends,
    logins,
    unlock,
)
from chinhhang.accounts.services.logins import FORGET_AFTER, LOCK_AFTER, LOCK_FOR
from chinhhang.db import session_scope, utcnow
from chinhhang.errors import DomainError, InvalidInput

PASSWORD = "correct horse battery"


def _hash(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()


def _answer(session, email: str, password: str, now) -> tuple[int, str]:
    """(status, message) of one login: 200 and the e-mail for a success."""
    try:
        return 200, authenticate(session, email, password, now=now).email
    except DomainError as error:
        return error.status_code, error.message % error.values if error.values else error.message


def _owner(session, email: str, org_name: str):
    """(organization, user): the user an owner of a new manufacturer, so locks are audited."""
    org = create_organization(session, name=org_name, kind="manufacturer")
    user = create_user(session, email=email, password=PASSWORD)
    add_membership(session, user_id=user.id, org_id=org.id, role="owner")
    return org, user


def test_the_fifth_wrong_password_locks_until_the_lock_ends(sessions) -> None:
    now = utcnow()
    with session_scope(sessions) as session:
        org, user = _owner(session, "an@example.vn", "Khóa")
        for _ in range(LOCK_AFTER - 1):
            with pytest.raises(InvalidInput):
                authenticate(session, "an@example.vn", "wrong password", now=now)
        with pytest.raises(AccountLocked) as locked:
            authenticate(session, "an@example.vn", "wrong password", now=now)
        assert locked.value.headers["Retry-After"] == str(int(LOCK_FOR.total_seconds()))
        assert locked.value.values == {"minutes": 15}
        owner = Actor.command_line(org.id)
        assert lock_ends(session, owner, [user], now) == {user.id: now + LOCK_FOR}
        viewer = Actor(org_id=org.id, role="viewer")  # who may not manage members sees none
        assert lock_ends(session, viewer, [user], now) == {}
        just_before = now + LOCK_FOR - timedelta(seconds=30)
        with pytest.raises(AccountLocked) as still:
            authenticate(session, "an@example.vn", PASSWORD, now=just_before)
        assert "Try again in a minute." in still.value.message
        assert authenticate(session, "an@example.vn", PASSWORD, now=now + LOCK_FOR) is user
        assert (user.failed_logins, user.locked_until) == (0, None)


def test_a_pause_or_a_success_starts_the_count_again(sessions) -> None:
    now = utcnow()
    with session_scope(sessions) as session:
        user = create_user(session, email="binh@example.vn", password=PASSWORD)
        for step in range(LOCK_AFTER - 1):
            _answer(session, user.email, "wrong password", now + step * timedelta(seconds=1))
        later = now + timedelta(seconds=LOCK_AFTER) + FORGET_AFTER
        assert _answer(session, user.email, "wrong password", later)[0] == 400
        assert user.failed_logins == 1
        for _ in range(LOCK_AFTER - 2):
            _answer(session, user.email, "wrong password", later)
        assert _answer(session, user.email, PASSWORD, later)[0] == 200
        assert user.failed_logins == 0
        assert _answer(session, user.email, "wrong password", later)[0] == 400


def test_an_address_without_an_account_locks_alike_and_is_forgotten(sessions) -> None:
    now = utcnow()
    with session_scope(sessions) as session:
        org, user = _owner(session, "chi@example.vn", "Nhà máy A")
        answers = {}
        for email in ("chi@example.vn", "nobody@example.vn"):
            answers[email] = [
                _answer(session, email, "wrong password", now) for _ in range(LOCK_AFTER)
            ] + [_answer(session, email, PASSWORD, now)]
        assert answers["chi@example.vn"] == answers["nobody@example.vn"]
        assert answers["nobody@example.vn"][-1][0] == 429
        stored = session.scalars(select(UnknownLogin.email_hash)).all()
        assert stored == [_hash("nobody@example.vn")]  # a hash, not the address
        # Only the account's lock is audited, in its organization's log.
        lock = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.lock")).one()
        assert (lock.org_id, lock.target) == (org.id, f"user:{user.id}")
        # Once forgotten and unlocked, the next failure elsewhere deletes the row.
        _answer(session, "other@example.vn", "wrong password", now + LOCK_FOR + FORGET_AFTER)
        stored = session.scalars(select(UnknownLogin.email_hash)).all()
        assert stored == [_hash("other@example.vn")]


def test_text_that_is_no_address_is_not_counted(sessions) -> None:
    now = utcnow()
    with session_scope(sessions) as session:
        for _ in range(LOCK_AFTER + 1):
            assert _answer(session, "not an address", PASSWORD, now)[0] == 400
        assert session.scalar(select(func.count()).select_from(UnknownLogin)) == 0
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_a_lock_made_while_the_right_password_is_checked_wins(sessions, monkeypatch) -> None:
    """Guesses in parallel: the lock that a wrong guess sets during the right password's
    0.2 s check (written here as that other request would) is not undone by the success
    that read the account before it."""
    now = utcnow()
    check = logins.verify_password
    with session_scope(sessions) as session:
        user = create_user(session, email="race@example.vn", password=PASSWORD)
        user_id = user.id

        def check_while_another_locks(hashed: str | None, password: str) -> bool:
            session.execute(
                update(User)
                .where(User.id == user_id)
                .values(
                    failed_logins=LOCK_AFTER, last_failed_login_at=now, locked_until=now + LOCK_FOR
                )
                .execution_options(synchronize_session=False)
            )
            return check(hashed, password)

        monkeypatch.setattr(logins, "verify_password", check_while_another_locks)
        with pytest.raises(AccountLocked):
            authenticate(session, "race@example.vn", PASSWORD, now=now)
    with session_scope(sessions) as session:
        stored = session.get(User, user_id)
        assert stored is not None
        assert stored.locked_until == now + LOCK_FOR


@pytest.mark.parametrize("email", ["an\x00@example.vn", "\x00", "a@b\x00.vn", "x" * 300])
def test_text_no_account_can_have_is_refused_without_a_look_up(sessions, email: str) -> None:
    with session_scope(sessions) as session, pytest.raises(InvalidInput):
        authenticate(session, email, PASSWORD, now=utcnow())


def test_the_operator_unlocks_an_address_at_once_and_it_is_audited(sessions) -> None:
    now = utcnow()
    with session_scope(sessions) as session:
        org, user = _owner(session, "locked@example.vn", "Mở khóa")
        for _ in range(LOCK_AFTER):
            _answer(session, "locked@example.vn", "wrong password", now)
        assert unlock(session, " Locked@Example.vn ") is True
        assert authenticate(session, "locked@example.vn", PASSWORD) is user
        assert unlock(session, "locked@example.vn") is False  # nothing to do, said so
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.org_id == org.id))
        assert "user.unlock" in set(actions)
        for _ in range(LOCK_AFTER):  # an address without an account: its count is dropped
            _answer(session, "nobody@example.vn", "wrong password", now)
        assert unlock(session, "nobody@example.vn") is True
        with pytest.raises(InvalidInput):
            authenticate(session, "nobody@example.vn", "wrong password", now=utcnow())
        with pytest.raises(InvalidInput):
            unlock(session, "not an address")
