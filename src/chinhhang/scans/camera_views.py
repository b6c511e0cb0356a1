"""`/scan`: the shopper's camera page, for phones whose camera app cannot read QR codes.

The page is the same for everyone (rendered once per language); reading happens in the
browser (static/qr-camera.js), and a stamp read opens `/v/CODE` like any camera app would,
so the scan is counted by the one hot path and nowhere else.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chinhhang.templating import pages_of

router = APIRouter(include_in_schema=False)


@router.get("/scan")
def camera_page(request: Request) -> Response:
    return pages_of(request).render_fixed(request, "scans/camera.html")
