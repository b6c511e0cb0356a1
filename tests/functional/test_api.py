"""The JSON API over HTTP, on SQLite and PostgreSQL: every endpoint's happy path, tokens,
paging, and the custody chain from issuing to a retailer's shelf."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from chinhhang.stamps.serials import serial_for
from tests.api_helpers import (
    STAMPS_PER_RUN,
    bearer,
    table_counts,
    wait_for_run,
)

API = "/api/v1"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def walk(client, path: str, headers, cursor: str, limit: int) -> list[dict]:
    """Every item of a paged list, following `next` until it is null."""
    items: list[dict] = []
    params: dict[str, object] = {"limit": limit}
    for _ in range(100):
        body = client.get(path, headers=headers, params=params).json()
        assert len(body["items"]) <= limit
        items += body["items"]
        if body["next"] is None:
            return items
        params[cursor] = body["next"]
    raise AssertionError("paging did not end")


# --- who is asking --------------------------------------------------------------------------


def test_me_names_the_tokens_organization_and_role(client, world) -> None:
    response = client.get(f"{API}/me", headers=world.maker.auth("operator"))
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "operator"
    assert body["token_id"] == world.maker.token_ids["operator"]
    assert body["organization"]["id"] == world.maker.id
    assert body["organization"]["name"] == world.maker.name
    assert (body["organization"]["kind"], body["organization"]["approved"]) == (
        "manufacturer",
        True,
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer nope", "Bearer chh_not-a-token", "Basic dXNlcjpwYXNz", "chh_x"],
)
@pytest.mark.parametrize("path", ["/me", "/products", "/stamps", "/dashboard"])
def test_no_or_bad_token_is_401_with_the_error_body(client, authorization, path) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get(f"{API}{path}", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "401"
    assert response.json()["error"]["message"]


def test_missing_token_on_a_post_is_401_whatever_the_body(client) -> None:
    response = client.post(f"{API}/products", json={"nonsense": True})
    assert response.status_code == 401


def test_a_new_token_is_shown_once_and_a_revoked_one_fails_at_once(client, world) -> None:
    owner = world.maker.auth("owner")
    made = client.post(f"{API}/tokens", headers=owner, json={"name": "ERP", "role": "viewer"})
    assert made.status_code == 201
    secret, token_id = made.json()["secret"], made.json()["id"]
    assert secret.startswith(made.json()["prefix"])
    listed = client.get(f"{API}/tokens", headers=owner).json()["items"]
    assert [t["prefix"] for t in listed if t["id"] == token_id] == [made.json()["prefix"]]
    assert secret not in str(listed)
    assert client.get(f"{API}/me", headers=bearer(secret)).json()["role"] == "viewer"
    assert client.delete(f"{API}/tokens/{token_id}", headers=owner).status_code == 204
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 401
    revoked = client.get(f"{API}/tokens", headers=owner).json()["items"]
    assert next(t for t in revoked if t["id"] == token_id)["revoked_at"]


def test_a_token_cannot_make_a_stronger_one(client, world) -> None:
    response = client.post(
        f"{API}/tokens", headers=world.maker.auth("admin"), json={"name": "x", "role": "owner"}
    )
    assert response.status_code == 403


# --- organizations -------------------------------------------------------------------------


def test_organizations_one_can_ship_to_and_all_for_a_regulator(client, world) -> None:
    seen = client.get(f"{API}/organizations", headers=world.maker.auth()).json()
    ids = {o["id"] for o in seen["items"]}
    assert {world.distributor.id, world.retailer.id, world.other_maker.id} <= ids
    assert world.regulator.id not in ids
    assert world.pending.id not in ids
    every = walk(client, f"{API}/organizations", world.regulator.auth("viewer"), "after", 2)
    assert {o.id for o in world.organizations} <= {o["id"] for o in every}
    pending = client.get(
        f"{API}/organizations", headers=world.regulator.auth(), params={"pending": True}
    ).json()["items"]
    assert [o["id"] for o in pending] == [world.pending.id]


def test_a_regulator_approves_a_registration_once(client, world) -> None:
    path = f"{API}/organizations/{world.pending.id}/approve"
    assert client.post(path, headers=world.maker.auth()).status_code == 403
    approved = client.post(path, headers=world.regulator.auth("admin"))
    assert approved.status_code == 200
    assert approved.json()["approved"] is True
    assert client.post(path, headers=world.regulator.auth()).status_code == 409
    me = client.get(f"{API}/me", headers=world.pending.auth()).json()
    assert me["organization"]["approved"] is True


def test_patch_organization_changes_only_the_given_fields(client, world) -> None:
    owner = world.distributor.auth()
    first = client.patch(
        f"{API}/organization",
        headers=owner,
        json={"address": "Quận 7, TP. HCM", "website": "https://pp.example.vn"},
    )
    assert first.status_code == 200
    second = client.patch(f"{API}/organization", headers=owner, json={"address": "Thủ Đức"})
    assert (second.json()["address"], second.json()["website"]) == (
        "Thủ Đức",
        "https://pp.example.vn",
    )
    cleared = client.patch(f"{API}/organization", headers=owner, json={"website": None})
    assert (cleared.json()["address"], cleared.json()["website"]) == ("Thủ Đức", None)


# --- members and invitations ---------------------------------------------------------------


def test_members_invitations_and_roles(client, world, settings) -> None:
    admin = world.maker.auth("admin")
    members = client.get(f"{API}/members", headers=admin).json()["items"]
    assert {m["role"] for m in members} == {"owner", "admin", "operator", "viewer"}
    invited = client.post(
        f"{API}/invitations", headers=admin, json={"email": "Moi@Example.vn", "role": "operator"}
    )
    assert invited.status_code == 201
    url = invited.json()["url"]
    assert url.startswith(f"{settings.base_url}/portal/invitations/")
    pending = client.get(f"{API}/invitations", headers=admin).json()["items"]
    assert [(i["email"], i["role"]) for i in pending] == [("moi@example.vn", "operator")]
    assert "url" not in pending[0]
    deleted = client.delete(f"{API}/invitations/{invited.json()['id']}", headers=admin)
    assert deleted.status_code == 204
    assert client.get(f"{API}/invitations", headers=admin).json()["items"] == []
    viewer = world.maker.memberships["viewer"]
    changed = client.patch(f"{API}/members/{viewer}", headers=admin, json={"role": "operator"})
    assert changed.status_code == 204
    roles = {
        m["id"]: m["role"] for m in client.get(f"{API}/members", headers=admin).json()["items"]
    }
    assert roles[viewer] == "operator"
    assert client.delete(f"{API}/members/{viewer}", headers=admin).status_code == 204
    assert viewer not in {
        m["id"] for m in client.get(f"{API}/members", headers=admin).json()["items"]
    }


def test_the_last_owner_stays(client, world) -> None:
    owner = world.maker.memberships["owner"]
    response = client.delete(f"{API}/members/{owner}", headers=world.maker.auth())
    assert response.status_code == 409
    assert (
        client.patch(
            f"{API}/members/{owner}", headers=world.maker.auth(), json={"role": "viewer"}
        ).status_code
        == 409
    )


def test_another_organizations_member_is_not_found(client, world) -> None:
    theirs = world.other_maker.memberships["viewer"]
    response = client.delete(f"{API}/members/{theirs}", headers=world.maker.auth())
    assert response.status_code == 404


# --- audit log -----------------------------------------------------------------------------


def test_the_audit_log_records_api_changes_and_regulators_read_any(client, world) -> None:
    owner = world.maker.auth()
    client.post(f"{API}/products", headers=owner, json={"name": "Trà Shan Tuyết"})
    entries = client.get(f"{API}/audit", headers=owner).json()["items"]
    newest = entries[0]
    assert (newest["action"], newest["via"]) == ("product.create", "api")
    assert newest["token_id"] == world.maker.token_ids["owner"]
    assert newest["details"]["name"] == "Trà Shan Tuyết"
    assert client.get(f"{API}/audit", headers=world.maker.auth("admin")).status_code == 403
    read = client.get(
        f"{API}/organizations/{world.maker.id}/audit", headers=world.regulator.auth("viewer")
    )
    assert read.status_code == 200
    assert read.json()["items"][0]["id"] == newest["id"]
    other = client.get(f"{API}/organizations/{world.other_maker.id}/audit", headers=owner)
    assert other.status_code == 403
    unknown = client.get(f"{API}/organizations/999999/audit", headers=world.regulator.auth())
    assert unknown.status_code == 404


# --- catalog -------------------------------------------------------------------------------


def test_products_create_read_edit(client, world) -> None:
    operator = world.maker.auth("operator")
    made = client.post(
        f"{API}/products",
        headers=operator,
        json={"name": " Cà phê Robusta ", "gtin": "8934567890120", "brand": "Buôn Ma Thuột"},
    )
    assert made.status_code == 201, made.text
    product = made.json()
    assert (product["name"], product["gtin"], product["warranty_months"]) == (
        "Cà phê Robusta",
        "08934567890120",
        0,
    )
    path = f"{API}/products/{product['id']}"
    assert client.get(path, headers=world.maker.auth("viewer")).json() == product
    edited = client.patch(
        path, headers=operator, json={"brand": None, "warranty_months": 12, "withdrawn": True}
    )
    assert edited.status_code == 200
    assert (edited.json()["brand"], edited.json()["warranty_months"]) == (None, 12)
    assert edited.json()["name"] == "Cà phê Robusta"
    listed = client.get(f"{API}/products", headers=operator).json()["items"]
    assert listed[0]["id"] == product["id"]
    assert client.get(path, headers=world.other_maker.auth()).status_code == 404
    taken = client.post(
        f"{API}/products", headers=operator, json={"name": "Copy", "gtin": "8934567890120"}
    )
    assert taken.status_code == 409


def test_a_product_picture_is_uploaded_and_a_bad_file_refused(client, world) -> None:
    path = f"{API}/products/{world.maker.product_id}/image"
    owner = world.maker.auth()
    bad = client.put(path, headers=owner, files={"file": ("x.png", b"<svg/>", "image/png")})
    assert bad.status_code == 400
    good = client.put(path, headers=owner, files={"file": ("x.png", png(), "image/png")})
    assert good.status_code == 200, good.text
    image = good.json()["image_file"]
    assert image.endswith(".jpg")
    assert client.get(f"/media/{image}").status_code == 200


def test_batches_are_created_updated_and_listed(client, world) -> None:
    path = f"{API}/products/{world.maker.product_id}/batches"
    owner = world.maker.auth()
    made = client.post(
        path,
        headers=owner,
        json={"lot": "L2026-12", "production_date": "2026-12-01", "expiry_date": "2028-12-01"},
    )
    assert made.status_code == 200, made.text
    again = client.post(path, headers=owner, json={"lot": "L2026-12", "facility": "Xưởng 2"})
    assert again.json()["id"] == made.json()["id"]
    assert (again.json()["facility"], again.json()["expiry_date"]) == ("Xưởng 2", "2028-12-01")
    lots = [b["lot"] for b in client.get(path, headers=world.maker.auth("viewer")).json()["items"]]
    assert lots == ["L2026-12", world.maker.lot]


# --- stamps --------------------------------------------------------------------------------


def test_a_run_is_issued_in_the_background_then_activated(client, world) -> None:
    owner = world.maker.auth()
    issued = client.post(f"{API}/runs", headers=owner, json={"quantity": 7, "scan_limit": 2})
    assert issued.status_code == 202, issued.text
    assert issued.json()["status"] == "issuing"
    run = wait_for_run(client, owner, issued.json()["id"])
    assert (run["filled"], run["counts"]) == (7, {"issued": 7, "active": 0, "void": 0})
    activated = client.post(
        f"{API}/stamps/activate",
        headers=owner,
        json={"run_id": run["id"], "product_id": world.maker.product_id, "lot": "L009"},
    )
    assert activated.json() == {"changed": 7}
    stamps = client.get(f"{API}/runs/{run['id']}/stamps", headers=owner).json()["items"]
    assert (stamps[0]["serial"], len(stamps)) == (run["first_serial"], 7)
    assert {(s["status"], s["lot"], s["scan_limit"]) for s in stamps} == {("active", "L009", 2)}
    listed = client.get(f"{API}/runs", headers=owner).json()["items"]
    assert listed[0]["id"] == run["id"]


def test_a_run_can_be_activated_at_issue_time(client, world) -> None:
    owner = world.maker.auth()
    issued = client.post(
        f"{API}/runs",
        headers=owner,
        json={"quantity": 4, "product_id": world.maker.product_id, "lot": "LNEW"},
    )
    assert issued.status_code == 202, issued.text
    run = wait_for_run(client, owner, issued.json()["id"], active=4)
    assert run["counts"]["active"] == 4
    lots = client.get(f"{API}/products/{world.maker.product_id}/batches", headers=owner).json()
    assert "LNEW" in [b["lot"] for b in lots["items"]]


def test_issuing_for_another_organizations_product_is_refused_before_anything(
    client, world, sessions
) -> None:
    before = table_counts(sessions)
    response = client.post(
        f"{API}/runs",
        headers=world.maker.auth(),
        json={"quantity": 3, "product_id": world.other_maker.product_id},
    )
    assert response.status_code == 404
    assert table_counts(sessions) == before


def test_void_a_serial_list(client, world) -> None:
    owner = world.maker.auth()
    chosen = f"{world.maker.serials[0]}, {world.maker.serials[2]}"
    assert client.post(f"{API}/stamps/void", headers=owner, json={"serials": chosen}).json() == {
        "changed": 2
    }
    void = client.get(f"{API}/stamps", headers=owner, params={"status": "void"}).json()["items"]
    assert [s["serial"] for s in void] == [world.maker.serials[0], world.maker.serials[2]]


def test_the_custody_chain_over_the_api(client, world) -> None:
    maker, distributor, retailer = (
        world.maker.auth("operator"),
        world.distributor.auth("operator"),
        world.retailer.auth("operator"),
    )
    run = wait_for_run(
        client, maker, client.post(f"{API}/runs", headers=maker, json={"quantity": 6}).json()["id"]
    )
    client.post(
        f"{API}/stamps/activate",
        headers=maker,
        json={"run_id": run["id"], "product_id": world.maker.product_id},
    )
    serials = [
        s["serial"]
        for s in client.get(f"{API}/runs/{run['id']}/stamps", headers=maker).json()["items"]
    ]
    shipped = client.post(
        f"{API}/shipments",
        headers=maker,
        json={
            "to_org_id": world.distributor.id,
            "serials": f"{serials[0]}-{serials[3]}",
            "reference": "PX-1",
        },
    )
    assert shipped.status_code == 201, shipped.text
    shipment = shipped.json()
    assert (shipment["quantity"], shipment["status"]) == (4, "in_transit")
    incoming = client.get(
        f"{API}/shipments", headers=distributor, params={"direction": "incoming"}
    ).json()["items"]
    assert [s["id"] for s in incoming] == [shipment["id"]]
    detail = client.get(f"{API}/shipments/{shipment['id']}", headers=distributor).json()
    assert detail["ranges"] == [{"first": serials[0], "last": serials[3], "quantity": 4}]
    travelling = client.get(f"{API}/shipments/{shipment['id']}/stamps", headers=distributor)
    assert {s["in_transit"] for s in travelling.json()["items"]} == {True}
    received = client.post(f"{API}/shipments/{shipment['id']}/receive", headers=distributor)
    assert received.json()["status"] == "received"
    held = client.get(f"{API}/stamps", headers=distributor).json()["items"]
    assert [s["serial"] for s in held] == serials[:4]
    assert {s["holder_org_id"] for s in held} == {world.distributor.id}
    seen_by_maker = client.get(f"{API}/shipments/{shipment['id']}", headers=maker).json()
    assert seen_by_maker["status"] == "received"
    onward = client.post(
        f"{API}/shipments",
        headers=distributor,
        json={
            "to_org_id": world.retailer.id,
            "issuer_org_id": world.maker.id,
            "serials": f"{serials[0]}, {serials[1]}",
        },
    )
    assert onward.status_code == 201, onward.text
    client.post(f"{API}/shipments/{onward.json()['id']}/receive", headers=retailer)
    assert [s["serial"] for s in client.get(f"{API}/stamps", headers=retailer).json()["items"]] == (
        serials[:2]
    )
    assert [
        s["serial"] for s in client.get(f"{API}/stamps", headers=distributor).json()["items"]
    ] == (serials[2:4])
    again = client.post(f"{API}/shipments/{shipment['id']}/receive", headers=distributor)
    assert again.status_code == 409


def test_shipping_stamps_not_in_custody_ships_nothing(client, world, sessions) -> None:
    """And says nothing about the maker's stamps: not held looks the same as never issued."""
    before = table_counts(sessions)
    attempts = [
        ({"run_id": world.maker.run_id}, 400),  # runs belong to their maker
        ({"serials": world.maker.serials[0]}, 404),
        ({"serials": serial_for(99_999)}, 404),
    ]
    for selection, status in attempts:
        response = client.post(
            f"{API}/shipments",
            headers=world.distributor.auth(),
            json={"to_org_id": world.retailer.id, "issuer_org_id": world.maker.id, **selection},
        )
        assert response.status_code == status, response.text
    assert table_counts(sessions) == before


