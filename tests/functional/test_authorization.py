"""The authorization matrix, generated from the application's route table.

Every route under /portal and /api/v1 either is public (listed below), or needs only a login
(listed below), or declares the permission it needs with `Requires(action)`. A new route that
is none of these fails `test_every_route_is_classified`. For every protected route, every
kind of organization, every role, and the organization's own resource / another
organization's resource / no login, the expected answer comes from the one permission table
(accounts/roles.py):
- not allowed by the table → 403;
- allowed, but the resource is another organization's → 404 (a regulator may read it);
- allowed, own resource → anything but 401/403/404 (400 or 409 for a sample body that does
  not fit the current state is fine: authorization let it through);
- no login → 401 (API) or a redirect to the login page (portal);
- never a 5xx, and nobody but B itself and the regulator ever sees B's marked text.
Mutating routes need a sample request body (SAMPLES); a new mutating route without one fails.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from PIL import Image

from chinhhang.accounts.models import ROLES
from chinhhang.accounts.roles import allows
from chinhhang.deps import Requires
from chinhhang.web import create_app
from tests.world import CSRF_COOKIE_VALUE, SECRET_MARK, World, build_world

# Routes anyone may use.
PUBLIC = {
    ("GET", "/portal/login"),
    ("POST", "/portal/login"),
    ("GET", "/portal/register"),
    ("POST", "/portal/register"),
    ("GET", "/portal/invitations/{token}"),
    ("POST", "/portal/invitations/{token}"),
    ("POST", "/portal/logout"),
    ("GET", "/api/v1/openapi.json"),
    # A shopper's warranty: registering takes a genuine scan's token, lookups are throttled.
    ("POST", "/api/v1/warranty"),
    ("POST", "/api/v1/warranty/lookup"),
    # A shopper's report (no account; throttled per client).
    ("POST", "/api/v1/reports"),
}
# Routes for any signed-in person, whatever the organization and role.
SIGNED_IN = {
    ("GET", "/portal/password"),
    ("POST", "/portal/password"),
    ("POST", "/portal/switch"),
}
# Resource types whose instances belong to an organization, by the path segment before the id.
OWNED = {
    "products": "products",
    "runs": "runs",
    "shipments": "shipments",
    "batches": "batches",
    "members": "members",
    "tokens": "tokens",
    "invitations": "invitations",
    "links": "links",
    "promotions": "promotions",
    "alerts": "alerts",
    "channels": "channels",
    "reports": "reports",
    "scans": "scans",
}
# Destructive actions get an instance of their own per role (see tests/world.py `spare`).
SPARE = {"members", "tokens", "invitations"}
# Resources whose edits share the one own instance but whose removal needs a spare one.
SPARE_TO_REMOVE = {"links", "promotions", "channels"}
# Actions whose data a regulator may read across organizations.
# Reports too: market-control agencies work every report (SPEC section 7).
OVERSEEABLE = {"view", "oversee", "work_reports"}
KIND_OF = {"A": "manufacturer", "D": "distributor", "R": "retailer", "G": "regulator"}

# Sample bodies for mutating routes: JSON for the API, form fields for the portal.
# "{runs}" stands for the id of the asked organization's run (own or B's), "{org:D}" for the
# id of organization D, "__file__" for a small PNG sent as that multipart field.
SAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/promotions"): {
        "title": "KM",
        "starts_on": "2026-01-01",
        "ends_on": "2026-01-31",
        "product_ids": ["{products}"],
    },
    ("PATCH", "/api/v1/promotions/{promotion_id}"): {"title": "KM mới"},
    ("PUT", "/api/v1/promotions/{promotion_id}/image"): {"__file__": "file"},
    ("DELETE", "/api/v1/promotions/{promotion_id}"): {},
    ("POST", "/portal/promotions/new"): {
        "title": "KM",
        "starts_on": "2026-01-01",
        "ends_on": "2026-01-31",
        "product_ids": "{products}",
    },
    ("POST", "/portal/promotions/{promotion_id}"): {
        "title": "KM mới",
        "starts_on": "2026-01-01",
        "ends_on": "2026-01-31",
        "product_ids": "{products}",
    },
    ("POST", "/portal/promotions/{promotion_id}/delete"): {},
    ("POST", "/api/v1/organizations/{org_id}/approve"): {},
    ("PATCH", "/api/v1/organization"): {"address": "Số 2, Hà Nội"},
    ("PATCH", "/api/v1/members/{membership_id}"): {"role": "viewer"},
    ("DELETE", "/api/v1/members/{membership_id}"): {},
    ("POST", "/api/v1/invitations"): {"email": "moi@example.vn", "role": "viewer"},
    ("DELETE", "/api/v1/invitations/{invitation_id}"): {},
    ("POST", "/api/v1/tokens"): {"name": "script", "role": "viewer"},
    ("DELETE", "/api/v1/tokens/{token_id}"): {},
    ("POST", "/api/v1/products"): {"name": "Sản phẩm mới"},
    ("PATCH", "/api/v1/products/{product_id}"): {"brand": "Thương hiệu"},
    ("PUT", "/api/v1/products/{product_id}/image"): {"__file__": "file"},
    ("POST", "/api/v1/products/{product_id}/batches"): {"lot": "MATRIX1"},
    ("POST", "/api/v1/products/{product_id}/links"): {
        "link_type": "gs1:pip",
        "href": "https://example.vn/p",
        "title": "Trang",
    },
    ("PATCH", "/api/v1/products/{product_id}/links/{link_id}"): {"title": "Trang mới"},
    ("DELETE", "/api/v1/products/{product_id}/links/{link_id}"): {},
    ("POST", "/api/v1/runs"): {"quantity": 1, "product_id": "{products}"},
    ("POST", "/api/v1/stamps/activate"): {"run_id": "{runs}", "product_id": "{products}"},
    ("POST", "/api/v1/stamps/void"): {"run_id": "{runs}"},
    ("POST", "/api/v1/shipments"): {"to_org_id": "{org:R}", "run_id": "{runs}"},
    # The staff scanner's look-up; its other actions check their own permissions (services).
    ("POST", "/portal/scan"): {"action": "lookup", "codes": "not a stamp"},
    ("POST", "/api/v1/shipments/{shipment_id}/receive"): {},
    ("POST", "/api/v1/runs/{run_id}/exports"): {"format": "csv"},
    ("POST", "/portal/members/invite"): {"email": "moi@example.vn", "role": "viewer"},
    ("POST", "/portal/members/{membership_id}/role"): {"role": "viewer"},
    ("POST", "/portal/members/{membership_id}/remove"): {},
    ("POST", "/portal/members/invitations/{invitation_id}/revoke"): {},
    ("POST", "/portal/members/profile"): {"address": "Số 2, Hà Nội", "website": ""},
    ("POST", "/portal/tokens"): {"name": "script", "role": "viewer"},
    ("POST", "/portal/tokens/{token_id}/revoke"): {},
    ("POST", "/portal/organizations/{org_id}/approve"): {},
    ("POST", "/portal/products/new"): {"name": "Sản phẩm mới"},
    ("POST", "/portal/products/{product_id}"): {"name": "Tên mới"},
    ("POST", "/portal/products/{product_id}/image"): {"__file__": "image"},
    ("POST", "/portal/products/{product_id}/batches"): {"lot": "MATRIX1"},
    ("POST", "/portal/products/{product_id}/links"): {
        "link_type": "gs1:pip",
        "href": "https://example.vn/p",
        "title": "Trang",
    },
    ("POST", "/portal/products/{product_id}/links/{link_id}/default"): {},
    ("POST", "/portal/products/{product_id}/links/{link_id}/delete"): {},
    ("POST", "/portal/runs/new"): {"quantity": "1", "product_id": "{products}"},
    ("POST", "/portal/runs/{run_id}/activate"): {"product_id": "{products}", "scope": "run"},
    ("POST", "/portal/runs/{run_id}/void"): {"scope": "run"},
    ("POST", "/portal/shipments/new"): {"to_org_id": "{org:R}", "scope": "run", "run_id": "{runs}"},
    ("POST", "/portal/shipments/{shipment_id}/receive"): {},
    ("POST", "/portal/runs/{run_id}/export"): {"format": "csv"},
    ("POST", "/api/v1/alerts/{alert_id}/triage"): {
        "status": "acknowledged",
        "category": "likely_copy",
    },
    ("POST", "/portal/alerts/{alert_id}"): {"status": "acknowledged", "category": "likely_copy"},
    ("POST", "/portal/alerts/channels"): {"kind": "email", "target": "canhbao@example.vn"},
    ("POST", "/portal/alerts/channels/{channel_id}/test"): {},
    ("POST", "/portal/alerts/channels/{channel_id}/deactivate"): {},
    ("POST", "/portal/alerts/channels/{channel_id}/activate"): {},
    ("POST", "/portal/alerts/channels/{channel_id}/delete"): {},
    ("POST", "/api/v1/reports/{report_id}/status"): {"status": "investigating", "note": "matrix"},
    ("POST", "/portal/reports/{report_id}/status"): {"status": "investigating", "note": "matrix"},
    ("POST", "/api/v1/scans/{scan_id}/undo"): {},
    ("POST", "/portal/scans/{scan_id}/undo"): {},
}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, "PNG")
    return out.getvalue()


PNG = _png()


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    action: str | None

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")


def _requires(dependant: Any) -> list[str]:
    found = []
    for dependency in getattr(dependant, "dependencies", []):
        if isinstance(dependency.call, Requires):
            found.append(dependency.call.action)
        found.extend(_requires(dependency))
    return found


def endpoints(app: Any) -> Iterator[Endpoint]:
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if not (path.startswith("/portal") or path.startswith("/api/v1")):
            continue
        dependant = getattr(context, "dependant", None)
        actions = sorted(set(_requires(dependant))) if dependant is not None else []
        for method in sorted(context.methods or ()):
            if method == "HEAD":
                continue
            yield Endpoint(
                method,
                path,
                actions[0] if len(actions) == 1 else ("<several>" if actions else None),
            )


def test_every_route_is_classified(sqlite_settings) -> None:
    app = create_app(sqlite_settings)
    problems = []
    for endpoint in endpoints(app):
        key = (endpoint.method, endpoint.path)
        if key in PUBLIC or key in SIGNED_IN:
            continue
        if endpoint.action is None:
            problems.append(f"{key}: neither public nor Requires(...)")
        elif endpoint.action == "<several>":
            problems.append(f"{key}: more than one Requires(...)")
        elif endpoint.method != "GET" and key not in SAMPLES:
            problems.append(f"{key}: a mutating route needs a SAMPLES body")
    assert not problems, "\n".join(problems)


def _url(endpoint: Endpoint, world: World, role: str, whose: str) -> str | None:
    """The path with ids of `whose` organization's resources; None if it has none."""
    parts = endpoint.path.split("/")
    for index, part in enumerate(parts):
        if not part.startswith("{"):
            continue
        kind = OWNED.get(parts[index - 1])
        if parts[index - 1] == "organizations":
            parts[index] = str(world.pending_org_id)
            continue
        if kind is None:
            raise AssertionError(f"{endpoint.path}: no rule for the id {part}")
        owner = world.orgs[whose]
        removes = endpoint.method == "DELETE" or endpoint.path.endswith("/delete")
        if kind in SPARE or (kind in SPARE_TO_REMOVE and removes):
            channel = "api" if endpoint.api else "portal"
            if kind not in owner.spare:  # e.g. a distributor has no promotions to remove
                return None
            parts[index] = str(owner.spare[kind][f"{role}:{channel}"])
        elif kind in owner.own:
            parts[index] = str(owner.own[kind])
        else:
            return None
    return "/".join(parts)


