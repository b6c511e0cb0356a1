"""`/place`: the shopper shares where they scanned, from a verdict page.

Two ways in, one service (scans/place.py): place.js posts JSON `{t, lat, lon}` with fetch and
gets JSON back; the province form (`GET /place?t=…`, linked from the verdict page) posts `t`
and `province` as a plain form (no JavaScript needed) and gets a thank-you page. Not under
`/v/`, which is the hot path's route. No CSRF
token: the scan token is the capability (signed, bound to one scan, an hour long), and a
shopper has no session another site could ride.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from chinhhang.deps import PagesDep, SessionDep
from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.provinces import all_provinces, province_name
from chinhhang.scans.place import number_of_text, share_place
from chinhhang.scans.sql import GENUINE
from chinhhang.web_headers import NO_STORE

router = APIRouter(include_in_schema=False)
# A token, two numbers and a province code fit in a few hundred bytes.
MAX_BODY = 4096


@dataclass(frozen=True, slots=True)
class PlaceInput:
    json: bool
    token: str | None
    latitude: object
    longitude: object
    province: str | int | None


async def _body(request: Request) -> bytes:
    """The request body, refused (InvalidInput) past MAX_BODY without reading the rest."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise InvalidInput(N_("The request is too large."))
        chunks.append(chunk)
    return b"".join(chunks)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


async def place_input(request: Request) -> PlaceInput:
    """JSON from place.js, or the province form's fields; InvalidInput for anything else.

    In JSON the coordinates must be JSON numbers ("21" is refused by the service); a form can
    only send text, which is read as a number here."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await _body(request)
    if kind == "application/json":
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise InvalidInput(N_('Send a JSON object: {"t": …, "lat": …, "lon": …}.'))
        province = data.get("province")
        return PlaceInput(
            True,
            _text(data.get("t")),
            data.get("lat"),
            data.get("lon"),
            province if isinstance(province, (str, int)) else None,
        )
    if kind != "application/x-www-form-urlencoded":
        raise InvalidInput(N_("The request is not valid: send the form or JSON."))
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), max_num_fields=10))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(N_("The request is not valid: send the form or JSON.")) from None
    lat, lon = number_of_text(fields.get("lat")), number_of_text(fields.get("lon"))
    return PlaceInput(False, fields.get("t"), lat, lon, fields.get("province"))


@router.get("/place")
def place_form(request: Request, pages: PagesDep) -> Response:
    """The province form a verdict page links to (the token travels in the address; it is
    checked when the form is sent, so an old link ends in a clear error, not here)."""
    token = request.query_params.get("t", "")[:200]
    context = {"token": token, "provinces": all_provinces()}
    return pages.render(request, "scans/place_form.html", context, headers=dict(NO_STORE))


@router.post("/place")
def place(
    request: Request,
    session: SessionDep,
    pages: PagesDep,
    sent: Annotated[PlaceInput, Depends(place_input)],
) -> Response:
    """Store the rounded place with the token's scan; 400 (nothing stored) for bad input."""
    shared = share_place(
        session,
        request.app.state.scan_token_key,
        sent.token,
        latitude=sent.latitude,
        longitude=sent.longitude,
        province=sent.province,
    )
    if sent.json:
        answer = {
            "saved": True,
            "latitude": shared.latitude,
            "longitude": shared.longitude,
            "province_code": shared.province_code,
            "province": province_name(shared.province_code),
        }
        return JSONResponse(answer, headers=NO_STORE)
    context = {
        "place": province_name(shared.province_code),
        # After a warning, the next step is the report: offer it with the same token.
        "offer_report": shared.outcome != GENUINE,
        "token": sent.token,
    }
    return pages.render(request, "scans/place_thanks.html", context, headers=dict(NO_STORE))
