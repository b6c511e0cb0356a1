"""Leak control for exports: who may export a run's codes, which stamps, and the record of it.

An export of dynamic codes is everything a forger needs to clone the stamps (SPEC section 9),
so `plan_export` is the one door to exports.py, for the command line, the portal and the API:
it checks the permission (owners and admins of an approved manufacturer), the run (the actor's
own, completely issued), the format, the options, the serial range and the password, if any;
then it counts the export on the run and writes the audit entry. The caller commits that
*before* the first byte is produced: a download that is cut off, or a file that is never
written, is still on record.
Bad input raises before anything is written, so it leaves neither an entry nor a count.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import record, require
from chinhhang.catalog.models import Product
from chinhhang.catalog.services import product_for
from chinhhang.errors import InvalidInput, NotFound
from chinhhang.i18n import N_
from chinhhang.printing import artwork
from chinhhang.printing.exports import FORMATS, export_stream, format_named
from chinhhang.printing.fonts import label_font
from chinhhang.printing.options import MAX_CAPTION, PrintOptions
from chinhhang.printing.sealed import SEALED_MEDIA_TYPE, SEALED_SUFFIX, export_password, seal
from chinhhang.printing.urls import product_print_url
from chinhhang.stamps.models import RUN_READY, Stamp, StampRun
from chinhhang.stamps.serials import serial_for
from chinhhang.stamps.services import run_for, serials_in_run

# Above this many stamps a PDF drawn on one core in the web request takes minutes; the run's
# page then points to the command line, which draws with every core.
WEB_EXPORT_COMFORT = 100_000


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """An export that was allowed, counted and audited: the stamps `first`..`last` (sequences,
    inclusive) of run `run_id`, as `fmt`, in a file called `filename`; when `sealed`, that file
    goes inside a password-protected ZIP (printing/sealed.py). The password is not kept here."""

    run_id: int
    fmt: str
    first: int
    last: int
    quantity: int
    filename: str
    sealed: bool = False

    @property
    def download_name(self) -> str:
        """What the download is saved as: `run-7.csv`, or `run-7.csv.zip` when sealed."""
        return self.filename + SEALED_SUFFIX if self.sealed else self.filename

    @property
    def media_type(self) -> str:
        return SEALED_MEDIA_TYPE if self.sealed else FORMATS[self.fmt].media_type


def plan_export(
    session: Session,
    actor: Actor,
    run_id: int,
    fmt: str,
    serials: str | None,
    options: PrintOptions,
    password: str | None = None,
) -> ExportPlan:
    """Check, count and audit an export (flushed; the caller commits before writing bytes).

    Raises Forbidden (role, kind of organization, approval pending), NotFound (no such run, or
    another organization's: the same answer), InvalidInput (a run still being issued, an
    unknown format, a malformed serial, a range outside the run, a list of serials, a password
    too short or too long). The options were checked when `options` was made (PrintOptions
    raises InvalidInput). With a password the export is to be sealed (`planned_chunks` does it
    when given the same password): the audit entry says `"sealed": true`, never the password.
    """
    org = require(session, actor, "export_codes")
    run = run_for(session, actor, run_id)
    if run.org_id != org.id:  # run_for lets regulators look; nobody exports another's codes
        raise NotFound(N_("No such stamp run."))
    if run.status != RUN_READY:
        raise InvalidInput(N_("This run is still being issued; export it once it is ready."))
    format_named(fmt)  # PrintOptions checked the rest when it was made
    sealed = export_password(password) is not None
    if fmt == "pdf":
        label_font()  # a server without its font refuses before the export is on record
    first, last = _export_range(session, actor, run, serials)
    quantity = last - first + 1
    # Atomic on the database: two exports at the same moment both count.
    session.execute(
        update(StampRun)
        .where(StampRun.id == run.id)
        .values(export_count=StampRun.export_count + 1),
        execution_options={"synchronize_session": False},
    )
    session.expire(run, ["export_count"])
    record(
        session,
        actor,
        "stamps.export",
        f"run:{run.id}",
        run=run.id,
        first=serial_for(first),
        last=serial_for(last),
        quantity=quantity,
        format=fmt,
        **_options_used(fmt, options),
        **({"sealed": True} if sealed else {}),
    )
    filename = _filename(run, first, last, fmt)
    return ExportPlan(run.id, fmt, first, last, quantity, filename, sealed)


def _options_used(fmt: str, options: PrintOptions) -> dict[str, Any]:
    """The options that shaped the file, for the audit entry (a CSV has none)."""
    if fmt == "pdf":
        return {
            "template": options.template,
            "scratch_off": options.scratch_off,
            "crop_marks": options.crop_marks,
            "ec_level": options.ec_level,
            "caption": options.caption,
        }
    return {"ec_level": options.ec_level} if fmt == "zip" else {}


def _export_range(
    session: Session, actor: Actor, run: StampRun, serials: str | None
) -> tuple[int, int]:
    """The whole run, or one range "FIRST-LAST" (a single serial is a range of one) inside it.

    Lists are refused: an export is recorded as one range, so that the audit log says exactly
    which stamps left the building.
    """
    text = (serials or "").strip()
    if not text:
        return run.first_sequence, run.last_sequence
    if _is_list(text):
        raise InvalidInput(
            N_("Export one range of serials, FIRST-LAST, or the whole run; not a list.")
        )
    ((first, last),) = serials_in_run(session, actor, run.id, text).ranges()
    return first, last


def _is_list(serials: str) -> bool:
    """More than one serial written out ("S1, S2" or one per line), even if consecutive."""
    items = [s for s in serials.replace("\n", ",").split(",") if s.strip()]
    return len(items) > 1


def _filename(run: StampRun, first: int, last: int, fmt: str) -> str:
    suffix = FORMATS[fmt].suffix
    if (first, last) == (run.first_sequence, run.last_sequence):
        return f"run-{run.id}.{suffix}"
    return f"run-{run.id}-{serial_for(first)}-{serial_for(last)}.{suffix}"


def planned_chunks(
    sessions: sessionmaker[Session],
    plan: ExportPlan,
    options: PrintOptions,
    *,
    base_url: str,
    workers: int = 1,
    password: str | None = None,
) -> Iterator[bytes]:
    """The bytes of a planned export, read in a session of their own from `sessions`; sealed
    with `password` (the one given to `plan_export`) when the plan says so.

    For HTTP responses and the command line: the session that wrote the count is committed;
    the download reads apart from it. `sessions` should be a read-only sessionmaker, so that on
    SQLite a long download holds no write lock. The first chunk is produced here, before the
    response starts, so a failure to render becomes an error answer rather than a truncated
    file; the session closes when the stream ends or is dropped.
    """

    def chunks() -> Iterator[bytes]:
        session = sessions()
        try:
            yield from export_stream(
                session,
                plan.run_id,
                plan.fmt,
                base_url=base_url,
                first=plan.first,
                last=plan.last,
                options=options,
                workers=workers,
            )
        finally:
            session.rollback()
            session.close()

    stream = chunks()
    if plan.sealed or password is not None:
        stream = _sealed(stream, plan, password)
    first = next(stream, b"")
    return chain((first,), stream)


def _sealed(stream: Iterator[bytes], plan: ExportPlan, password: str | None) -> Iterator[bytes]:
    """`stream` sealed with `password`. A password and a plan that disagree are a caller's
    mistake (ValueError): what was audited sealed is never sent in the clear, nor the reverse."""
    checked = export_password(password)
    if not plan.sealed or checked is None:
        raise ValueError("seal an export exactly when it was planned with a password")
    return seal(stream, plan.filename, checked)


def default_caption(session: Session, run: StampRun) -> str:
    """What a label says by default: the name of the product the run's first stamp was
    activated for (or the run will be), else nothing. One row by key, so the run's page
    stays cheap for a run of millions."""
    product_id = session.scalar(
        select(Stamp.product_id).where(
            Stamp.org_id == run.org_id, Stamp.sequence == run.first_sequence
        )
    )
    product_id = product_id or run.activate_product_id
    if product_id is None:
        return ""
    name = session.scalar(select(Product.name).where(Product.id == product_id))
    return (name or "")[:MAX_CAPTION]


def _short(text: str, width: int) -> str:
    """At most `width` characters, cut with "…" (at a space where one is near)."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > width // 2 else cut).rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Artwork:
    filename: str
    media_type: str
    content: bytes


ARTWORK_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def product_artwork(
    session: Session, actor: Actor, product_id: int, kind: str, *, base_url: str
) -> Artwork:
    """The product's static QR code as SVG or PNG, for any member who may see the product
    (NotFound otherwise). Static codes are printed on every item and are not secret: no audit.
    """
    if kind not in ARTWORK_TYPES:  # the routes name it; no one types it
        raise ValueError(kind)
    product = product_for(session, actor, product_id)
    url = product_print_url(base_url, product.gtin, product.id)
    caption = product.gtin or _short(product.name, 32)
    render = artwork.product_code_svg if kind == "svg" else artwork.product_code_png
    return Artwork(f"product-{product.id}.{kind}", ARTWORK_TYPES[kind], render(url, caption))