def _expected(endpoint: Endpoint, kind: str, role: str, foreign: bool) -> str:
    assert endpoint.action is not None
    if not allows(endpoint.action, role=role, kind=kind):
        return "deny"
    if foreign and not (kind == "regulator" and endpoint.action in OVERSEEABLE):
        return "hidden"
    return "allow"


def _verdict(status: int, location: str) -> str:
    if status >= 500:
        return "error"
    if status == 401 or (status in (302, 303, 307) and "/portal/login" in location):
        return "login"
    if status == 403:
        return "deny"
    if status == 404:
        return "hidden"
    return "allow"


def _fill(value: Any, world: World, whose: str, api: bool) -> Any:
    """ "{runs}" → the id of `whose` organization's run; "{org:D}" → organization D's id."""
    if not (isinstance(value, str) and value.startswith("{") and value.endswith("}")):
        return value
    name = value[1:-1]
    if name.startswith("org:"):
        found: int = world.orgs[name[4:]].id
    else:
        own = world.orgs[whose].own.get(name)
        if own is None:
            return None
        found = own
    return found if api else str(found)


def _body(endpoint: Endpoint, world: World, whose: str) -> dict[str, Any] | None:
    sample = SAMPLES.get((endpoint.method, endpoint.path), {})
    body = {k: _fill(v, world, whose, endpoint.api) for k, v in sample.items()}
    return None if any(v is None for v in body.values()) else body


