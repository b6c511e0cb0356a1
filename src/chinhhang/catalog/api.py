"""JSON API for the catalog under /api/v1: products, their picture, batches and links."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Request, Response, UploadFile

from chinhhang.accounts.actor import Actor
from chinhhang.api_support import CONFLICT, DEFAULT_LIMIT, Before, Limit, api_router, paged
from chinhhang.catalog.images import MAX_UPLOAD_BYTES
from chinhhang.catalog.links import add_link, delete_link, list_links, update_link
from chinhhang.catalog.promotion_api import router as promotion_router
from chinhhang.catalog.schemas import (
    BatchCreate,
    BatchPage,
    BatchPublic,
    ProductCreate,
    ProductLinkCreate,
    ProductLinkList,
    ProductLinkPublic,
    ProductLinkUpdate,
    ProductPage,
    ProductPublic,
    ProductUpdate,
)
from chinhhang.catalog.services import (
    create_product,
    list_batches,
    list_products,
    product_for,
    save_batch,
    set_product_image,
    update_product,
)
from chinhhang.deps import Requires, SessionDep
from chinhhang.forms import IdPath

router = api_router("catalog")


@router.get("/products", summary="The organization's products, newest first")
def products(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    before: Before = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ProductPage:
    rows = list_products(session, actor, before=before, limit=limit + 1)
    items, next_ = paged(rows, limit, lambda product: product.id)
    return ProductPage(items=[ProductPublic.model_validate(p) for p in items], next=next_)


@router.post("/products", summary="Register a product", status_code=201, responses=CONFLICT)
def new_product(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_products"))],
    body: ProductCreate,
) -> ProductPublic:
    fields = body.model_dump(exclude_unset=True)
    product = create_product(session, actor, name=fields.pop("name"), **fields)
    return ProductPublic.model_validate(product)


@router.get("/products/{product_id}", summary="One product")
def product(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    product_id: IdPath,
) -> ProductPublic:
    return ProductPublic.model_validate(product_for(session, actor, product_id))


@router.patch("/products/{product_id}", summary="Edit a product", responses=CONFLICT)
def edit_product(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_products"))],
    product_id: IdPath,
    body: ProductUpdate,
) -> ProductPublic:
    changes = body.model_dump(exclude_unset=True)
    return ProductPublic.model_validate(update_product(session, actor, product_id, **changes))


@router.put(
    "/products/{product_id}/image",
    summary="Upload the product's picture (JPEG, PNG or WebP, up to 5 MB)",
)
def upload_image(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_products"))],
    product_id: IdPath,
    file: Annotated[UploadFile, File(description="The picture; re-encoded as JPEG.")],
) -> ProductPublic:
    # One byte more than allowed is enough for the service to refuse an oversized file.
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    product = set_product_image(session, actor, product_id, data, request.app.state.media_dir)
    return ProductPublic.model_validate(product)


@router.get("/products/{product_id}/batches", summary="A product's batches, newest first")
def batches(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    product_id: IdPath,
    before: Before = None,
    limit: Limit = DEFAULT_LIMIT,
) -> BatchPage:
    rows = list_batches(session, actor, product_id, before=before, limit=limit + 1)
    items, next_ = paged(rows, limit, lambda batch: batch.id)
    return BatchPage(items=[BatchPublic.model_validate(b) for b in items], next=next_)


@router.post(
    "/products/{product_id}/batches",
    summary="Create a batch, or update the batch with this lot",
)
def put_batch(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_products"))],
    product_id: IdPath,
    body: BatchCreate,
) -> BatchPublic:
    batch = save_batch(session, actor, product_id=product_id, **body.model_dump())
    return BatchPublic.model_validate(batch)


@router.get(
    "/products/{product_id}/links",
    summary="The product's GS1 Digital Link links, those for every lot first",
)
def links(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    product_id: IdPath,
) -> ProductLinkList:
    rows = list_links(session, actor, product_id)
    return ProductLinkList(items=[ProductLinkPublic.model_validate(link) for link in rows])


@router.post(
    "/products/{product_id}/links",
    summary="Publish a link for the product (or one lot) through the resolver",
    status_code=201,
    responses=CONFLICT,
)
def new_link(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_products"))],
    product_id: IdPath,
    body: ProductLinkCreate,
) -> ProductLinkPublic:
    link = add_link(session, actor, product_id, **body.model_dump())
    return ProductLinkPublic.model_validate(link)


@router.patch(
    "/products/{product_id}/links/{link_id}",
    summary="Edit a link, or make it the default",
    responses=CONFLICT,
)
def edit_link(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_products"))],
    product_id: IdPath,
    link_id: IdPath,
    body: ProductLinkUpdate,
) -> ProductLinkPublic:
    changes = body.model_dump(exclude_unset=True)
    return ProductLinkPublic.model_validate(
        update_link(session, actor, product_id, link_id, **changes)
    )


@router.delete("/products/{product_id}/links/{link_id}", summary="Remove a link", status_code=204)
def remove_link(
    session: SessionDep,
    actor: Annotated[Actor, Depends(Requires("manage_products"))],
    product_id: IdPath,
    link_id: IdPath,
) -> Response:
    delete_link(session, actor, product_id, link_id)
    return Response(status_code=204)


# Promotions' routes live in their own module (catalog/promotion_api.py), served under this one.
router.include_router(promotion_router)
