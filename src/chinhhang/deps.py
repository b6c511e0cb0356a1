"""FastAPI dependency aliases: the request's unit of work and the app's shared parts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from chinhhang.db import session_scope
from chinhhang.templating import Pages


def get_session(request: Request) -> Iterator[Session]:
    """Commit when the route returns, roll back when it raises (DESIGN: unit of work at edge)."""
    with session_scope(request.app.state.sessions) as session:
        yield session


def get_read_session(request: Request) -> Iterator[Session]:
    """A session for pages that only read: on SQLite it takes no write lock (deferred BEGIN),
    so shoppers' page views never queue behind, or hold up, the scan writer."""
    session: Session = request.app.state.read_sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def get_pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
PagesDep = Annotated[Pages, Depends(get_pages)]
