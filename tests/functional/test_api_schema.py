"""Schemathesis over /api/v1/openapi.json: generated requests, valid and invalid, to every
operation with an owner's token; no answer is a 5xx and every answer matches the document.

SQLite only and bounded (examples per operation, no deadline, derandomized): it is a net for
500s and for drift between the routes and their declared shapes, not a load test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chinhhang.db import make_engine, make_sessionmaker
from chinhhang.web import create_app
from tests.api_helpers import ApiWorld, build_world

pytestmark = pytest.mark.slow
EXAMPLES = int(__import__("os").environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class NoFill:
    """Generated runs can ask for 50 million stamps: record them, but write none."""

    def submit(self, *_args: Any, **_kwargs: Any) -> None:
        return None


@dataclass
class Fuzzed:
    app: FastAPI
    world: ApiWorld


@pytest.fixture
def fuzzed(sqlite_settings) -> Iterator[Fuzzed]:
    engine = make_engine(sqlite_settings)
    world = build_world(make_sessionmaker(engine), sqlite_settings.keyring)
    engine.dispose()
    app = create_app(sqlite_settings)
    with TestClient(app) as client:
        app.state.filler = NoFill()
        owner = world.maker.auth()
        shipped = client.post(
            "/api/v1/shipments",
            headers=owner,
            json={"to_org_id": world.distributor.id, "serials": world.maker.serials[0]},
        )
        assert shipped.status_code == 201
        invited = client.post(
            "/api/v1/invitations", headers=owner, json={"email": "x@example.vn", "role": "viewer"}
        )
        assert invited.status_code == 201
        linked = client.post(
            f"/api/v1/products/{world.maker.product_id}/links",
            headers=owner,
            json={"link_type": "gs1:pip", "href": "https://example.vn/p", "title": "Trang"},
        )
        assert linked.status_code == 201
        world.maker.shipment_id = shipped.json()["id"]  # type: ignore[attr-defined]
        world.maker.invitation_id = invited.json()["id"]  # type: ignore[attr-defined]
        world.maker.link_id = linked.json()["id"]  # type: ignore[attr-defined]
        yield Fuzzed(app, world)


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


@pytest.mark.parametrize(
    ("who", "paths"),
    [
        ("maker", ""),  # every operation
        ("distributor", "/api/v1/(shipments|stamps)"),
        ("regulator", "/api/v1/organizations"),
    ],
)
def test_every_operation_answers_within_its_document(fuzzed: Fuzzed, who: str, paths: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzzed.app)
    if paths:
        schema = schema.include(path_regex=paths)
    org = getattr(fuzzed.world, who)
    headers = org.auth()
    known = _known_ids(fuzzed.world)
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
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def check(case: Any) -> None:
            if case.method == "DELETE" and str(case.path_parameters.get("token_id")) == own_token:
                return  # revoking the token this test runs with would end the test
            case.validate_response(case.call(), checks=CHECKS)

        try:
            check()
        except Exception as error:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {error}")
    assert failures == [], "\n\n".join(failures)
