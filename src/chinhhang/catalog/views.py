"""Portal pages for the catalogue: a manufacturer's products, their images, batches and GS1
Digital Link links, and how complete their traceability data is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from sqlalchemy.orm import Session
from starlette.responses import Response

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.data_items import completeness
from chinhhang.catalog.images import MAX_UPLOAD_BYTES
from chinhhang.catalog.link_types import GS1_PREFIX, LINK_TYPES
from chinhhang.catalog.links import add_link, delete_link, list_links, set_default_link
from chinhhang.catalog.models import Product
from chinhhang.catalog.services import (
    create_product,
    list_batches,
    list_products,
    product_data,
    product_for,
    products_completeness,
    save_batch,
    set_product_image,
    update_product,
)
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError
from chinhhang.forms import (
    Before,
    Checkbox,
    IdPath,
    LongText,
    ShortText,
    checked,
    optional_date,
    optional_text,
    whole_number,
)
from chinhhang.portal import error_text, portal_page, see_other

router = APIRouter(prefix="/portal", include_in_schema=False)
PAGE = 50
Viewer = Annotated[Actor, Depends(Requires("view"))]
Editor = Annotated[Actor, Depends(Requires("manage_products"))]
TEXT_FIELDS = ("brand", "origin", "standards", "certifications", "shelf_life", "website")


class ProductForm:
    """The product form's fields, as sent (re-shown on an error) and as the service takes them."""

    def __init__(
        self,
        name: ShortText = "",
        gtin: ShortText = "",
        brand: ShortText = "",
        description: LongText = "",
        origin: ShortText = "",
        standards: ShortText = "",
        certifications: ShortText = "",
        shelf_life: ShortText = "",
        warranty_months: ShortText = "",
        website: ShortText = "",
        redirect_to_website: Checkbox = None,
        withdrawn: Checkbox = None,
    ) -> None:
        self.values: dict[str, Any] = {
            "name": name,
            "gtin": gtin,
            "brand": brand,
            "description": description,
            "origin": origin,
            "standards": standards,
            "certifications": certifications,
            "shelf_life": shelf_life,
            "warranty_months": warranty_months,
            "website": website,
            "redirect_to_website": checked(redirect_to_website),
            "withdrawn": checked(withdrawn),
        }

    def details(self) -> dict[str, Any]:
        """Everything but name and GTIN, typed; raises InvalidInput for a bad number."""
        values = self.values
        return {
            **{field: values[field] for field in (*TEXT_FIELDS, "description")},
            "warranty_months": whole_number(
                values["warranty_months"], "warranty_months", default=0
            ),
            "redirect_to_website": values["redirect_to_website"],
        }


@router.get("/products")
def products_page(
    request: Request, session: SessionDep, actor: Viewer, before: Before = None
) -> Response:
    products = list_products(session, actor, before=before, limit=PAGE)
    next_url = f"/portal/products?before={products[-1].id}" if len(products) == PAGE else None
    context = {
        "products": products,
        "next_url": next_url,
        "completeness": products_completeness(session, actor, products),
    }
    return portal_page(request, "catalog/products.html", context)


@router.get("/products/new")
def new_product_form(request: Request, _actor: Editor) -> Response:
    return portal_page(request, "catalog/product_new.html", {"form": ProductForm().values})


@router.post("/products/new", dependencies=[CsrfDep])
def new_product(
    request: Request,
    session: SessionDep,
    actor: Editor,
    form: Annotated[ProductForm, Depends()],
) -> Response:
    values = form.values
    try:
        with session.begin_nested():  # a refusal leaves nothing behind
            product = create_product(
                session,
                actor,
                name=values["name"],
                gtin=optional_text(values["gtin"]),
                **form.details(),
            )
    except DomainError as error:
        context = {"form": values, "error": error_text(request, error)}
        return portal_page(
            request, "catalog/product_new.html", context, status_code=error.status_code
        )
    return see_other(f"/portal/products/{product.id}?note=created")


def _product_page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    product_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The product page; `errors` names the form that failed ("edit", "image", "batch",
    "link"), and `form` holds what that form sent."""
    product = product_for(session, actor, product_id)
    data_items = product_data(session, actor, product_id)
    context = {
        "product": product,
        "form": form if form is not None and "edit" in (errors or {}) else _form_of(product),
        "sent": form or {},
        "batches": list_batches(session, actor, product_id),
        "links": list_links(session, actor, product_id),
        "link_types": [(GS1_PREFIX + name, title) for name, title in LINK_TYPES.items()],
        "link_titles": {GS1_PREFIX + name: title for name, title in LINK_TYPES.items()},
        "static_url": _static_url(request, product),
        "data_items": data_items,
        "completeness": completeness(data_items),
        "errors": errors or {},
    }
    return portal_page(request, "catalog/portal_product.html", context, status_code=status_code)


def _form_of(product: Product) -> dict[str, Any]:
    fields = ("name", "gtin", *TEXT_FIELDS, "description", "redirect_to_website", "withdrawn")
    values = {field: getattr(product, field) for field in fields}
    values["warranty_months"] = str(product.warranty_months or 0)
    return values


def _static_url(request: Request, product: Product) -> str:
    """What the product's static QR code holds (SPEC section 2): GS1 Digital Link by GTIN."""
    base = str(request.app.state.settings.base_url).rstrip("/")
    return f"{base}/01/{product.gtin}" if product.gtin else f"{base}/p/{product.id}"


