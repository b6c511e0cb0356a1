"""What the report pages and the public JSON route share at the edge: the per-client budget
of reports, and reading the report form with its photo within a size limit.

Both read the request and the app's state, which services never see; the rules stay in
alerts/reports.py.
"""

from __future__ import annotations

import math
import time
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
# The form's text fields together: far below this (a text part past it is refused).
FIELDS_MARGIN = 64 * 1024
# A photo over 5 MB is still read to its end, its bytes past the limit dropped as they come,
# so that the text fields sent after it are kept for the form shown again: a phone's photo is
# rarely over 20 MB. A body past this is not read further (the fields after it are lost).
MAX_BODY = 32 * 1024 * 1024
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
        refused = TooManyReports(
            N_("Too many reports from this connection. Please try again in an hour.")
        )
        refused.headers["Retry-After"] = str(_seconds_left(throttle))
        raise refused


def _seconds_left(throttle: Throttle) -> int:
    """Until the client's budget comes back. In one process the windows are aligned on the
    monotonic clock (scans/throttle.py); through Redis each client's window starts with its
    first hit, so the whole window is the safe answer."""
    window = throttle.item.get_expiry() if throttle.item is not None else 0
    if throttle.shared is not None or window <= 0:
        return max(window, 1)
    return max(1, math.ceil(window - time.monotonic() % window))


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


class _ReportParser(MultiPartParser):
    """Keeps at most MAX_PHOTO_BYTES + 1 bytes of a file (enough to know it is too large) and
    drops the rest as it arrives, so a large photo costs neither memory nor disk and the text
    fields after it are still read. (Starlette's parser has no hook for this: `_current_part`
    is its own; tests/functional/test_reports.py sends photos over the limit, in both orders.)"""

    file_bytes = 0  # of the current part

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self.file_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is not None:
            room = MAX_PHOTO_BYTES + 1 - self.file_bytes
            end = start + max(0, min(end - start, room))
            self.file_bytes += end - start
            if end == start:
                return
        super().on_part_data(data, start, end)


async def _capped(request: Request) -> AsyncGenerator[bytes, None]:
    """The body's chunks up to MAX_BODY bytes (the parser reads the fields before the cut),
    then _TooLarge."""
    size = 0
    async for chunk in request.stream():
        if size + len(chunk) > MAX_BODY:
            yield chunk[: MAX_BODY - size]
            raise _TooLarge
        size += len(chunk)
        yield chunk


async def read_report_form(request: Request) -> SentReport:
    """The form's fields and photo. A photo over MAX_PHOTO_BYTES is "too large" before any
    decoding, with every text field kept; past MAX_BODY the rest of the body is never read."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    unreadable = InvalidInput(N_("The form could not be read; send it again."))
    if kind == "multipart/form-data":
        parser = _ReportParser(
            request.headers,
            _capped(request),
            max_files=1,
            max_fields=len(TEXT_FIELDS) + 4,
            max_part_size=FIELDS_MARGIN,
        )
        try:
            form = await parser.parse()
        except _TooLarge:  # the text read before the cut is still shown again
            return SentReport(values=_texts(parser.items), error=too_large())
        except MultiPartException:
            return SentReport(error=unreadable)
    elif kind == "application/x-www-form-urlencoded":
        try:
            form = await FormParser(request.headers, _capped(request)).parse()
        except (_TooLarge, MultiPartException):
            return SentReport(error=unreadable)
    else:
        return SentReport(error=unreadable)
    try:
        values = _texts(form.multi_items())
        upload = form.get("photo")
        photo = await _photo(upload) if isinstance(upload, UploadFile) else None
    finally:
        await form.close()
    if photo is not None and len(photo) > MAX_PHOTO_BYTES:
        return SentReport(values=values, error=too_large())
    return SentReport(values=values, photo=photo)


def _texts(items: list[tuple[str, str | UploadFile]]) -> dict[str, str]:
    return {name: value for name, value in items if isinstance(value, str)}


async def _photo(upload: UploadFile) -> bytes | None:
    """The photo's bytes (at most MAX_PHOTO_BYTES + 1), None when the field was left empty
    (no file chosen)."""
    data = await upload.read(MAX_PHOTO_BYTES + 1)
    if not data and not upload.filename:
        return None
    return data
