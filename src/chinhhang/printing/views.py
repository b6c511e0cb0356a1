"""Portal downloads: a run's codes for printing (owners and admins, audited) and a product's
static QR code (any member who sees the product; static codes are not secret).

The export form sits on the run's page, which belongs to stamps: stamps must not import
printing (it sits above), so web.py hands `run_export_part` to that page through
`app.state.run_page_parts`, and the page's template includes printing/run_export.html.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import may
from chinhhang.deps import CsrfDep, Requires, SessionDep
from chinhhang.errors import DomainError
from chinhhang.forms import Checkbox, IdPath, LongText, ShortText, checked
from chinhhang.portal import PORTAL_HEADERS, error_text
from chinhhang.printing.exports import FORMATS
from chinhhang.printing.options import MAX_CAPTION, PrintOptions
from chinhhang.printing.qr import DEFAULT_ERROR_LEVEL, ERROR_LEVELS
from chinhhang.printing.sealed import MAX_PASSWORD, MIN_PASSWORD
from chinhhang.printing.services import (
    WEB_EXPORT_COMFORT,
    default_caption,
    plan_export,
    planned_chunks,
    product_artwork,
)
from chinhhang.printing.templates import DEFAULT_TEMPLATE, TEMPLATES
from chinhhang.stamps.models import StampRun
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.views.runs import render_run_page

router = APIRouter(prefix="/portal", include_in_schema=False)
Exporter = Annotated[Actor, Depends(Requires("export_codes"))]
Viewer = Annotated[Actor, Depends(Requires("view"))]
FormatField = Annotated[str, Form(alias="format", max_length=20)]


def attachment(filename: str) -> dict[str, str]:
    """Headers of a download: saved under `filename` (ASCII, made by us), never shown inline
    (an SVG opened in the page could run script), never cached."""
    return {**PORTAL_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}


def run_export_part(
    _request: Request, session: Session, actor: Actor, run: StampRun
) -> dict[str, Any]:
    """What the run's page needs for its export form (given to it by web.py)."""
    if not may(session, actor, "export_codes"):
        return {}
    return {
        "print_formats": list(FORMATS),
        "print_templates": list(TEMPLATES.values()),
        "default_template": DEFAULT_TEMPLATE,
        "ec_levels": ERROR_LEVELS,
        "default_ec_level": DEFAULT_ERROR_LEVEL,
        "max_caption": MAX_CAPTION,
        "min_password": MIN_PASSWORD,
        "max_password": MAX_PASSWORD,
        "export_caption": default_caption(session, run),
        "export_suggest_cli": run.quantity > WEB_EXPORT_COMFORT,
        # What the range field takes (the page's own serial range is written with a dash).
        "export_range_example": "-".join(
            grouped(serial_for(n)) for n in (run.first_sequence, run.last_sequence)
        ),
    }


@router.post("/runs/{run_id}/export", dependencies=[CsrfDep])
def run_export(
    request: Request,
    session: SessionDep,
    actor: Exporter,
    run_id: IdPath,
    fmt: FormatField = "pdf",
    serials: LongText = "",
    template: ShortText = DEFAULT_TEMPLATE,
    scratch_off: Checkbox = None,
    crop_marks: Checkbox = None,
    caption: ShortText = "",
    ec_level: ShortText = DEFAULT_ERROR_LEVEL,
    password: ShortText = "",
) -> Response:
    # Everything as typed, to show again with an error; never the password.
    form = {
        "export_format": fmt,
        "export_serials": serials,
        "export_template": template,
        "export_scratch_off": "1" if checked(scratch_off) else "",
        "export_crop_marks": "1" if checked(crop_marks) else "",
        "export_caption": caption,
        "export_ec_level": ec_level,
    }
    secret = password or None  # the field left empty: not sealed
    try:
        with session.begin_nested():
            options = PrintOptions(
                template=template,
                scratch_off=checked(scratch_off),
                crop_marks=checked(crop_marks),
                ec_level=ec_level,
                caption=caption,
            )
            plan = plan_export(session, actor, run_id, fmt, serials, options, secret)
    except DomainError as error:
        errors = {"export": error_text(request, error)}
        return render_run_page(
            request, session, actor, run_id, errors=errors, form=form, status_code=error.status_code
        )
    # On record before the first byte: a download cut short still counts. The body is read
    # in a read-only session of its own, which takes no write lock on SQLite.
    session.commit()
    chunks = planned_chunks(
        request.app.state.read_sessions,
        plan,
        options,
        base_url=request.app.state.settings.base_url,
        workers=1,  # the request's thread; big runs go through the command line
        password=secret,
    )
    return StreamingResponse(
        chunks, media_type=plan.media_type, headers=attachment(plan.download_name)
    )


def _product_code(
    request: Request, session: Session, actor: Actor, product_id: int, kind: str
) -> Response:
    image = product_artwork(
        session, actor, product_id, kind, base_url=request.app.state.settings.base_url
    )
    return Response(image.content, media_type=image.media_type, headers=attachment(image.filename))


@router.get("/products/{product_id}/qr.svg")
def product_qr_svg(
    request: Request, session: SessionDep, actor: Viewer, product_id: IdPath
) -> Response:
    return _product_code(request, session, actor, product_id, "svg")


@router.get("/products/{product_id}/qr.png")
def product_qr_png(
    request: Request, session: SessionDep, actor: Viewer, product_id: IdPath
) -> Response:
    return _product_code(request, session, actor, product_id, "png")
