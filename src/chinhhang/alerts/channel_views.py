"""The portal's alert channels page: webhooks and e-mail addresses, test messages, and the
delivery log. The whole page needs `manage_alert_channels`, since it shows webhook secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.alerts.channels import (
    DEACTIVATED,
    add_channel,
    delete_channel,
    delivery_log,
    finish_test,
    list_channels,
    sent_test,
    set_channel_active,
    start_test,
)
from chinhhang.alerts.delivery import send
from chinhhang.alerts.models import DELIVERY_STATUSES
from chinhhang.db import utcnow
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError
from chinhhang.forms import MAX_BIG_ID, IdPath, ShortText
from chinhhang.portal import error_text, portal_page, see_other

router = APIRouter(prefix="/portal/alerts", include_in_schema=False)
Manager = Annotated[Actor, Depends(Requires("manage_alert_channels"))]
PAGE = "alerts/channels.html"


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    status: str = "",
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The channels, their forms and the delivery log; `extra` adds a refusal or a test's
    result. A hand-typed unknown status filter is said above the log."""
    context: dict[str, Any] = {
        "channels": list_channels(session, actor),
        "statuses": DELIVERY_STATUSES,
        "status": status,
        "form": {},
        "deactivated": DEACTIVATED,
        **(extra or {}),
    }
    try:
        context["log"] = delivery_log(session, actor, status=status or None)
    except DomainError as error:
        context |= {"log": [], "status": "", "log_error": error_text(request, error)}
        status_code = max(status_code, error.status_code)
    return portal_page(request, PAGE, context, status_code=status_code)


@router.get("/channels")
def channels_page(
    request: Request,
    session: SessionDep,
    actor: Manager,
    status: Annotated[str, Query(max_length=20)] = "",
    tested: Annotated[int | None, Query(ge=1, le=MAX_BIG_ID)] = None,
) -> Response:
    """The page; `?tested=` names a test message just sent, whose answer it shows."""
    if tested is None:
        return _page(request, session, actor, status=status)
    try:
        result = sent_test(session, actor, tested)
    except DomainError as error:
        extra = {"error": error_text(request, error)}
        return _page(request, session, actor, extra=extra, status_code=error.status_code)
    return _page(request, session, actor, status=status, extra={"tested": result})


@router.post("/channels", dependencies=[CsrfDep])
def channel_add(
    request: Request,
    session: SessionDep,
    actor: Manager,
    kind: ShortText = "",
    target: ShortText = "",
) -> Response:
    settings = request.app.state.settings
    try:
        with session.begin_nested():  # a refusal leaves nothing behind
            add_channel(
                session,
                actor,
                kind=kind,
                target=target,
                allow_private=settings.allow_private_webhooks,
            )
    except DomainError as error:
        extra = {"error": error_text(request, error), "form": {"kind": kind, "target": target}}
        return _page(request, session, actor, extra=extra, status_code=error.status_code)
    return see_other("/portal/alerts/channels?note=created")


@router.post("/channels/{channel_id}/deactivate", dependencies=[CsrfDep])
def channel_deactivate(
    request: Request, session: SessionDep, actor: Manager, channel_id: IdPath
) -> Response:
    return _change(
        request, session, actor, lambda: set_channel_active(session, actor, channel_id, False)
    )


@router.post("/channels/{channel_id}/activate", dependencies=[CsrfDep])
def channel_activate(
    request: Request, session: SessionDep, actor: Manager, channel_id: IdPath
) -> Response:
    return _change(
        request, session, actor, lambda: set_channel_active(session, actor, channel_id, True)
    )


@router.post("/channels/{channel_id}/delete", dependencies=[CsrfDep])
def channel_delete(
    request: Request, session: SessionDep, actor: Manager, channel_id: IdPath
) -> Response:
    return _change(request, session, actor, lambda: delete_channel(session, actor, channel_id))


def _change(
    request: Request, session: Session, actor: Actor, change: Callable[[], object]
) -> Response:
    try:
        with session.begin_nested():
            change()
    except DomainError as error:
        extra = {"error": error_text(request, error)}
        return _page(request, session, actor, extra=extra, status_code=error.status_code)
    return see_other("/portal/alerts/channels?note=saved")


@router.post("/channels/{channel_id}/test", dependencies=[CsrfDep])
def channel_test(
    request: Request, session: SessionDep, actor: Manager, channel_id: IdPath
) -> Response:
    """Send a test message now, then redirect (Post/Redirect/Get) to the page showing its
    answer: reloading that page shows the answer again, it sends no second test."""
    settings = request.app.state.settings
    try:
        with session.begin_nested():
            outgoing = start_test(
                session, actor, channel_id, base_url=settings.base_url, now=utcnow()
            )
    except DomainError as error:
        extra = {"error": error_text(request, error)}
        return _page(request, session, actor, extra=extra, status_code=error.status_code)
    # The test is on record (and SQLite's write lock released) before the network call, which
    # may take seconds; the outcome is recorded in a new transaction of the same session.
    session.commit()
    outcome = send(outgoing, settings)
    delivery = finish_test(session, actor, outgoing, outcome, utcnow())
    return see_other(f"/portal/alerts/channels?tested={delivery.id}")
