"""A product's GS1 Digital Link links: what is accepted, how the default moves, who may."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import AuditEntry
from chinhhang.accounts.services import create_organization
from chinhhang.catalog.links import (
    add_link,
    delete_link,
    list_links,
    set_default_link,
    update_link,
)
from chinhhang.catalog.models import ProductLink
from chinhhang.catalog.services import create_product
from chinhhang.db import session_scope
from chinhhang.errors import Forbidden, InvalidInput, NotFound
from tests.factories import gtin

PAGE = {"link_type": "gs1:pip", "href": "https://nuicao.example/tra", "title": "Trà Núi Cao"}


def _maker(session, kind: str = "manufacturer") -> tuple[Actor, int]:
    org = create_organization(session, name=f"Org {gtin()}", kind=kind)
    actor = Actor.command_line(org.id)
    if kind != "manufacturer":
        return actor, 0
    return actor, create_product(session, actor, name="Trà", gtin=gtin()).id


def _links(session, product_id: int) -> list[ProductLink]:
    query = select(ProductLink).where(ProductLink.product_id == product_id)
    return list(session.scalars(query.order_by(ProductLink.id)))


@pytest.mark.parametrize("written", ["gs1:pip", "pip", "https://gs1.org/voc/pip", " gs1:pip "])
def test_every_spelling_of_a_link_type_is_stored_as_a_compact_iri(sessions, written) -> None:
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        link = add_link(session, actor, product, **{**PAGE, "link_type": written})
        assert link.link_type == "gs1:pip"
        assert (link.lot, link.hreflang, link.is_default) == ("", None, False)


def test_a_link_for_a_lot_needs_no_batch_and_keeps_its_details(sessions) -> None:
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        link = add_link(
            session,
            actor,
            product,
            **PAGE,
            hreflang="en-US",
            lot="L2611",
            media_type="Text/HTML",
        )
        assert (link.lot, link.hreflang, link.media_type) == ("L2611", "en-US", "text/html")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("link_type", "gs1:warranty", "Unknown link type"),
        ("link_type", "", "Unknown link type"),
        ("href", "javascript:alert(1)", "http:// or https://"),
        ("href", "/relative/page", "http:// or https://"),
        ("href", "https://", "http:// or https://"),
        ("href", "http://[broken", "http:// or https://"),
        ("href", "https://example.vn:99999/", "http:// or https://"),
        ("href", "https://example.vn/a b", "http:// or https://"),
        ("href", "https://example.vn/" + "x" * 500, "http:// or https://"),
        ("href", "https://example.vn/\u0000", "not allowed"),
        ("title", "  ", "title of 1 to 200"),
        ("title", "x" * 201, "title of 1 to 200"),
        ("title", "two\nlines", "title of 1 to 200"),
        ("hreflang", "vietnamese!", "language tag"),
        ("hreflang", "v", "language tag"),
        ("lot", "has space", "lot number"),
        ("lot", "x" * 21, "lot number"),
        ("media_type", "html", "media type"),
    ],
)
def test_bad_fields_are_refused_clearly_and_nothing_is_stored(
    sessions, field, value, message
) -> None:
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        with pytest.raises(InvalidInput) as refused:
            add_link(session, actor, product, **{**PAGE, field: value})
        assert message in str(refused.value)
        assert _links(session, product) == []


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(href=st.text(max_size=80), title=st.text(max_size=20), hreflang=st.text(max_size=12))
def test_any_text_is_stored_or_refused_with_invalid_input(sessions, href, title, hreflang) -> None:
    with sessions() as session:
        actor, product = _maker(session)
        try:
            link = add_link(
                session, actor, product, link_type="pip", href=href, title=title, hreflang=hreflang
            )
        except InvalidInput:
            assert _links(session, product) == []
        else:
            assert link.href.startswith(("http://", "https://", "HTTP://", "HTTPS://"))
        session.rollback()


def test_a_new_default_takes_the_flag_from_the_previous_one_of_its_lot(sessions) -> None:
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        first = add_link(session, actor, product, **PAGE, is_default=True)
        lot_default = add_link(session, actor, product, **PAGE, lot="L1", is_default=True)
        second = add_link(session, actor, product, **PAGE, hreflang="en", is_default=True)
        assert [link.is_default for link in (first, lot_default, second)] == [False, True, True]
        set_default_link(session, actor, product, first.id)
        session.expire_all()
        defaults = [link.id for link in _links(session, product) if link.is_default]
        assert defaults == [first.id, lot_default.id]


def test_moving_a_default_link_to_another_lot_takes_that_lots_flag(sessions) -> None:
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        moving = add_link(session, actor, product, **PAGE, is_default=True)
        there = add_link(session, actor, product, **PAGE, lot="L1", is_default=True)
        update_link(session, actor, product, moving.id, lot="L1")
        session.expire_all()
        assert (moving.lot, moving.is_default, there.is_default) == ("L1", True, False)


def test_an_edit_changes_only_what_is_given_and_none_clears_the_language(sessions) -> None:
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        link = add_link(session, actor, product, **PAGE, hreflang="vi", is_default=True)
        update_link(session, actor, product, link.id, title="Mới", hreflang=None)
        assert (link.title, link.hreflang, link.href, link.is_default) == (
            "Mới",
            None,
            PAGE["href"],
            True,
        )
        update_link(session, actor, product, link.id, is_default=False)
        assert link.is_default is False


@pytest.mark.parametrize(
    "changes",
    [{"href": None}, {"title": ""}, {"is_default": "yes"}, {"product_id": 2}, {"href": "ftp://x"}],
)
def test_a_bad_edit_changes_nothing(sessions, changes) -> None:
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        link = add_link(session, actor, product, **PAGE)
        with pytest.raises(InvalidInput):
            update_link(session, actor, product, link.id, **changes)
        session.expire_all()
        assert (link.href, link.title, link.is_default) == (PAGE["href"], PAGE["title"], False)


def test_delete_removes_the_link_and_every_change_is_audited(sessions) -> None:
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        link = add_link(session, actor, product, **PAGE)
        update_link(session, actor, product, link.id, title="Mới")
        set_default_link(session, actor, product, link.id)
        delete_link(session, actor, product, link.id)
        assert list_links(session, actor, product) == []
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.target == f"link:{link.id}").order_by(AuditEntry.id)
        ).all()
        assert [e.action for e in entries] == [
            "link.add",
            "link.edit",
            "link.default",
            "link.delete",
        ]
        assert json.loads(entries[1].details or "{}")["fields"] == ["title"]


def test_another_organizations_product_or_link_is_not_found(sessions) -> None:
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        other, other_product = _maker(session)
        link = add_link(session, actor, product, **PAGE)
        own_other_product = create_product(session, actor, name="Khác").id
        count = session.scalar(select(func.count()).select_from(ProductLink))
        with pytest.raises(NotFound):
            add_link(session, other, product, **PAGE)
        for call in (update_link, set_default_link, delete_link):
            with pytest.raises(NotFound):
                call(session, other, product, link.id)
            with pytest.raises(NotFound):  # the link under another product of its maker
                call(session, actor, own_other_product, link.id)
        with pytest.raises(NotFound):
            delete_link(session, other, other_product, link.id)
        assert session.scalar(select(func.count()).select_from(ProductLink)) == count


def test_viewers_and_other_kinds_may_read_but_not_change(sessions) -> None:
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        add_link(session, actor, product, **PAGE)
        viewer = Actor(org_id=actor.org_id, role="viewer", user_id=None)
        assert len(list_links(session, viewer, product)) == 1
        with pytest.raises(Forbidden):
            add_link(session, viewer, product, **PAGE)
        distributor, _ = _maker(session, "distributor")
        with pytest.raises(Forbidden):
            add_link(session, distributor, product, **PAGE)
        with pytest.raises(NotFound):
            list_links(session, distributor, product)
        regulator, _ = _maker(session, "regulator")
        assert len(list_links(session, regulator, product)) == 1


def test_a_deleted_links_id_is_never_given_again(sessions) -> None:
    # SQLite reused the id of the last row deleted, so the audit log's "link N" named two links.
    with session_scope(sessions) as session:
        actor, product = _maker(session)
        gone = add_link(session, actor, product, **PAGE)
        gone_id = gone.id
        delete_link(session, actor, product, gone_id)
        session.flush()
        assert add_link(session, actor, product, **PAGE).id > gone_id
