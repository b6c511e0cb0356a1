"""`chinhhang alerts …`: the delivery worker in the foreground, beside `serve` or alone."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from chinhhang.alerts.worker import AlertWorker
from chinhhang.cli_support import clear_errors, engine, note, settings
from chinhhang.db import make_sessionmaker

alerts_app = typer.Typer(help="Alerts: the delivery worker.", no_args_is_help=True)


@alerts_app.command("worker")
@clear_errors
def worker(
    once: bool = typer.Option(False, "--once", help="Do one pass and exit."),
) -> None:
    """Turn suspicious scans into alerts and deliver them (webhooks, e-mail) until stopped.

    For a worker of its own, run `serve` with CHINHHANG_ALERT_WORKER=0. Any number may run.
    """
    alert_worker = AlertWorker(make_sessionmaker(engine()), settings())
    if once:
        grouped, sent = alert_worker.run_once()
        typer.echo(f"{grouped} outbox rows grouped, {sent} deliveries attempted")
        return

    def stop(_signal: int, _frame: FrameType | None) -> None:
        alert_worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    note("alert worker running; Ctrl-C or SIGTERM stops it")
    alert_worker.run_forever()
    note("alert worker stopped")
