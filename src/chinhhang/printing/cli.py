"""`chinhhang stamps export`: a run's codes for the print house."""

from __future__ import annotations

from pathlib import Path

import typer

from chinhhang.cli_support import clear_errors, note, settings, unit_of_work
from chinhhang.printing.exports import write_csv
from chinhhang.stamps.services import get_run


@clear_errors
def export(
    run: int = typer.Argument(..., help="The run id `stamps issue` printed."),
    fmt: str = typer.Option("csv", "--format", help="csv (pdf and zip: printing issue)."),
    output: Path = typer.Option(..., "--output", help="File to write; '-' for stdout."),
) -> None:
    """Write a run's serials, codes and URLs. Whoever has this file can clone the stamps:
    keep it as secret as the stamps themselves."""
    if fmt != "csv":
        raise typer.BadParameter(
            "only csv for now; pdf and zip arrive with printing", param_hint="--format"
        )
    with unit_of_work() as session:
        get_run(session, run)  # before the file is created: no empty file for a wrong id
        if str(output) == "-":
            count = write_csv(session, run, settings().base_url, typer.get_text_stream("stdout"))
        else:
            with output.open("w", encoding="utf-8", newline="") as handle:
                count = write_csv(session, run, settings().base_url, handle)
    note(f"{count:,} stamps of run {run} written to {output}.")