# --- scans and the dashboard ---------------------------------------------------------------


def test_scans_and_dashboard_show_serials_never_codes(client, world) -> None:
    code = world.maker.codes[1]
    for _ in range(2):  # a fresh browser each time: no grace period, the second is over limit
        client.cookies.clear()
        assert client.get(f"/v/{code}", headers={"Accept": "application/json"}).status_code == 200
    owner = world.maker.auth("viewer")
    scans = client.get(f"{API}/scans", headers=owner).json()["items"]
    assert [(s["outcome"], s["serial"]) for s in scans] == [
        ("over_limit", world.maker.serials[1]),
        ("genuine", world.maker.serials[1]),
    ]
    warnings = client.get(f"{API}/scans", headers=owner, params={"outcome": "over_limit"})
    assert len(warnings.json()["items"]) == 1
    board = client.get(f"{API}/dashboard", headers=owner).json()
    assert board["stamps"] == {
        "total": STAMPS_PER_RUN,
        "active": STAMPS_PER_RUN,
        "void": 0,
        "scanned": 1,
    }
    assert sum(day["scans"] for day in board["scans_per_day"]) == 2
    assert [w["outcome"] for w in board["latest_warnings"]] == ["over_limit"]
    everything = "".join(
        client.get(f"{API}{path}", headers=owner).text
        for path in ("/scans", "/dashboard", "/stamps", f"/runs/{world.maker.run_id}/stamps")
    )
    assert not any(c in everything for c in world.maker.codes)