def _refers_to_resources(endpoint: Endpoint) -> bool:
    sample = SAMPLES.get((endpoint.method, endpoint.path), {})
    in_body = any(
        isinstance(v, str) and v.startswith("{") and not v.startswith("{org:")
        for v in sample.values()
    )
    return in_body or ("{" in endpoint.path and "/organizations/{" not in endpoint.path)


def _send(
    client: TestClient,
    world: World,
    endpoint: Endpoint,
    url: str,
    body: dict[str, Any],
    who: tuple[str, str] | None,
) -> Any:
    headers: dict[str, str] = {}
    client.cookies.clear()
    if who is not None:
        org, role = who
        if endpoint.api:
            headers["Authorization"] = f"Bearer {world.orgs[org].tokens[role]}"
        else:
            headers["Cookie"] = world.actor_cookie(org, role)
    elif not endpoint.api:  # a valid form from a browser that is not logged in
        headers["Cookie"] = f"ch_csrf={CSRF_COOKIE_VALUE}"
    if endpoint.method == "GET":
        return client.get(url, headers=headers)
    files = {body.pop("__file__"): ("p.png", PNG, "image/png")} if "__file__" in body else None
    if endpoint.api and files is None:
        return client.request(endpoint.method, url, json=body, headers=headers)
    if not endpoint.api:
        body = {"csrf_token": world.csrf_token, **body}
    return client.request(endpoint.method, url, data=body, files=files, headers=headers)


