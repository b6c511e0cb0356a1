"""Schemathesis over /api/v1/openapi.json: generated requests, valid and invalid, to every
operation with an organization's owner token; no answer is a 5xx and every answer matches the
document (status code, content type, body schema).

Twice: in-process on SQLite (the app over ASGI, cheap, three roles), and against a live
`chinhhang serve --workers 2` on a fresh PostgreSQL database, over real HTTP, with the
schema loaded from the server's own URL. Both are bounded (examples per operation, no
deadline, derandomized): a net for 500s and for drift between the routes and their declared
shapes, not a load test (docs/security-checks.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chinhhang.config import Settings
from chinhhang.db import make_engine, make_sessionmaker
from chinhhang.web import create_app
from tests.api_helpers import ApiWorld, OrgFixture, build_world
from tests.load.server import assert_clean_log, start_server

pytestmark = pytest.mark.slow
# Examples per strategy and operation: FUZZ_EXAMPLES, or 15 in-process and 40 live (about
# 15 s and 50 s; docs/security-checks.md).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
LIVE_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Who fuzzes what: the maker every operation; the others what their kind may do.
ROLES = [
    ("maker", ""),
    ("distributor", "/api/v1/(shipments|stamps)"),
    ("regulator", "/api/v1/organizations"),
]
# The live server really fills the runs the fuzzer issues: at most this many stamps each
# (the document allows 50 million, which would fill the database for hours).
LIVE_RUN_QUANTITY = 50


class NoFill:
    """Generated runs can ask for 50 million stamps: record them, but write none."""

    def submit(self, *_args: Any, **_kwargs: Any) -> None:
        return None


@dataclass
class Fuzzed:
    app: FastAPI
    world: ApiWorld
    client: TestClient


def _add_known_rows(client: Any, world: ApiWorld) -> None:
    """A shipment, an invitation and a product link, so their ids reach past "not found".
    `client` is a TestClient or an httpx.Client on the live server (the same calls)."""
    owner = world.maker.auth()
    shipped = client.post(
        "/api/v1/shipments",
        headers=owner,
        json={"to_org_id": world.distributor.id, "serials": world.maker.serials[0]},
    )
    assert shipped.status_code == 201, shipped.text
    invited = client.post(
        "/api/v1/invitations", headers=owner, json={"email": "x@example.vn", "role": "viewer"}
    )
    assert invited.status_code == 201, invited.text
    linked = client.post(
        f"/api/v1/products/{world.maker.product_id}/links",
        headers=owner,
        json={"link_type": "gs1:pip", "href": "https://example.vn/p", "title": "Trang"},
    )
    assert linked.status_code == 201, linked.text
    world.maker.shipment_id = shipped.json()["id"]  # type: ignore[attr-defined]
    world.maker.invitation_id = invited.json()["id"]  # type: ignore[attr-defined]
    world.maker.link_id = linked.json()["id"]  # type: ignore[attr-defined]


def _known_ids(world: ApiWorld) -> dict[str, int | str]:
    """Real ids, so that generated requests also reach past "not found"."""
    maker = world.maker
    return {
        "org_id": world.pending.id,
        "product_id": maker.product_id or 0,
        "run_id": maker.run_id or 0,
        "shipment_id": maker.shipment_id,  # type: ignore[attr-defined]
        "membership_id": maker.memberships["viewer"],
        "invitation_id": maker.invitation_id,  # type: ignore[attr-defined]
        "token_id": maker.token_ids["viewer"],
        "link_id": maker.link_id,  # type: ignore[attr-defined]
        "capture_id": 1,
        "promotion_id": 1,  # a promotion the fuzzer's own POST /promotions may have made
        "report_id": 1,  # a report the fuzzer's own POST /reports may have made, or a 404
        "alert_id": 1,  # a 404 unless a fuzzed scan raised one
        "scan_id": 1,  # the first scan of the fuzzer's, or a 404
        "event_id": "urn:uuid:00000000-0000-4000-8000-000000000001",
    }


def _bounded_run(case: Any) -> None:
    """A generated run of more than LIVE_RUN_QUANTITY stamps asks for LIVE_RUN_QUANTITY."""
    body = case.body
    if case.method == "POST" and case.path == "/api/v1/runs" and isinstance(body, dict):
        quantity = body.get("quantity")
        if type(quantity) is int and quantity > LIVE_RUN_QUANTITY:
            body["quantity"] = LIVE_RUN_QUANTITY


def _fuzz(
    schema: BaseSchema,
    world: ApiWorld,
    org: OrgFixture,
    call: Callable[[Any], Any],
    examples: int = EXAMPLES,
) -> list[str]:
    """Every operation of `schema`, called by `call(case)` with `org`'s owner token: the
    failures, one per operation that had any ("label: error"), after trying them all."""
    headers = org.auth()
    known = _known_ids(world)
    own_token = str(org.token_ids["owner"])
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        real = {p.name: known[p.name] for p in operation.path_parameters}
        strategies = [
            operation.as_strategy(mode, headers=headers)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
        if real:
            strategies.append(operation.as_strategy(headers=headers, path_parameters=real))

        @hyp_settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def check(case: Any) -> None:
            if case.method == "DELETE" and str(case.path_parameters.get("token_id")) == own_token:
                return  # revoking the token this test runs with would end the test
            case.validate_response(call(case), checks=CHECKS)

        try:
            check()
        except Exception as error:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {error}")
    return failures


@pytest.fixture
def fuzzed(sqlite_settings: Settings) -> Iterator[Fuzzed]:
    engine = make_engine(sqlite_settings)
    world = build_world(make_sessionmaker(engine), sqlite_settings.keyring)
    engine.dispose()
    app = create_app(sqlite_settings)
    with TestClient(app) as client:
        app.state.filler = NoFill()
        _add_known_rows(client, world)
        yield Fuzzed(app, world, client)


@pytest.mark.parametrize(("who", "paths"), ROLES)
def test_every_operation_answers_within_its_document(fuzzed: Fuzzed, who: str, paths: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzzed.app)
    if paths:
        schema = schema.include(path_regex=paths)
    failures = _fuzz(schema, fuzzed.world, getattr(fuzzed.world, who), lambda case: case.call())
    assert failures == [], "\n\n".join(failures)


@pytest.mark.parametrize("action", ["activate", "void"])
def test_acting_on_a_run_still_being_issued_is_a_documented_409(
    fuzzed: Fuzzed, action: str
) -> None:
    """Found by the fuzzer: the 409 of a run not yet ready was missing from the document."""
    client, owner = fuzzed.client, fuzzed.world.maker.auth()
    run = client.post("/api/v1/runs", headers=owner, json={"quantity": 3}).json()  # NoFill
    body: dict[str, Any] = {"run_id": run["id"]}
    if action == "activate":
        body["product_id"] = fuzzed.world.maker.product_id
    answer = client.post(f"/api/v1/stamps/{action}", headers=owner, json=body)
    document = client.get("/api/v1/openapi.json").json()
    assert answer.status_code == 409, answer.text
    assert "409" in document["paths"][f"/api/v1/stamps/{action}"]["post"]["responses"]


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
def test_a_live_server_on_postgresql_answers_within_its_document(settings: Settings) -> None:
    """The real command on a fresh, migrated PostgreSQL database, with its background
    workers (run filler, alert and rollup workers) on; fuzzed runs are kept small
    (LIVE_RUN_QUANTITY) and filled for real. Afterwards the server's log holds no error:
    no request failed inside the app, and no background pass did."""
    engine = make_engine(settings)
    world = build_world(make_sessionmaker(engine), settings.keyring)
    engine.dispose()
    assert settings.database_url
    server = start_server(settings.data_dir, settings.database_url, workers=2)
    try:
        with requests.Session() as http:
            http.trust_env = False  # loopback: never through a proxy from the environment

            def call(case: Any) -> Any:
                _bounded_run(case)
                return case.call(session=http, timeout=60)

            with httpx.Client(base_url=server.base, timeout=30, trust_env=False) as client:
                _add_known_rows(client, world)
            schema = schemathesis.openapi.from_url(f"{server.base}/api/v1/openapi.json")
            failures = []
            for who, paths in ROLES:
                scoped = schema.include(path_regex=paths) if paths else schema
                failures += [
                    f"[{who}] {f}"
                    for f in _fuzz(scoped, world, getattr(world, who), call, examples=LIVE_EXAMPLES)
                ]
        assert failures == [], "\n\n".join(failures)
    finally:
        server.stop()
    assert_clean_log(server.log())
