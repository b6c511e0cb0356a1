"""`chinhhang regulator …`: the dashboard's rollup worker in the foreground, beside `serve`
or alone (docs/regulator.md, "How the figures are kept")."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from chinhhang.cli_support import clear_errors, engine, note, settings
from chinhhang.db import make_sessionmaker
from chinhhang.regulator.rollups import RollupWorker, catch_up

regulator_app = typer.Typer(help="Market control: the dashboard's rollups.", no_args_is_help=True)


@regulator_app.command("rollup")
@clear_errors
def rollup(
    once: bool = typer.Option(False, "--once", help="Fold everything waiting, then exit."),
) -> None:
    """Fold new scan and stamp events into the dashboard's rollup tables until stopped.

    `serve` runs this worker itself unless CHINHHANG_ROLLUP_WORKER=0. Any number may run.
    """
    sessions = make_sessionmaker(engine())
    if once:
        folded = catch_up(sessions, settings())
        typer.echo(
            f"{folded['scan_events']} scan events and {folded['stamp_events']} stamp events folded"
        )
        return
    worker = RollupWorker(sessions, settings())

    def stop(_signal: int, _frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    note("rollup worker running; Ctrl-C or SIGTERM stops it")
    worker.run_forever()
    note("rollup worker stopped")