def test_the_matrix(settings, engine, sessions) -> None:
    world = build_world(settings, engine, sessions)
    app = create_app(settings)
    failures: list[str] = []
    checked = 0
    with TestClient(app, follow_redirects=False) as client:
        for endpoint in endpoints(app):
            key = (endpoint.method, endpoint.path)
            if key in PUBLIC or endpoint.action in (None, "<several>"):
                continue
            own_url = _url(endpoint, world, "owner", "A")
            assert own_url is not None, key
            anonymous = _send(
                client, world, endpoint, own_url, _body(endpoint, world, "A") or {}, None
            )
            if _verdict(anonymous.status_code, anonymous.headers.get("location", "")) != "login":
                failures.append(f"{key} anonymous: {anonymous.status_code}")
            if key in SIGNED_IN:
                continue
            for org, kind in KIND_OF.items():
                for role in ROLES:
                    for foreign in (False, True) if _refers_to_resources(endpoint) else (False,):
                        whose = "B" if foreign else org
                        url = _url(endpoint, world, role, whose)
                        body = _body(endpoint, world, whose)
                        if url is None or body is None:
                            continue  # the organization has nothing of that kind to ask for
                        response = _send(client, world, endpoint, url, body, (org, role))
                        checked += 1
                        got = _verdict(response.status_code, response.headers.get("location", ""))
                        want = _expected(endpoint, kind, role, foreign)
                        if got != want:
                            failures.append(
                                f"{key} {org}/{kind}/{role} {'foreign' if foreign else 'own'}: "
                                f"want {want}, got {response.status_code} {response.text[:120]!r}"
                            )
                        if kind != "regulator" and SECRET_MARK in response.text:
                            failures.append(f"{key} {org}/{role}: shows organization B's data")
    assert checked > 500
    assert not failures, "\n".join(failures[:60]) + f"\n({len(failures)} in all)"
