"""Driving the business portal as a browser does: log in through the form, carry the CSRF
token of the page into each post, follow nothing automatically (tests look at the 303s)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.services import add_membership, create_organization, create_user
from chinhhang.config import Settings
from chinhhang.db import Base, session_scope
from chinhhang.web import create_app
from tests.conftest import PHONE

PASSWORD = "portal-password-1"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
_counter = iter(range(1, 10**9))


@contextmanager
def portal_client(settings: Settings) -> Iterator[TestClient]:
    """The app with its lifespan (the background run filler), English pages, no redirects."""
    app = create_app(settings)
    headers = {"User-Agent": PHONE, "Accept-Language": "en"}
    with TestClient(app, follow_redirects=False, headers=headers) as client:
        yield client


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Browser:
    """One person at a time on the test client; `login` starts over with a clean cookie jar."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._token: str | None = None

    def login(self, email: str, password: str = PASSWORD) -> Any:
        self.client.cookies.clear()
        token = csrf_of(self.client.get("/portal/login").text)
        response = self.client.post(
            "/portal/login", data={"csrf_token": token, "email": email, "password": password}
        )
        self._token = None  # login replaces the CSRF cookie
        return response

    def token(self) -> str:
        if self._token is None:
            self._token = csrf_of(self.client.get("/portal/password").text)
        return self._token

    def get(self, url: str) -> Any:
        return self.client.get(url)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, data={"csrf_token": self.token(), **(data or {})}, **kwargs)


@dataclass(frozen=True)
class Member:
    email: str
    org_id: int
    user_id: int


def member(
    sessions: sessionmaker[Session],
    *,
    kind: str = "manufacturer",
    role: str = "owner",
    org_id: int | None = None,
    approved: bool = True,
    platform_admin: bool = False,
) -> Member:
    """A user with `role` in a new organization of `kind` (or in `org_id`)."""
    n = next(_counter)
    with session_scope(sessions) as session:
        if org_id is None:
            org = create_organization(
                session, name=f"Portal {kind} {n}", kind=kind, approved=approved
            )
            org_id = org.id
        user = create_user(
            session,
            email=f"{role}{n}@portal.test",
            password=PASSWORD,
            name=f"{role.title()} {n}",
            platform_admin=platform_admin,
        )
        add_membership(session, user_id=user.id, org_id=org_id, role=role)
        return Member(user.email, org_id, user.id)


def operator(sessions: sessionmaker[Session]) -> str:
    """The platform operator's e-mail: an account in no organization."""
    with session_scope(sessions) as session:
        user = create_user(
            session, email=f"op{next(_counter)}@portal.test", password=PASSWORD, platform_admin=True
        )
        return user.email


def table_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Rows in every table: "nothing changed" means these are equal before and after."""
    import chinhhang.models  # noqa: F401, PLC0415 - every table in the metadata

    with sessions() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
            if table.name != "login_sessions"
        }


def portal_routes(app: Any, method: str) -> list[str]:
    """The paths under /portal that answer `method`, from the app's own route table."""
    paths = []
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if path.startswith("/portal") and method in (context.methods or ()):
            paths.append(path)
    return sorted(set(paths))


def requires_of(app: Any, method: str, path: str) -> str | None:
    """The action the route declares with Requires(...), if any."""
    from chinhhang.deps import Requires  # noqa: PLC0415

    def walk(dependant: Any) -> Iterator[str]:
        for dependency in getattr(dependant, "dependencies", []):
            if isinstance(dependency.call, Requires):
                yield dependency.call.action
            yield from walk(dependency)

    for context in iter_route_contexts(app.routes):
        if context.path == path and method in (context.methods or ()):
            actions = set(walk(getattr(context, "dependant", None)))
            return next(iter(actions), None)
    return None


def with_ids(path: str, value: str = "1") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def location_id(response: Any) -> int:
    """The id in a 303's Location, e.g. /portal/runs/12?note=issuing → 12."""
    found = re.search(r"/(\d+)(?:\?|$)", response.headers["location"])
    assert found, response.headers.get("location")
    return int(found.group(1))


def wait_until(check: Any, seconds: float = 20.0) -> Any:
    """Poll `check()` until it returns something true; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("timed out waiting")
