"""What the report pages and the public JSON route share at the edge: the per-client budget
of reports, and reading the report form with its photo within a size limit.

Both read the request and the app's state, which services never see; the rules stay in
alerts/reports.py.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from starlette.datastructures import UploadFile
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request

from chinhhang.alerts.photos import MAX_PHOTO_BYTES, too_large
from chinhhang.alerts.report_fields import ReportFields
from chinhhang.errors import DomainError, InvalidInput
from chinhhang.i18n import N_
from chinhhang.scans.throttle import Throttle

# Per client (IPv4 address, IPv6 /64): enough for a family, too few to flood the workers.
REPORT_RATE = "10/hour"
# The form's text fields together: far below this, so any larger body is a too-large photo.
FIELDS_MARGIN = 64 * 1024
MAX_BODY = MAX_PHOTO_BYTES + FIELDS_MARGIN
TEXT_FIELDS = (
    "shop_name",
    "shop_address",
    "online_link",
    "province",
    "description",
    "contact_name",
    "contact_phone",
    "contact_email",
)


class TooManyReports(DomainError):
    """The client spent its reports for the hour (REPORT_RATE)."""

    status_code = 429


def check_report_budget(request: Request) -> None:
    """Count one report post for the client; TooManyReports once its budget is spent.

    One Throttle per app, made on first use (through Redis when the settings name one), so
    every worker counts the same budget. Refused posts count too: a flood is a flood."""
    state = request.app.state
    throttle: Throttle | None = getattr(state, "report_throttle", None)
    if throttle is None:
        throttle = Throttle(REPORT_RATE, state.settings.redis_url, name="report")
        state.report_throttle = throttle
    if not throttle.allow(request.client.host if request.client else None):
        raise TooManyReports(
            N_("Too many reports from this connection. Please try again in an hour.")
        )


@dataclass
class SentReport:
    """The report form as sent: its text (re-shown on a refusal), the photo's bytes, and the
    refusal of the body itself (too large, unreadable), if any."""

    values: dict[str, str] = field(default_factory=dict)
    photo: bytes | None = None
    error: DomainError | None = None

    @property
    def fields(self) -> ReportFields:
        return ReportFields(**{name: self.values.get(name, "") for name in TEXT_FIELDS})


class _TooLarge(Exception):
    """The body passed MAX_BODY: stop reading it."""


async def _capped(request: Request) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        yield chunk


async def read_report_form(request: Request) -> SentReport:
    """The form's fields and photo, counting the body's bytes as they arrive: past MAX_BODY
    the rest is never read and the answer is "too large", before any decoding."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "multipart/form-data":
            parser = MultiPartParser(
                request.headers,
                _capped(request),
                max_files=1,
                max_fields=len(TEXT_FIELDS) + 4,
                max_part_size=FIELDS_MARGIN,
            )
            form = await parser.parse()
        elif kind == "application/x-www-form-urlencoded":
            form = await FormParser(request.headers, _capped(request)).parse()
        else:
            return SentReport(error=InvalidInput(N_("The form could not be read; send it again.")))
    except _TooLarge:
        return SentReport(error=too_large())
    except MultiPartException:
        return SentReport(error=InvalidInput(N_("The form could not be read; send it again.")))
    try:
        values = {name: v for name, v in form.multi_items() if isinstance(v, str)}
        upload = form.get("photo")
        photo = await _photo(upload) if isinstance(upload, UploadFile) else None
    finally:
        await form.close()
    return SentReport(values=values, photo=photo)


async def _photo(upload: UploadFile) -> bytes | None:
    """The photo's bytes, None when the field was left empty (no file chosen)."""
    data = await upload.read(MAX_PHOTO_BYTES + 1)
    if not data and not upload.filename:
        return None
    return data
