"""The request's unit of work ends before its answer leaves: a browser that follows a form's
redirect reads what the form wrote, and a commit that fails is never preceded by "saved"."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from chinhhang.config import Settings
from tests.portal_helpers import PASSWORD, csrf_of, member, portal_client


def test_the_session_commits_before_the_answer_is_sent(
    settings: Settings, sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = member(sessions)
    order: list[str] = []
    commit = Session.commit

    def recorded_commit(self: Session) -> None:
        order.append("commit")
        commit(self)

    monkeypatch.setattr(Session, "commit", recorded_commit)
    with portal_client(settings) as client:
        inner = client.app.middleware_stack or client.app.build_middleware_stack()

        async def watched(scope: Any, receive: Any, send: Any) -> None:
            async def send_watched(message: Any) -> None:
                if message["type"] == "http.response.start":
                    order.append("answer")
                await send(message)

            await inner(scope, receive, send_watched)

        client.app.middleware_stack = watched
        token = csrf_of(client.get("/portal/login").text)
        order.clear()
        data = {"csrf_token": token, "email": owner.email, "password": PASSWORD}
        response = client.post("/portal/login", data=data)
    assert response.status_code == 303
    assert "commit" in order
    assert order.index("commit") < order.index("answer"), order