# --- paging --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "cursor", "key"),
    [
        ("/products", "before", "id"),
        ("/stamps", "after", "serial"),
        ("/audit", "before", "id"),
        ("/runs", "before", "id"),
    ],
)
def test_paging_walks_every_item_exactly_once(client, world, path, cursor, key) -> None:
    owner = world.maker.auth()
    for n in range(4):
        client.post(f"{API}/products", headers=owner, json={"name": f"Sản phẩm {n}"})
    for _ in range(3):
        wait_for_run(
            client,
            owner,
            client.post(f"{API}/runs", headers=owner, json={"quantity": 2}).json()["id"],
        )
    everything = client.get(f"{API}{path}", headers=owner, params={"limit": 200}).json()
    assert everything["next"] is None
    walked = walk(client, f"{API}{path}", owner, cursor, limit=2)
    assert [item[key] for item in walked] == [item[key] for item in everything["items"]]
    assert len({item[key] for item in walked}) == len(walked) >= 4


def test_every_member_sees_the_member_list_as_in_the_portal(client, world) -> None:
    viewer = world.maker.auth("viewer")
    assert client.get(f"{API}/members", headers=viewer).status_code == 200
    assert client.get(f"{API}/invitations", headers=viewer).status_code == 200
    refused = client.post(
        f"{API}/invitations", headers=viewer, json={"email": "x@example.vn", "role": "viewer"}
    )
    assert refused.status_code == 403
