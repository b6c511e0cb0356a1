"""`chinhhang stamps export`: a run's codes for the print house, counted and audited, and
sealed in a password-protected ZIP when a password file is given."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import BinaryIO

import typer

from chinhhang.accounts.actor import Actor
from chinhhang.cli_support import clear_errors, engine, fail, note, settings, unit_of_work
from chinhhang.db import make_read_sessionmaker
from chinhhang.printing.exports import FORMATS
from chinhhang.printing.options import PrintOptions
from chinhhang.printing.services import ExportPlan, plan_export, planned_chunks
from chinhhang.printing.templates import DEFAULT_TEMPLATE, TEMPLATES
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import get_run

STDOUT = "-"


@clear_errors
def export(
    run: int = typer.Argument(..., help="The run id `stamps issue` printed."),
    fmt: str = typer.Option(
        "csv", "--format", help="csv (serial,code,url), pdf (label sheets) or zip (an SVG each)."
    ),
    output: Path = typer.Option(..., "--output", help="File to write; '-' for stdout."),
    serials: str | None = typer.Option(
        None, "--serials", help='Only the range "FIRST-LAST" of the run (default: all of it).'
    ),
    template: str = typer.Option(
        DEFAULT_TEMPLATE, "--template", help=f"Label template for pdf: {', '.join(TEMPLATES)}."
    ),
    scratch_off: bool = typer.Option(
        False, "--scratch-off", help="Mark a scratch-off area on each label (pdf)."
    ),
    crop_marks: bool = typer.Option(False, "--crop-marks", help="Draw crop marks (pdf)."),
    caption: str = typer.Option(
        "", "--caption", help="One line printed on every label (pdf), e.g. the product."
    ),
    ec_level: str = typer.Option(
        "M", "--ec-level", help="QR error correction: L, M, Q or H (pdf, zip)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=64, help="Processes drawing pdf/zip; default: the CPUs."
    ),
    password_file: Path | None = typer.Option(
        None,
        "--password-file",
        help="Seal the file in a ZIP encrypted with AES-256 (7-Zip, WinZip, 7z x open it), "
        "under the password in this file ('-': stdin), one line of 12 to 200 characters. "
        "There is no --password option: every user of the server sees command lines (ps).",
    ),
) -> None:
    """Write a run's serials, codes and URLs (csv), labels (pdf) or QR images (zip).

    Whoever has this file can clone the stamps: keep it as secret as the stamps themselves.
    Every export is counted on the run and recorded in the organization's audit log.
    """
    to_stdout = str(output) == STDOUT
    if not to_stdout and output.is_dir():
        raise typer.BadParameter(f"{output} is a folder; name a file", param_hint="--output")
    password = None if password_file is None else read_password(password_file)
    try:
        # The file is made before the export is recorded, so a folder that cannot take it
        # fails here, with nothing on record.
        with nullcontext(None) if to_stdout else PartFile(output) as part:
            plan, options = _plan(
                run, fmt, serials, template, scratch_off, crop_marks, caption, ec_level, password
            )
            # Read-only: on SQLite a long export must not hold the write lock scans need.
            chunks = planned_chunks(
                make_read_sessionmaker(engine()),
                plan,
                options,
                base_url=settings().base_url,
                workers=workers or default_workers(),
                password=password,
            )
            size = _write(chunks, part.handle if part else typer.get_binary_stream("stdout"))
            if part:
                part.keep()
    except OSError as error:
        raise fail(f"Could not write {output}: {error.strerror or error}") from None
    _report(plan, output, size)


def read_password(path: Path) -> str:
    """The password in `path` (`-`: stdin), without the line break that ends it. A file that
    cannot be read, or holds no password, ends the command before anything is recorded."""
    try:
        if str(path) == STDOUT:
            text = typer.get_text_stream("stdin").read()
        else:
            text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise fail(f"Could not read the password from {path}: {reason or error}") from None
    password = text.removesuffix("\n").removesuffix("\r")
    if not password:
        raise fail(f"No password in {path}: nothing was exported.")
    return password


def _write(chunks: Iterable[bytes], out: BinaryIO) -> int:
    written = 0
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
    return written


def _plan(
    run: int,
    fmt: str,
    serials: str | None,
    template: str,
    scratch_off: bool,
    crop_marks: bool,
    caption: str,
    ec_level: str,
    password: str | None,
) -> tuple[ExportPlan, PrintOptions]:
    """Check, count and audit the export (committed): on record before the first byte."""
    with unit_of_work() as session:
        # Acting as an owner of the run's organization (the operator at the server), so the
        # export is checked like any other and audited "via cli".
        actor = Actor.command_line(get_run(session, run).org_id)
        options = PrintOptions(
            template=template,
            scratch_off=scratch_off,
            crop_marks=crop_marks,
            ec_level=ec_level,
            caption=caption,
        )
        return plan_export(session, actor, run, fmt, serials, options, password), options


def default_workers() -> int:
    """The cores this process may use (a container's share, not the host's), at most 8:
    each worker holds about 80 MB."""
    return max(1, min(8, len(os.sched_getaffinity(0))))


class PartFile:
    """A temporary file next to `output` (mode 600: it holds the codes), renamed over it by
    `keep()` only when complete; removed otherwise. A failed export leaves no half file, and
    an existing file as it was."""

    def __init__(self, output: Path) -> None:
        descriptor, name = tempfile.mkstemp(
            dir=output.parent, prefix=f".{output.name}.", suffix=".part"
        )
        self.path, self.output = Path(name), output
        self.handle: BinaryIO = os.fdopen(descriptor, "wb")
        self.kept = False

    def keep(self) -> None:
        self.handle.close()
        self.path.replace(self.output)
        self.kept = True

    def __enter__(self) -> PartFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        if not self.kept:
            self.handle.close()
            self.path.unlink(missing_ok=True)


def _report(plan: ExportPlan, output: Path, size: int) -> None:
    first, last = grouped(serial_for(plan.first)), grouped(serial_for(plan.last))
    stamps = "1 stamp" if plan.quantity == 1 else f"{plan.quantity:,} stamps"
    where = "stdout" if str(output) == "-" else str(output)
    form = FORMATS[plan.fmt].key
    if plan.sealed:
        form = f"{plan.filename} in a ZIP encrypted with AES-256"
    note(
        f"{stamps} of run {plan.run_id} ({first} to {last}) written to {where}"
        f" as {form} ({size:,} bytes); the export is in the audit log."
    )
    if plan.sealed:
        note(
            "It opens only with the password (7-Zip, WinZip, 7z x): give the password to the"
            " print house by another channel than the file, for instance by phone."
        )
    note("Whoever holds this file can clone these stamps: keep it as safe as the stamps.")
