"""JSON API for promotions under /api/v1 (included by catalog/api.py's router)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Request, Response, UploadFile

from chinhhang.accounts.actor import Actor
from chinhhang.api_support import api_router
from chinhhang.catalog.images import MAX_UPLOAD_BYTES
from chinhhang.catalog.models import Promotion
from chinhhang.catalog.promotion_schemas import (
    PromotionCreate,
    PromotionList,
    PromotionPublic,
    PromotionUpdate,
)
from chinhhang.catalog.promotions import (
    create_promotion,
    delete_promotion,
    list_promotions,
    product_ids_of,
    promotion_for,
    set_promotion_image,
    status_of,
    update_promotion,
)
from chinhhang.deps import Requires, SessionDep
from chinhhang.forms import IdPath
from chinhhang.localtime import vietnam_today

router = api_router("catalog")
Viewer = Annotated[Actor, Depends(Requires("view"))]
Editor = Annotated[Actor, Depends(Requires("manage_promotions"))]


def _public(promotion: Promotion, product_ids: list[int]) -> PromotionPublic:
    return PromotionPublic(
        id=promotion.id,
        title=promotion.title,
        text=promotion.body,
        link=promotion.link,
        image_url=f"/media/{promotion.image_file}" if promotion.image_file else None,
        starts_on=promotion.starts_on,
        ends_on=promotion.ends_on,
        product_ids=product_ids,
        status=status_of(promotion, vietnam_today()),
        created_at=promotion.created_at,
    )


@router.get(
    "/promotions", summary="The organization's current, upcoming and latest past promotions"
)
def promotions(session: SessionDep, actor: Viewer) -> PromotionList:
    found = list_promotions(session, actor)
    return PromotionList(items=[_public(p, found.product_ids[p.id]) for p in found.all()])


@router.post("/promotions", summary="Publish a promotion", status_code=201)
def new_promotion(session: SessionDep, actor: Editor, body: PromotionCreate) -> PromotionPublic:
    promotion = create_promotion(session, actor, **body.model_dump())
    return _public(promotion, sorted(set(body.product_ids)))


@router.get("/promotions/{promotion_id}", summary="One promotion")
def promotion(session: SessionDep, actor: Viewer, promotion_id: IdPath) -> PromotionPublic:
    found = promotion_for(session, actor, promotion_id)
    return _public(found, product_ids_of(session, found.id))


@router.patch("/promotions/{promotion_id}", summary="Edit a promotion")
def edit_promotion(
    session: SessionDep, actor: Editor, promotion_id: IdPath, body: PromotionUpdate
) -> PromotionPublic:
    changes = body.model_dump(exclude_unset=True)
    changed = update_promotion(session, actor, promotion_id, **changes)
    return _public(changed, product_ids_of(session, changed.id))


@router.put(
    "/promotions/{promotion_id}/image",
    summary="Upload the promotion's image (JPEG, PNG or WebP, up to 5 MB)",
)
def promotion_image(
    request: Request,
    session: SessionDep,
    actor: Editor,
    promotion_id: IdPath,
    file: Annotated[UploadFile, File(description="The picture; re-encoded as JPEG.")],
) -> PromotionPublic:
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    changed = set_promotion_image(session, actor, promotion_id, data, request.app.state.media_dir)
    return _public(changed, product_ids_of(session, changed.id))


@router.delete("/promotions/{promotion_id}", summary="Remove a promotion", status_code=204)
def remove_promotion(session: SessionDep, actor: Editor, promotion_id: IdPath) -> Response:
    delete_promotion(session, actor, promotion_id)
    return Response(status_code=204)
