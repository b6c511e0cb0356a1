"""The permission table and its document agree, and `require` enforces the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import ORG_KINDS, ROLES
from chinhhang.accounts.roles import PERMISSIONS, allows, markdown_table
from chinhhang.accounts.services import create_organization, require
from chinhhang.db import session_scope
from chinhhang.errors import Forbidden

DOC = Path(__file__).parents[3] / "docs" / "roles.md"


def test_the_document_shows_the_table_of_the_code() -> None:
    text = DOC.read_text()
    start = text.index("<!-- table:start -->") + len("<!-- table:start -->")
    end = text.index("<!-- table:end -->")
    assert text[start:end].strip() == markdown_table()


def test_a_viewer_may_only_look() -> None:
    changing = [a for a in PERMISSIONS if a not in ("view", "oversee")]
    for kind in ORG_KINDS:
        assert allows("view", role="viewer", kind=kind)
        assert not any(allows(a, role="viewer", kind=kind) for a in changing)


def test_only_manufacturers_touch_products_and_make_stamps() -> None:
    for action in ("manage_products", "issue_stamps", "export_codes"):
        for kind in ("distributor", "retailer", "regulator"):
            assert not any(allows(action, role=r, kind=kind) for r in ROLES)


def test_unknown_actions_are_never_allowed() -> None:
    assert not allows("delete_everything", role="owner", kind="manufacturer")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ORG_KINDS)
def test_require_follows_the_table(sessions, role: str, kind: str) -> None:
    with session_scope(sessions) as session:
        org = create_organization(session, name=f"{kind} {role}", kind=kind)
        actor = Actor(org_id=org.id, role=role, user_id=None)
        for action in PERMISSIONS:
            if allows(action, role=role, kind=kind):
                assert require(session, actor, action).id == org.id
            else:
                with pytest.raises(Forbidden):
                    require(session, actor, action)


def test_unapproved_organizations_cannot_put_stamps_into_the_world(sessions) -> None:
    with session_scope(sessions) as session:
        org = create_organization(session, name="Mới", kind="manufacturer", approved=False)
        actor = Actor(org_id=org.id, role="owner")
        require(session, actor, "manage_products")
        with pytest.raises(Forbidden, match="waiting for approval"):
            require(session, actor, "issue_stamps")
