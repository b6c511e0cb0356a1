"""The JSON API refuses bad input clearly and changes nothing; its document and docs page."""

from __future__ import annotations

import pytest

from tests.api_helpers import ApiWorld, table_counts

API = "/api/v1"


# --- bad input -----------------------------------------------------------------------------


def _bad_inputs(world: ApiWorld) -> list[tuple[str, str, object]]:
    product = f"/products/{world.maker.product_id}"
    run = world.maker.run_id
    pid = world.maker.product_id
    other = f"{world.maker.serials[0]}"
    return [
        ("POST", "/products", {}),
        ("POST", "/products", {"name": ""}),
        ("POST", "/products", {"name": "x" * 201}),
        ("POST", "/products", {"name": "x", "gtin": "8934567890121"}),
        ("POST", "/products", {"name": "x", "website": "javascript:alert(1)"}),
        ("POST", "/products", {"name": "x", "warranty_months": 241}),
        ("POST", "/products", {"name": "x", "code": "sneaky"}),
        ("POST", "/products", {"name": "x", "brand": "nul\u0000byte"}),
        ("POST", "/products", {"name": "x", "description": "bell\u0007"}),
        ("POST", "/products", "not json"),
        ("POST", "/products", ["name"]),
        ("PATCH", product, {"name": None}),
        ("PATCH", product, {"name": " "}),
        ("PATCH", product, {"withdrawn": "maybe"}),
        ("PATCH", product, {"image_url": "ftp://example.com/x.png"}),
        ("PATCH", product, {"gtin": "12"}),
        ("PATCH", product, {"org_id": 2}),
        ("POST", f"{product}/batches", {"lot": "has space"}),
        ("POST", f"{product}/batches", {"lot": "L9", "facility": "\u0000"}),
        ("POST", f"{product}/batches", {"lot": "x" * 21}),
        ("POST", f"{product}/batches", {"lot": "L9", "production_date": "yesterday"}),
        (
            "POST",
            f"{product}/batches",
            {"lot": "L9", "production_date": "2026-02-01", "expiry_date": "2026-01-01"},
        ),
        ("POST", "/runs", {"quantity": 0}),
        ("POST", "/runs", {"quantity": 50_000_001}),
        ("POST", "/runs", {"quantity": "many"}),
        ("POST", "/runs", {"quantity": 3, "scan_limit": 0}),
        ("POST", "/runs", {"quantity": 3, "grace_minutes": 1441}),
        ("POST", "/runs", {"quantity": 3, "lot": "L1"}),
        ("POST", "/runs", {"quantity": 3, "product_id": pid, "lot": "bad lot"}),
        ("POST", "/stamps/activate", {"product_id": pid}),
        ("POST", "/stamps/activate", {"run_id": run, "serials": other, "product_id": pid}),
        ("POST", "/stamps/activate", {"serials": "1234-5678", "product_id": pid}),
        ("POST", "/stamps/activate", {"run_id": run, "product_id": pid, "lot": "a b"}),
        ("POST", "/stamps/activate", {"run_id": 2**70, "product_id": pid}),
        ("POST", "/stamps/void", {}),
        ("POST", "/stamps/void", {"serials": "0000 0000 0000"}),
        ("POST", "/stamps/void", {"serials": ", ,"}),
        ("POST", "/shipments", {"to_org_id": world.distributor.id}),
        ("POST", "/shipments", {"to_org_id": world.distributor.id, "serials": "garbage"}),
        (
            "POST",
            "/shipments",
            {"to_org_id": world.distributor.id, "run_id": run, "reference": "x" * 101},
        ),
        ("POST", "/shipments", {"to_org_id": "abc", "run_id": run}),
        ("PATCH", "/organization", {"website": "ftp://example.com"}),
        ("PATCH", "/organization", {"address": "x" * 301}),
        ("PATCH", "/organization", {"name": "Renamed"}),
        ("PATCH", "/organization", {"address": "a\u0000b"}),
        ("POST", "/invitations", {"email": "not-an-address", "role": "viewer"}),
        ("POST", "/invitations", {"email": "a@example.vn", "role": "king"}),
        ("POST", "/invitations", {"email": "a@example.vn"}),
        ("PATCH", f"/members/{world.maker.memberships['viewer']}", {"role": "king"}),
        ("PATCH", f"/members/{world.maker.memberships['viewer']}", {}),
        ("POST", "/tokens", {"name": "", "role": "viewer"}),
        ("POST", "/tokens", {"name": "x", "role": "god"}),
        ("POST", "/tokens", {"name": "tab\there", "role": "viewer"}),
        ("POST", "/tokens", {"name": "x" * 101, "role": "viewer"}),
    ]


