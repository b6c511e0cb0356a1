"""A small world of organizations for authorization tests: every kind, every role, and for
each resource one "own" instance per organization, so a test can ask any actor for its own
thing and for another organization's.

Users share one password hash (argon2 on purpose costs ~50 ms a hash); sessions and tokens
are created directly through the services, no login form needed.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from dataclasses import dataclass, field

from PIL import Image
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import ROLES, Organization, User
from chinhhang.accounts.passwords import hash_password
from chinhhang.accounts.services import (
    add_membership,
    create_organization,
    invite,
    issue_token,
    start_session,
)
from chinhhang.alerts.models import Alert, AlertChannel, ShopperReport
from chinhhang.alerts.photos import clean_photo, save_photo
from chinhhang.alerts.reports import new_reference
from chinhhang.catalog.links import add_link
from chinhhang.catalog.services import create_product, save_batch
from chinhhang.config import Settings, derive_key
from chinhhang.db import session_scope, utcnow
from chinhhang.scans.models import ScanEvent
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.services import Selection, activate, create_run, fill_run, ship
from tests.factories import gtin

PASSWORD = "world password 1"
_HASH: list[str] = []
CSRF_COOKIE_VALUE = "world-csrf-cookie-value"
# Text only organization B's data contains: if it shows up in anyone else's answer, data leaked.
SECRET_MARK = "BÍ-MẬT-CỦA-B"


@dataclass
class OrgWorld:
    key: str
    id: int
    kind: str
    # role → (session cookie, API token)
    sessions: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    # resource type → id of an instance this organization owns (None: it has none)
    own: dict[str, int] = field(default_factory=dict)
    # for destructive routes: resource type → "role:api|portal" → an instance only that role's
    # requests through that channel touch
    spare: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class World:
    orgs: dict[str, OrgWorld]
    pending_org_id: int
    csrf_token: str

    def actor_cookie(self, org: str, role: str) -> str:
        return f"ch_session={self.orgs[org].sessions[role]}; ch_csrf={CSRF_COOKIE_VALUE}"


def csrf_token_for(settings: Settings) -> str:
    key = derive_key(settings.secret, "csrf")
    return hmac.new(key, CSRF_COOKIE_VALUE.encode(), hashlib.sha256).hexdigest()


def _user(session: Session, email: str) -> User:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    user = User(email=email, password_hash=_HASH[0])
    session.add(user)
    session.flush()
    return user


def _people(session: Session, world: OrgWorld) -> None:
    for role in ROLES:
        user = _user(session, f"{role}@{world.key}.world")
        add_membership(session, user_id=user.id, org_id=world.id, role=role)
        world.sessions[role] = start_session(session, user)
        org = session.get(Organization, world.id)
        assert org is not None
        world.tokens[role] = issue_token(
            session, org, role=role, name=f"{role} token", actor=Actor.command_line(world.id)
        ).secret
    owner = Actor.command_line(world.id)
    world.spare = {"members": {}, "tokens": {}, "invitations": {}}
    for role in ROLES:
        for channel in ("api", "portal"):
            slot = f"{role}:{channel}"
            extra = _user(session, f"spare-{role}-{channel}@{world.key}.world")
            world.spare["members"][slot] = add_membership(
                session, user_id=extra.id, org_id=world.id, role="viewer"
            ).id
            org = session.get(Organization, world.id)
            assert org is not None
            world.spare["tokens"][slot] = issue_token(
                session, org, role="viewer", name=f"spare {slot}", actor=owner
            ).token.id
            world.spare["invitations"][slot] = invite(
                session, owner, email=f"invited-{role}-{channel}@{world.key}.world", role="viewer"
            )[0].id


def _channels(session: Session, world: OrgWorld) -> None:
    """An alert channel to test and switch, and one per role and channel for the deleting
    route. E-mail: without SMTP a test fails at once, with no network. Stored directly (only
    managers of makers and regulators may add one), so every kind of organization has one."""
    mark = SECRET_MARK if world.key == "B" else world.key

    def channel(name: str) -> int:
        target = f"{mark}-{name}@{world.key.lower()}.world"
        row = AlertChannel(org_id=world.id, kind="email", target=target, active=True)
        session.add(row)
        session.flush()
        return row.id

    world.own["channels"] = channel("own")
    world.spare["channels"] = {
        f"{role}:{via}": channel(f"{role}-{via}") for role in ROLES for via in ("api", "portal")
    }


def build_world(settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> World:
    kinds = {
        "A": "manufacturer",
        "B": "manufacturer",
        "D": "distributor",
        "E": "distributor",
        "R": "retailer",
        "G": "regulator",
    }
    orgs: dict[str, OrgWorld] = {}
    with session_scope(sessions) as session:
        for key, kind in kinds.items():
            org = create_organization(session, name=f"Org {key}", kind=kind)
            orgs[key] = OrgWorld(key, org.id, kind)
            _people(session, orgs[key])
            _channels(session, orgs[key])
        pending = create_organization(session, name="Pending", kind="retailer", approved=False)
        pending_id = pending.id
    for key in ("A", "B"):
        _manufacturer_goods(settings, engine, sessions, orgs[key], orgs["D" if key == "A" else "E"])
    for key in ("D", "E"):
        orgs[key].own["shipments"] = orgs["A" if key == "D" else "B"].own["shipments"]
    return World(orgs, pending_id, csrf_token_for(settings))


def _links(session: Session, actor: Actor, maker: OrgWorld, product_id: int, mark: str) -> None:
    """A link everyone may edit, and one per role and channel for the deleting routes."""

    def link(name: str) -> int:
        href = f"https://{maker.key.lower()}.example/{name}"
        title = f"Trang {mark} {name}"
        return add_link(session, actor, product_id, link_type="gs1:pip", href=href, title=title).id

    maker.own["links"] = link("own")
    maker.spare["links"] = {
        f"{role}:{channel}": link(f"{role}-{channel}")
        for role in ROLES
        for channel in ("api", "portal")
    }


def _promotions(
    session: Session, actor: Actor, maker: OrgWorld, product_id: int, mark: str
) -> None:
    """A promotion everyone may edit, and one per role and channel for the deleting routes."""
    from chinhhang.catalog.promotions import create_promotion  # noqa: PLC0415
    from chinhhang.localtime import vietnam_today  # noqa: PLC0415

    def promotion(name: str) -> int:
        today = vietnam_today()
        return create_promotion(
            session,
            actor,
            title=f"KM {mark} {name}",
            starts_on=today,
            ends_on=today,
            product_ids=[product_id],
        ).id

    maker.own["promotions"] = promotion("own")
    maker.spare["promotions"] = {
        f"{role}:{channel}": promotion(f"{role}-{channel}")
        for role in ROLES
        for channel in ("api", "portal")
    }


def _manufacturer_goods(
    settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    maker: OrgWorld,
    distributor: OrgWorld,
) -> None:
    actor = Actor.command_line(maker.id)
    mark = SECRET_MARK if maker.key == "B" else maker.key
    with session_scope(sessions) as session:
        product = create_product(session, actor, name=f"Sản phẩm {mark}", gtin=gtin())
        batch = save_batch(session, actor, product_id=product.id, lot=f"LOT{maker.key}")
        run = create_run(session, actor, quantity=20)
        maker.own.update(products=product.id, batches=batch.id, runs=run.id)
        _links(session, actor, maker, product.id, mark)
        _promotions(session, actor, maker, product.id, mark)
    fill_run(engine, run, settings.keyring)
    with session_scope(sessions) as session:
        activate(session, actor, selection=Selection(run_id=run.id), product_id=product.id)
        first = run.first_sequence
        shipment = ship(
            session,
            actor,
            to_org_id=distributor.id,
            selection=Selection(first=first, last=first + 4),
            reference=f"ship {mark}",
        )
        maker.own["shipments"] = shipment.id
        maker.own["alerts"] = _alert(session, maker, product.id, mark)
        maker.own["scans"] = _genuine_scan(session, maker, run.id, product.id)
        maker.own["reports"] = _report(session, settings, maker, product.id, mark)


def _report(
    session: Session, settings: Settings, maker: OrgWorld, product_id: int, mark: str
) -> int:
    """A shopper's report on the maker's product, with a photo (the shop's name is marked)."""
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(picture, "PNG")
    report = ShopperReport(
        reference=new_reference(),
        org_id=maker.id,
        product_id=product_id,
        outcome="over_limit",
        shop_name=f"Cửa hàng {mark}",
        status="new",
        photo_file=save_photo(clean_photo(picture.getvalue()), settings.data_dir),
    )
    session.add(report)
    session.flush()
    return report.id


def _alert(session: Session, maker: OrgWorld, product_id: int, mark: str) -> int:
    """An alert of the maker's, as the alert worker would have made it (its note is marked)."""
    now = utcnow()
    alert = Alert(
        org_id=maker.id,
        reason="over_limit",
        category="likely_copy",
        status="open",
        product_id=product_id,
        scan_count=1,
        first_at=now,
        last_at=now,
        note=f"alert {mark}",
    )
    session.add(alert)
    session.flush()
    return alert.id


def _genuine_scan(session: Session, maker: OrgWorld, run_id: int, product_id: int) -> int:
    """The first genuine scan of the run's last stamp (never shipped), as the scan path writes
    it: what an owner may undo."""
    stamp = session.scalars(
        select(Stamp).where(Stamp.run_id == run_id).order_by(Stamp.sequence.desc()).limit(1)
    ).one()
    now = utcnow()
    stamp.scan_count, stamp.first_scanned_at = 1, now
    event = ScanEvent(
        kind="dynamic",
        outcome="genuine",
        stamp_code=stamp.code,
        product_id=product_id,
        org_id=maker.id,
        scan_number=1,
        scanned_at=now,
    )
    session.add(event)
    session.flush()
    return event.id
