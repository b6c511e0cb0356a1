"""Portal pages for promotions: the list (current, upcoming, past), new, edit, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.images import MAX_UPLOAD_BYTES
from chinhhang.catalog.promotion_fields import LABELS
from chinhhang.catalog.promotions import (
    create_promotion,
    delete_promotion,
    editable_promotion,
    list_promotions,
    product_ids_of,
    set_promotion_image,
    update_promotion,
)
from chinhhang.catalog.services import list_products
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError, InvalidInput
from chinhhang.forms import IdPath, LongText, ShortText, optional_date, optional_id
from chinhhang.i18n import N_
from chinhhang.localtime import vietnam_today
from chinhhang.portal import error_text, portal_page, see_other

router = APIRouter(prefix="/portal", include_in_schema=False)
Viewer = Annotated[Actor, Depends(Requires("view"))]
Editor = Annotated[Actor, Depends(Requires("manage_promotions"))]
# The products a promotion form offers (an organization's whole catalogue, as a rule).
PRODUCTS_OFFERED = 500
FORM_TEMPLATE = "catalog/promotion_form.html"


class PromotionForm:
    """The promotion form's fields, as sent (re-shown on an error) and as services take them."""

    def __init__(
        self,
        title: ShortText = "",
        text: LongText = "",
        link: ShortText = "",
        starts_on: Annotated[str, Form(max_length=40)] = "",
        ends_on: Annotated[str, Form(max_length=40)] = "",
        product_ids: Annotated[list[str] | None, Form()] = None,
        image: Annotated[UploadFile | None, File()] = None,
    ) -> None:
        self.values: dict[str, Any] = {
            "title": title,
            "text": text,
            "link": link,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "product_ids": [value for value in product_ids or [] if value],
        }
        # One byte more than allowed is enough for the service to refuse an oversized file.
        self.image = image.file.read(MAX_UPLOAD_BYTES + 1) if image is not None else b""

    def fields(self) -> dict[str, Any]:
        """Typed for the service; InvalidInput for a date or product id typed wrong."""
        values = self.values
        ids = [optional_id(value) for value in values["product_ids"]]
        if len(ids) > 1_000:
            raise InvalidInput(N_("Choose at least one product for the promotion."))
        return {
            "title": values["title"],
            "text": values["text"],
            "link": values["link"],
            "starts_on": optional_date(values["starts_on"], LABELS["starts_on"]),
            "ends_on": optional_date(values["ends_on"], LABELS["ends_on"]),
            "product_ids": [product_id for product_id in ids if product_id is not None],
        }


@router.get("/promotions")
def promotions_page(request: Request, session: SessionDep, actor: Viewer) -> Response:
    today = vietnam_today()
    context = {"promotions": list_promotions(session, actor, today), "today": today}
    return portal_page(request, "catalog/promotions.html", context)


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    form: dict[str, Any],
    *,
    promotion_id: int | None = None,
    error: DomainError | None = None,
) -> Response:
    context = {
        "form": form,
        "promotion_id": promotion_id,
        "image_file": form.get("image_file"),
        "products": list_products(session, actor, limit=PRODUCTS_OFFERED),
        "error": error_text(request, error) if error else None,
    }
    status = error.status_code if error else 200
    return portal_page(request, FORM_TEMPLATE, context, status_code=status)


@router.get("/promotions/new")
def new_promotion_form(request: Request, session: SessionDep, actor: Editor) -> Response:
    today = vietnam_today().isoformat()
    form = {"starts_on": today, "ends_on": today, "product_ids": []}
    return _form_page(request, session, actor, form)


@router.post("/promotions/new", dependencies=[CsrfDep])
def new_promotion(
    request: Request,
    session: SessionDep,
    actor: Editor,
    form: Annotated[PromotionForm, Depends()],
) -> Response:
    try:
        with session.begin_nested():  # a refusal leaves nothing behind
            create_promotion(
                session,
                actor,
                **form.fields(),
                image=form.image or None,
                media_dir=request.app.state.media_dir,
            )
    except DomainError as error:
        return _form_page(request, session, actor, form.values, error=error)
    return see_other("/portal/promotions?note=created")


@router.get("/promotions/{promotion_id}")
def edit_promotion_form(
    request: Request, session: SessionDep, actor: Editor, promotion_id: IdPath
) -> Response:
    promotion = editable_promotion(session, actor, promotion_id)
    form = {
        "title": promotion.title,
        "text": promotion.body or "",
        "link": promotion.link or "",
        "starts_on": promotion.starts_on.isoformat(),
        "ends_on": promotion.ends_on.isoformat(),
        "product_ids": [str(p) for p in product_ids_of(session, promotion.id)],
        "image_file": promotion.image_file,
    }
    return _form_page(request, session, actor, form, promotion_id=promotion.id)


@router.post("/promotions/{promotion_id}", dependencies=[CsrfDep])
def edit_promotion(
    request: Request,
    session: SessionDep,
    actor: Editor,
    promotion_id: IdPath,
    form: Annotated[PromotionForm, Depends()],
) -> Response:
    try:
        with session.begin_nested():
            promotion = update_promotion(session, actor, promotion_id, **form.fields())
            if form.image:
                set_promotion_image(
                    session, actor, promotion_id, form.image, request.app.state.media_dir
                )
    except DomainError as error:
        values = {**form.values, "image_file": None}
        return _form_page(request, session, actor, values, promotion_id=promotion_id, error=error)
    return see_other(f"/portal/promotions?note=saved#promotion-{promotion.id}")


@router.post("/promotions/{promotion_id}/delete", dependencies=[CsrfDep])
def remove_promotion(
    request: Request, session: SessionDep, actor: Editor, promotion_id: IdPath
) -> Response:
    try:
        with session.begin_nested():
            delete_promotion(session, actor, promotion_id)
    except DomainError as error:
        today = vietnam_today()
        context = {
            "promotions": list_promotions(session, actor, today),
            "today": today,
            "error": error_text(request, error),
        }
        return portal_page(
            request, "catalog/promotions.html", context, status_code=error.status_code
        )
    return see_other("/portal/promotions?note=deleted")
