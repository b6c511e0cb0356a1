"""The resolver over HTTP against the GS1 syntax engine's Digital Link parse cases, read from
../shared/standards as test_digital_link.py reads them (nothing of the file is copied here).

Every case whose primary key is a GTIN (`/01/`, or Digital Link 1.0's `/gtin/`) is sent to the
resolver as the path from its key on (the resolver lives at the root, so a case's stem is not
sent) with its query; with each valid GTIN of the file registered, an accepted case must be
redirected (307) and a refused one answered 400. Cases whose fault lies in the scheme or host
are left out: over HTTP the request reaches this host whatever the URI said.
"""

from __future__ import annotations

import re

import pytest

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import create_organization
from chinhhang.catalog.gtin import InvalidGtin, canonical_gtin
from chinhhang.catalog.services import create_product
from chinhhang.db import session_scope
from tests.unit.trace.test_digital_link import vectors

# A well-formed scheme and host, as any HTTP request to this resolver has.
_AUTHORITY = re.compile(r"(?:https?|HTTPS?)://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d+)?")
_GTIN_KEY = re.compile(r"/(?:01|gtin)/([^/?#]*)")


def gtin_cases() -> list[tuple[str, bool, str]]:
    """(path and query sent, valid, the file's URI) for every case with a GTIN key."""
    cases = []
    for uri, valid, _ in vectors():
        authority = _AUTHORITY.match(uri)
        if authority is None or uri[authority.end() :][:1] not in ("/", ""):
            continue
        rest = uri[authority.end() :].split("#", 1)[0]
        key = _GTIN_KEY.search(rest.split("?", 1)[0])
        if key is not None:
            cases.append((rest[key.start() :], valid, uri))
    return cases


def registered_gtins(cases: list[tuple[str, bool, str]]) -> set[str]:
    found = set()
    for path, _, _ in cases:
        key = _GTIN_KEY.search(path)
        try:
            found.add(canonical_gtin(key.group(1) if key else ""))
        except InvalidGtin:
            continue
    return found


@pytest.fixture
def cases(sessions) -> list[tuple[str, bool, str]]:
    chosen = gtin_cases()
    with session_scope(sessions) as session:
        org = create_organization(session, name="GS1 test maker", kind="manufacturer")
        for number, gtin in enumerate(sorted(registered_gtins(chosen))):
            create_product(session, Actor.command_line(org.id), name=f"P{number}", gtin=gtin)
    return chosen


def test_every_gtin_case_is_accepted_or_refused_as_the_file_says(client, cases) -> None:
    assert len(cases) > 50
    assert any(not valid for _, valid, _ in cases)
    wrong = []
    for path, valid, uri in cases:
        status = client.get(path, follow_redirects=False).status_code
        if status != (307 if valid else 400):
            wrong.append((uri, path, valid, status))
    assert wrong == []
