"""JSON API for stamps under /api/v1: runs, activation, voiding, stamps, shipments.

Issuing is two steps, as in the portal: the request reserves the serials and records the run
(committed before answering), then the app's background filler writes the stamps; the run's
`status` is "issuing" with a growing `filled` until it is "ready". Activation asked for at
issue time runs after the fill, in its own unit of work, as the same caller.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from chinhhang.accounts.actor import Actor
from chinhhang.api_support import (
    CONFLICT,
    DEFAULT_LIMIT,
    After,
    Before,
    Limit,
    api_router,
    paged,
)
from chinhhang.deps import Requires, SessionDep, SettingsDep
from chinhhang.forms import IdPath
from chinhhang.stamps.schemas import (
    ActivateRequest,
    Changed,
    RunCreate,
    RunDetail,
    RunPage,
    RunPublic,
    ShipmentCreate,
    ShipmentDetail,
    ShipmentPage,
    ShipmentPublic,
    StampPage,
    StampPublic,
    StampStatus,
    VoidRequest,
)
from chinhhang.stamps.services import (
    StampRow,
    activate,
    create_run,
    list_runs,
    list_shipments,
    list_stamps,
    receive,
    run_with_counts,
    ship,
    shipment_with_ranges,
    void,
)

router = api_router("stamps")
Status = Annotated[StampStatus | None, Query(description="Only stamps in this state.")]


def _stamp_page(rows: list[StampRow], limit: int) -> StampPage:
    items, next_ = paged(rows, limit, lambda row: row.cursor)
    return StampPage(items=[StampPublic.of(r) for r in items], next=next_)


@router.get("/runs", summary="The organization's stamp runs, newest first")
def runs(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    before: Before = None,
    limit: Limit = DEFAULT_LIMIT,
) -> RunPage:
    rows = list_runs(session, actor, before=before, limit=limit + 1)
    items, next_ = paged(rows, limit, lambda run: run.id)
    return RunPage(items=[RunPublic.of(r) for r in items], next=next_)


@router.post(
    "/runs",
    summary="Issue a run of stamps (written in the background; poll GET /runs/{id})",
    status_code=202,
)
def issue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(Requires("issue_stamps"))],
    body: RunCreate,
) -> RunPublic:
    grace = settings.default_grace_minutes if body.grace_minutes is None else body.grace_minutes
    run = create_run(
        session,
        actor,
        quantity=body.quantity,
        scan_limit=body.scan_limit,
        grace_minutes=grace,
        key_id=settings.keyring.current,
        product_id=body.product_id,
        lot=body.lot,
    )
    # The filler's thread reads the run from the database: it must be committed first.
    session.commit()
    answer = RunPublic.of(run)
    request.app.state.filler.submit(run)
    return answer


@router.get("/runs/{run_id}", summary="One run, with its stamps counted by status")
def run_detail(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    run_id: IdPath,
) -> RunDetail:
    return RunDetail.of_summary(run_with_counts(session, actor, run_id))


@router.get("/runs/{run_id}/stamps", summary="A run's stamps in serial order")
def run_stamps(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    run_id: IdPath,
    status: Status = None,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
) -> StampPage:
    rows = list_stamps(session, actor, run_id=run_id, status=status, after=after, limit=limit + 1)
    return _stamp_page(rows, limit)


# Both answer 409 for a run still being issued (check_ready): it is acted on once ready.
@router.post(
    "/stamps/activate", summary="Bind issued stamps to a product (and lot)", responses=CONFLICT
)
def activate_stamps(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("issue_stamps"))],
    body: ActivateRequest,
) -> Changed:
    changed = activate(
        session, actor, selection=body.selection(), product_id=body.product_id, lot=body.lot
    )
    return Changed(changed=changed)


@router.post("/stamps/void", summary="Void stamps (from any state)", responses=CONFLICT)
def void_stamps(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("issue_stamps"))],
    body: VoidRequest,
) -> Changed:
    return Changed(changed=void(session, actor, selection=body.selection()))


@router.get("/stamps", summary="The stamps the organization issued or holds, in serial order")
def stamps(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    status: Status = None,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
) -> StampPage:
    rows = list_stamps(session, actor, status=status, after=after, limit=limit + 1)
    return _stamp_page(rows, limit)


@router.get("/shipments", summary="Shipments sent or received, newest first")
def shipments(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    direction: Annotated[
        Literal["incoming", "outgoing"] | None, Query(description="Both when left out.")
    ] = None,
    before: Before = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ShipmentPage:
    rows = list_shipments(session, actor, direction=direction, before=before, limit=limit + 1)
    items, next_ = paged(rows, limit, lambda shipment: shipment.id)
    return ShipmentPage(items=[ShipmentPublic.model_validate(s) for s in items], next=next_)


@router.post(
    "/shipments",
    summary="Ship active stamps in custody to a distributor or retailer",
    status_code=201,
    responses=CONFLICT,
)
def new_shipment(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("ship_stamps"))],
    body: ShipmentCreate,
) -> ShipmentPublic:
    shipment = ship(
        session,
        actor,
        to_org_id=body.to_org_id,
        selection=body.selection(body.issuer_org_id),
        reference=body.reference,
    )
    return ShipmentPublic.model_validate(shipment)


@router.get("/shipments/{shipment_id}", summary="One shipment, with its serial ranges")
def shipment_detail(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    shipment_id: IdPath,
) -> ShipmentDetail:
    found, ranges = shipment_with_ranges(session, actor, shipment_id)
    return ShipmentDetail.of(found, list(ranges))


@router.get("/shipments/{shipment_id}/stamps", summary="A shipment's stamps in serial order")
def shipment_stamps(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    shipment_id: IdPath,
    status: Status = None,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
) -> StampPage:
    rows = list_stamps(
        session, actor, shipment_id=shipment_id, status=status, after=after, limit=limit + 1
    )
    return _stamp_page(rows, limit)


@router.post(
    "/shipments/{shipment_id}/receive",
    summary="Receive an incoming shipment: its stamps pass into the organization's custody",
    responses=CONFLICT,
)
def receive_shipment(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("receive_stamps"))],
    shipment_id: IdPath,
) -> ShipmentPublic:
    return ShipmentPublic.model_validate(receive(session, actor, shipment_id))
