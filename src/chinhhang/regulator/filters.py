"""The dashboard's filters: a date range on Vietnam's calendar, a province, an organization and
a product, read from the address's query (the route's "parse" step; pure).

Every value typed wrong is an InvalidInput with a message naming the field: the page shows it
above the filter form with status 400, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from chinhhang.errors import InvalidInput
from chinhhang.i18n import N_
from chinhhang.localtime import DISPLAY_ZONE
from chinhhang.provinces import parse_province, province_name
from chinhhang.stamps.serials import InvalidSerial, sequence_of

# Vietnam's clock: a "day" on the dashboard is a day there, whatever the server's zone.
DEFAULT_DAYS = 30
# A year and a day (a leap year's whole year); a wider range would only be a slow page.
MAX_DAYS = 366
# Far enough for any real figure; the bounds keep zone arithmetic away from year 1 and 9999.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
MAX_ID = 2**31 - 1
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class Filters:
    first: date
    # Inclusive: the last day shown.
    last: date
    province: int | None = None
    org_id: int | None = None
    product_id: int | None = None

    @property
    def since(self) -> datetime:
        """The first day's midnight in Vietnam, in UTC (scan times are stored in UTC)."""
        return datetime.combine(self.first, time(0), DISPLAY_ZONE).astimezone(UTC)

    @property
    def until(self) -> datetime:
        """The midnight after the last day, in UTC: the range is [since, until)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), DISPLAY_ZONE).astimezone(
            UTC
        )

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def query(self, **changes: int | None) -> str:
        """The filters as an address query (for links and CSV exports), with `changes`."""
        chosen = replace(self, **changes) if changes else self  # type: ignore[arg-type]
        pairs: list[tuple[str, str]] = [
            ("from", chosen.first.isoformat()),
            ("to", chosen.last.isoformat()),
        ]
        for key, value in (
            ("province", chosen.province),
            ("org", chosen.org_id),
            ("product", chosen.product_id),
        ):
            if value is not None:
                pairs.append((key, str(value)))
        return urlencode(pairs)


def province_label(code: int | None) -> str | None:
    """The province's name; its number if the code names no province today (a code stored
    before a reform of the map); None for an unknown place."""
    if code is None:
        return None
    return province_name(code) or str(code)


def parse_filters(
    *,
    first: str = "",
    last: str = "",
    province: str = "",
    org: str = "",
    product: str = "",
    today: date,
) -> Filters:
    """The filters from the query's text; empty means the default (the last 30 days ending
    `today`, every province, organization and product).

    Raises InvalidInput for a date that is not YYYY-MM-DD, a start after the end, a range of
    more than MAX_DAYS days, an unknown province code or an id that is not a number.
    """
    last_day = _day(last, N_("The end date must be a date written as YYYY-MM-DD.")) or today
    first_day = _day(first, N_("The start date must be a date written as YYYY-MM-DD."))
    first_day = first_day or last_day - timedelta(days=DEFAULT_DAYS - 1)
    if first_day > last_day:
        raise InvalidInput(N_("The start date is after the end date."))
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise InvalidInput(N_("Choose a range of at most %(n)s days."), n=MAX_DAYS)
    return Filters(
        first=first_day,
        last=last_day,
        province=parse_province(province),
        org_id=parse_id(org, N_("The organization must be given by its number.")),
        product_id=parse_id(product, N_("The product must be given by its number.")),
    )


def _day(text: str, malformed: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        # fromisoformat alone also takes "20261127" and week dates: only the form the date
        # field sends is accepted.
        value = date.fromisoformat(text) if _ISO_DAY.match(text) else None
    except ValueError:
        value = None
    if value is None:
        raise InvalidInput(malformed)
    if not FIRST_DAY <= value <= LAST_DAY:
        raise InvalidInput(N_("Choose dates between the years 2000 and 2099."))
    return value


def parse_id(text: str, malformed: str) -> int | None:
    """An organization's or product's number; None when empty, InvalidInput(`malformed`)
    when not a number in the ids' range."""
    text = text.strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 10 or not 1 <= int(text) <= MAX_ID:
        raise InvalidInput(malformed)
    return int(text)


def parse_stamp(org: str, serial: str) -> tuple[int | None, int] | None:
    """The stamp a drill-down asks for: (issuer's number or None, serial sequence), or None
    when no serial was given (the page then shows the form).

    The serial may be typed grouped ("0000 0012 3458") or as digits; its check digit is
    verified, so a mistyped serial is refused before anything is read.
    """
    serial = serial.strip()
    org_id = parse_id(org, N_("The organization must be given by its number."))
    if not serial:
        return None
    try:
        sequence = sequence_of(serial)
    except InvalidSerial:
        raise InvalidInput(
            N_(
                "This serial number is not valid: it has 12 digits and the last one is a check "
                "digit. Compare it with the stamp again."
            )
        ) from None
    return org_id, sequence