def test_every_bad_body_is_a_400_with_the_error_body_and_changes_nothing(
    client, world, sessions
) -> None:
    owner = world.maker.auth()
    before = table_counts(sessions)
    failures = []
    for method, path, body in _bad_inputs(world):
        if isinstance(body, str):
            response = client.request(
                method,
                f"{API}{path}",
                headers={**owner, "Content-Type": "application/json"},
                content=body,
            )
        else:
            response = client.request(method, f"{API}{path}", headers=owner, json=body)
        ok = response.status_code == 400 and response.json()["error"]["code"] == "400"
        if not ok:
            failures.append((method, path, body, response.status_code, response.text[:200]))
    assert failures == []
    assert table_counts(sessions) == before


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/products", {"limit": 0}),
        ("/products", {"limit": 201}),
        ("/products", {"limit": "ten"}),
        ("/products", {"before": -1}),
        ("/products", {"before": 2**70}),
        ("/products/abc", {}),
        ("/products/99999999999999999999999", {}),
        ("/stamps", {"after": "not-a-cursor"}),
        ("/stamps", {"after": "99999999999.1"}),
        ("/stamps", {"after": "1.99999999999999999999"}),
        ("/stamps", {"status": "lost"}),
        ("/scans", {"outcome": "fake"}),
        ("/shipments", {"direction": "sideways"}),
        ("/organizations", {"after": 987654321}),
        ("/runs/0", {}),
    ],
)
def test_bad_query_or_path_is_a_400(client, world, path, params) -> None:
    response = client.get(f"{API}{path}", headers=world.maker.auth(), params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "400"


def test_upload_without_a_file_is_a_400(client, world) -> None:
    path = f"{API}/products/{world.maker.product_id}/image"
    response = client.put(path, headers=world.maker.auth(), data={"nothing": "here"})
    assert response.status_code == 400


def test_unknown_ids_are_404(client, world) -> None:
    owner = world.maker.auth()
    for path in ("/products/424242", "/runs/424242", "/shipments/424242", "/runs/424242/stamps"):
        assert client.get(f"{API}{path}", headers=owner).status_code == 404, path


# --- the document and its page -------------------------------------------------------------


def test_openapi_states_auth_permissions_and_400_not_422(client) -> None:
    document = client.get(f"{API}/openapi.json").json()
    assert document["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"
    assert "HTTPValidationError" not in document["components"]["schemas"]
    operations = [op for ops in document["paths"].values() for op in ops.values()]
    assert len(operations) >= 30
    for operation in operations:
        assert operation["x-permission"]
        if operation["x-permission"] != "public":  # a shopper's operation needs no token
            assert operation["security"] == [{"ApiToken": []}]
        assert "422" not in operation["responses"]
        assert "400" in operation["responses"]
        assert operation["tags"]


def test_the_docs_page_lists_every_operation_without_external_resources(client) -> None:
    document = client.get(f"{API}/openapi.json").json()
    page = client.get("/api/docs", params={"lang": "en"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert f"{method.upper()} {path}" in page.text
            assert operation["x-permission"] in page.text
    assert "<script" not in page.text
    assert "cdn" not in page.text.lower()
    assert 'src="http' not in page.text
    assert 'href="http' not in page.text