@router.get("/products/{product_id}")
def product_page(
    request: Request, session: SessionDep, actor: Viewer, product_id: IdPath
) -> Response:
    return _product_page(request, session, actor, product_id)


@router.post("/products/{product_id}", dependencies=[CsrfDep])
def product_edit(
    request: Request,
    session: SessionDep,
    actor: Editor,
    product_id: IdPath,
    form: Annotated[ProductForm, Depends()],
) -> Response:
    values = form.values
    try:
        with session.begin_nested():
            update_product(
                session,
                actor,
                product_id,
                name=values["name"],
                gtin=optional_text(values["gtin"]),
                withdrawn=values["withdrawn"],
                **form.details(),
            )
    except DomainError as error:
        errors = {"edit": error_text(request, error)}
        return _product_page(
            request,
            session,
            actor,
            product_id,
            errors=errors,
            form=values,
            status_code=error.status_code,
        )
    return see_other(f"/portal/products/{product_id}?note=saved")


@router.post("/products/{product_id}/image", dependencies=[CsrfDep])
def product_image(
    request: Request,
    session: SessionDep,
    actor: Editor,
    product_id: IdPath,
    image: Annotated[UploadFile | None, File()] = None,
) -> Response:
    # One byte more than allowed is enough to tell that a file is too large.
    data = image.file.read(MAX_UPLOAD_BYTES + 1) if image is not None else b""
    try:
        with session.begin_nested():
            set_product_image(session, actor, product_id, data, request.app.state.media_dir)
    except DomainError as error:
        errors = {"image": error_text(request, error)}
        return _product_page(
            request, session, actor, product_id, errors=errors, status_code=error.status_code
        )
    return see_other(f"/portal/products/{product_id}?note=image")


@router.post("/products/{product_id}/batches", dependencies=[CsrfDep])
def product_batch(
    request: Request,
    session: SessionDep,
    actor: Editor,
    product_id: IdPath,
    lot: ShortText = "",
    production_date: Annotated[str, Form(max_length=40)] = "",
    expiry_date: Annotated[str, Form(max_length=40)] = "",
    facility: ShortText = "",
    facility_gln: ShortText = "",
) -> Response:
    try:
        with session.begin_nested():
            save_batch(
                session,
                actor,
                product_id=product_id,
                lot=lot,
                facility=optional_text(facility),
                facility_gln=optional_text(facility_gln),
                production_date=optional_date(production_date, "production_date"),
                expiry_date=optional_date(expiry_date, "expiry_date"),
            )
    except DomainError as error:
        errors = {"batch": error_text(request, error)}
        return _product_page(
            request, session, actor, product_id, errors=errors, status_code=error.status_code
        )
    return see_other(f"/portal/products/{product_id}?note=batch")


@router.post("/products/{product_id}/links", dependencies=[CsrfDep])
def product_link_add(
    request: Request,
    session: SessionDep,
    actor: Editor,
    product_id: IdPath,
    link_type: ShortText = "",
    href: ShortText = "",
    title: ShortText = "",
    hreflang: ShortText = "",
    lot: ShortText = "",
    is_default: Checkbox = None,
) -> Response:
    sent = {"link_type": link_type, "href": href, "title": title, "hreflang": hreflang, "lot": lot}
    return _link_change(
        request,
        session,
        actor,
        product_id,
        lambda: add_link(session, actor, product_id, **sent, is_default=checked(is_default)),
        sent,
    )


@router.post("/products/{product_id}/links/{link_id}/default", dependencies=[CsrfDep])
def product_link_default(
    request: Request, session: SessionDep, actor: Editor, product_id: IdPath, link_id: IdPath
) -> Response:
    return _link_change(
        request,
        session,
        actor,
        product_id,
        lambda: set_default_link(session, actor, product_id, link_id),
    )


@router.post("/products/{product_id}/links/{link_id}/delete", dependencies=[CsrfDep])
def product_link_delete(
    request: Request, session: SessionDep, actor: Editor, product_id: IdPath, link_id: IdPath
) -> Response:
    return _link_change(
        request,
        session,
        actor,
        product_id,
        lambda: delete_link(session, actor, product_id, link_id),
    )


def _link_change(
    request: Request,
    session: Session,
    actor: Actor,
    product_id: int,
    change: Callable[[], object],
    sent: dict[str, str] | None = None,
) -> Response:
    """One change to the product's links: back to the links on success; on a refusal the page
    again with the message (and what was typed), the change undone by its savepoint."""
    try:
        with session.begin_nested():
            change()
    except DomainError as error:
        return _link_refused(request, session, actor, product_id, error, sent)
    return see_other(f"/portal/products/{product_id}?note=saved#links-title")


def _link_refused(
    request: Request,
    session: SessionDep,
    actor: Actor,
    product_id: int,
    error: DomainError,
    sent: dict[str, Any] | None = None,
) -> Response:
    """The product page again with the refusal above the links' form (and what was sent)."""
    errors = {"link": error_text(request, error)}
    return _product_page(
        request, session, actor, product_id, errors=errors, form=sent, status_code=error.status_code
    )
