"""JSON API for printing under /api/v1: a run's codes as a file (owners and admins, audited),
and a product's static QR code.

The export answers with the file itself, streamed. It is counted on the run and written to
the audit log before the first byte is sent, so a download that breaks off is still on record.
With a `password` the file comes inside a ZIP encrypted with AES-256 (printing/sealed.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from pydantic import Field
from starlette.responses import Response, StreamingResponse

from chinhhang.accounts.actor import Actor
from chinhhang.api_support import Input, api_router
from chinhhang.deps import Requires, SessionDep, SettingsDep
from chinhhang.forms import IdPath
from chinhhang.printing.exports import FORMATS
from chinhhang.printing.options import MAX_CAPTION, PrintOptions
from chinhhang.printing.sealed import MAX_PASSWORD, MIN_PASSWORD
from chinhhang.printing.services import plan_export, planned_chunks, product_artwork
from chinhhang.printing.templates import DEFAULT_TEMPLATE, TEMPLATES
from chinhhang.printing.views import attachment
from chinhhang.stamps.services.selection import MAX_SERIALS_TEXT

router = api_router("printing")


class ExportRequest(Input):
    format: Literal["csv", "pdf", "zip"] = Field(
        description="csv: serial,code,url for a print house; pdf: label sheets; "
        "zip: one SVG per stamp."
    )
    serials: str | None = Field(
        default=None,
        max_length=MAX_SERIALS_TEXT,
        description="One range FIRST-LAST inside the run; the whole run when left out.",
        examples=["0000 0000 0013-0000 0000 0999"],
    )
    template: str = Field(
        default=DEFAULT_TEMPLATE,
        max_length=40,
        description=f"Label template (pdf): {', '.join(TEMPLATES)}.",
    )
    scratch_off: bool = Field(default=False, description="Mark a scratch-off area (pdf).")
    crop_marks: bool = Field(default=False, description="Draw crop marks (pdf).")
    caption: str = Field(
        default="", max_length=MAX_CAPTION, description="One line on every label (pdf)."
    )
    ec_level: Literal["L", "M", "Q", "H"] = Field(
        default="M", description="Error correction of the QR codes (pdf, zip)."
    )
    # The bounds are the service's (printing/sealed.py), which refuses with a translated
    # message; the document states them for clients.
    password: str | None = Field(
        default=None,
        description=f"Seal the file: it comes inside a ZIP encrypted with AES-256 that opens "
        f"only with this password ({MIN_PASSWORD} to {MAX_PASSWORD} characters, one line), "
        "saved as e.g. run-7.csv.zip. Never stored; give it to the print house by another "
        "channel.",
        json_schema_extra={"minLength": MIN_PASSWORD, "maxLength": MAX_PASSWORD},
        examples=["một mật khẩu dài"],
    )


def _binary(description: str, *media_types: str) -> dict[int | str, dict[str, Any]]:
    schema = {"type": "string", "format": "binary"}
    return {
        200: {
            "description": description,
            "content": {media_type: {"schema": schema} for media_type in media_types},
        }
    }


@router.post(
    "/runs/{run_id}/exports",
    summary="Export a run's codes as a file: CSV, PDF labels or a ZIP of SVGs (audited), "
    "optionally inside a password-protected ZIP",
    response_class=StreamingResponse,
    responses=_binary(
        "The file, as an attachment (application/zip when sealed with a password). Whoever "
        "holds it can clone the stamps.",
        *(f.media_type.split(";")[0] for f in FORMATS.values()),
    ),
)
def export_run(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(Requires("export_codes"))],
    run_id: IdPath,
    body: ExportRequest,
) -> Response:
    options = PrintOptions(
        template=body.template,
        scratch_off=body.scratch_off,
        crop_marks=body.crop_marks,
        ec_level=body.ec_level,
        caption=body.caption,
    )
    plan = plan_export(session, actor, run_id, body.format, body.serials, options, body.password)
    # On record before the first byte; the body is read in a read-only session of its own,
    # so the request's session (which wrote the count) is done before the download starts.
    session.commit()
    chunks = planned_chunks(
        request.app.state.read_sessions,
        plan,
        options,
        base_url=settings.base_url,
        workers=1,
        password=body.password,
    )
    return StreamingResponse(
        chunks, media_type=plan.media_type, headers=attachment(plan.download_name)
    )


@router.get(
    "/products/{product_id}/qr.svg",
    summary="A product's static QR code (GS1 Digital Link) as SVG",
    response_class=Response,
    responses=_binary("The SVG, as an attachment.", "image/svg+xml"),
)
def product_qr_svg(
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(Requires("view"))],
    product_id: IdPath,
) -> Response:
    image = product_artwork(session, actor, product_id, "svg", base_url=settings.base_url)
    return Response(image.content, media_type=image.media_type, headers=attachment(image.filename))
