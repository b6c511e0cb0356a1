"""Users, sessions, invitations, members, API tokens and the audit log."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry, LoginSession
from chinhhang.accounts.services import (
    accept_invitation,
    add_membership,
    audit_entries,
    authenticate,
    change_member_role,
    change_password,
    create_organization,
    create_token,
    create_user,
    find_invitation,
    invite,
    members,
    remove_member,
    revoke_token,
    signed_in,
    start_session,
    switch_organization,
    token_actor,
)
from chinhhang.accounts.services.sessions import IDLE_TIMEOUT
from chinhhang.db import session_scope
from chinhhang.errors import Conflict, Forbidden, InvalidInput, NotFound

PASSWORD = "correct horse battery"


def _org_with_owner(session, name: str = "Nhà máy A", kind: str = "manufacturer"):
    org = create_organization(session, name=name, kind=kind)
    user = create_user(session, email=f"owner@{org.id}.example", password=PASSWORD)
    membership = add_membership(session, user_id=user.id, org_id=org.id, role="owner")
    return org, user, Actor(org_id=org.id, role="owner", user_id=user.id), membership


def test_e_mail_is_one_account_whatever_its_case(sessions) -> None:
    with session_scope(sessions) as session:
        create_user(session, email="  An@Example.VN ", password=PASSWORD)
        with pytest.raises(Conflict):
            create_user(session, email="an@example.vn", password=PASSWORD)
        assert authenticate(session, "AN@example.vn", PASSWORD).email == "an@example.vn"


@pytest.mark.parametrize(
    ("email", "password"),
    [("not-an-email", PASSWORD), ("a@b.vn", "short"), ("a@b.vn", "x" * 201), ("", PASSWORD)],
)
def test_bad_accounts_are_refused(sessions, email: str, password: str) -> None:
    with session_scope(sessions) as session, pytest.raises(InvalidInput):
        create_user(session, email=email, password=password)


def test_wrong_password_and_unknown_address_give_one_message(sessions) -> None:
    with session_scope(sessions) as session:
        create_user(session, email="b@example.vn", password=PASSWORD)
        messages = set()
        for email, password in (("b@example.vn", "wrong password"), ("nobody@x.vn", PASSWORD)):
            with pytest.raises(InvalidInput) as raised:
                authenticate(session, email, password)
            messages.add(raised.value.message)
        assert len(messages) == 1


def test_sessions_end_on_password_change_and_when_idle(sessions) -> None:
    with session_scope(sessions) as session:
        _org, user, actor, _m = _org_with_owner(session)
        token = start_session(session, user)
        found = signed_in(session, token, None)
        assert found is not None
        assert found.actor.org_id == actor.org_id
        assert found.actor.role == "owner"
        other = start_session(session, user)
        change_password(session, actor, user, current=PASSWORD, new="a new password here")
        assert signed_in(session, token, None) is None
        assert signed_in(session, other, None) is None
        fresh = start_session(session, user)
        login = session.scalars(select(LoginSession)).one()
        login.last_seen_at -= IDLE_TIMEOUT + timedelta(seconds=1)
        assert signed_in(session, fresh, None) is None
        with pytest.raises(InvalidInput):
            change_password(session, actor, user, current="wrong one!", new="whatever else")


def test_switching_only_to_ones_own_organizations(sessions) -> None:
    with session_scope(sessions) as session:
        org, user, _actor, _m = _org_with_owner(session)
        other = create_organization(session, name="Khác", kind="distributor")
        token = start_session(session, user)
        found = signed_in(session, token, None)
        assert found is not None
        with pytest.raises(NotFound):
            switch_organization(session, found.login, other.id)
        add_membership(session, user_id=user.id, org_id=other.id, role="viewer")
        switch_organization(session, found.login, other.id)
        again = signed_in(session, token, None)
        assert again is not None
        assert again.actor.org_id == other.id
        assert again.actor.role == "viewer"
        assert {o.id for _r, o in again.organizations} == {org.id, other.id}


def test_invitation_is_used_once(sessions) -> None:
    with session_scope(sessions) as session:
        org, _user, owner, _m = _org_with_owner(session)
        _invitation, token = invite(session, owner, email="new@example.vn", role="operator")
        user = accept_invitation(session, token, password=PASSWORD, name="Người mới")
        assert ("operator", user.id) in {(m.role, u.id) for m, u in members(session, owner)}
        with pytest.raises(NotFound):
            find_invitation(session, token)
        with pytest.raises(NotFound):
            accept_invitation(session, token, password=PASSWORD)
        assert org.id == owner.org_id


def test_admins_cannot_make_owners_and_an_owner_always_remains(sessions) -> None:
    with session_scope(sessions) as session:
        org, _user, owner, owner_membership = _org_with_owner(session)
        admin_user = create_user(session, email="admin@example.vn", password=PASSWORD)
        admin_m = add_membership(session, user_id=admin_user.id, org_id=org.id, role="admin")
        admin = Actor(org_id=org.id, role="admin", user_id=admin_user.id)
        with pytest.raises(Forbidden):
            invite(session, admin, email="x@example.vn", role="owner")
        with pytest.raises(Forbidden):
            change_member_role(session, admin, admin_m.id, "owner")
        with pytest.raises(Forbidden):
            remove_member(session, admin, owner_membership.id)
        with pytest.raises(Conflict):
            change_member_role(session, owner, owner_membership.id, "viewer")
        viewer = Actor(org_id=org.id, role="viewer", user_id=admin_user.id)
        with pytest.raises(Forbidden):
            remove_member(session, viewer, admin_m.id)
        remove_member(session, owner, admin_m.id)
        assert len(members(session, owner)) == 1


def test_tokens_are_scoped_revocable_and_never_stronger_than_their_maker(sessions) -> None:
    with session_scope(sessions) as session:
        org, _user, owner, _m = _org_with_owner(session)
        admin = Actor(org_id=org.id, role="admin", user_id=None)
        with pytest.raises(Forbidden):
            create_token(session, admin, role="owner", name="too strong")
        new = create_token(session, owner, role="viewer", name="báo cáo")
        assert new.secret.startswith("chh_")
        assert new.token.token_hash != new.secret
        actor = token_actor(session, new.secret, "10.0.0.0/24")
        assert actor is not None
        assert (actor.org_id, actor.role, actor.via) == (org.id, "viewer", "api")
        revoke_token(session, owner, new.token.id)
        assert token_actor(session, new.secret, None) is None
        assert token_actor(session, "chh_" + "x" * 43, None) is None
        other, *_ = _org_with_owner(session, "Nhà máy B")
        with pytest.raises(NotFound):  # another organization's token does not exist for us
            revoke_token(session, Actor(org_id=other.id, role="owner"), new.token.id)


def test_every_change_is_audited_and_read_by_owners_and_regulators(sessions) -> None:
    with session_scope(sessions) as session:
        org, _user, owner, _m = _org_with_owner(session)
        create_token(session, owner.at("192.0.2.0/24"), role="viewer", name="audit me")
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "token.create")).one()
        assert (entry.org_id, entry.user_id, entry.client_net) == (
            org.id,
            owner.user_id,
            "192.0.2.0/24",
        )
        assert audit_entries(session, owner)[0].action == "token.create"
        with pytest.raises(Forbidden):
            audit_entries(session, Actor(org_id=org.id, role="admin"))
        regulator = create_organization(session, name="QLTT", kind="regulator")
        inspector = Actor(org_id=regulator.id, role="viewer")
        assert audit_entries(session, inspector, org_id=org.id)
        stranger, *_ = _org_with_owner(session, "Nhà máy C")
        with pytest.raises(NotFound):
            audit_entries(session, Actor(org_id=stranger.id, role="owner"), org_id=org.id)


def test_a_members_tokens_die_with_their_rights(sessions) -> None:
    with session_scope(sessions) as session:
        org, _user, owner, _m = _org_with_owner(session)
        admin_user = create_user(session, email="quantri@example.vn", password=PASSWORD)
        membership = add_membership(session, user_id=admin_user.id, org_id=org.id, role="admin")
        admin = Actor(org_id=org.id, role="admin", user_id=admin_user.id)
        strong = create_token(session, admin, role="admin", name="mạnh").secret
        weak = create_token(session, admin, role="viewer", name="yếu").secret
        change_member_role(session, owner, membership.id, "operator")
        assert token_actor(session, strong, None) is None
        assert token_actor(session, weak, None) is not None
        remove_member(session, owner, membership.id)
        assert token_actor(session, weak, None) is None


def test_an_existing_account_joins_only_while_logged_in_as_itself(sessions) -> None:
    with session_scope(sessions) as session:
        _org, _user, owner, _m = _org_with_owner(session)
        someone = create_user(session, email="co-tai-khoan@example.vn", password=PASSWORD)
        _invitation, token = invite(session, owner, email=someone.email, role="viewer")
        with pytest.raises(Forbidden, match="log in as"):
            accept_invitation(session, token, password=PASSWORD)  # the password is no key
        stranger = create_user(session, email="nguoi-khac@example.vn", password=PASSWORD)
        with pytest.raises(Forbidden):
            accept_invitation(session, token, signed_in_user=stranger)
        assert accept_invitation(session, token, signed_in_user=someone).id == someone.id


def test_two_sign_ups_with_one_address_at_once_make_one_account(sessions) -> None:
    outcomes: list[str] = []
    first_flushed = threading.Event()

    def second() -> None:
        first_flushed.wait(10)
        try:
            with session_scope(sessions) as session:
                create_user(session, email="dua@example.vn", password=PASSWORD)
            outcomes.append("created")
        except Conflict:
            outcomes.append("refused")

    racer = threading.Thread(target=second)
    racer.start()
    with session_scope(sessions) as session:
        create_user(session, email="dua@example.vn", password=PASSWORD)
        first_flushed.set()
        time.sleep(0.3)  # the second is now past its check, waiting on our row or lock
    racer.join(30)
    assert outcomes == ["refused"]
