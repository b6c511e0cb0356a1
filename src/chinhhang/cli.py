"""The `chinhhang` command (SPEC section 5)."""

from __future__ import annotations

import os
from typing import Any

import typer

from chinhhang import serving
from chinhhang.accounts.cli import org_app, token_app, user_app
from chinhhang.alerts.cli import alerts_app
from chinhhang.catalog.cli import product_app
from chinhhang.cli_support import clear_errors, engine, settings
from chinhhang.db import make_sessionmaker, upgrade_database
from chinhhang.demo import (
    DEMO_PASSWORD,
    DEMO_USERS,
    DISTRIBUTOR,
    MANUFACTURER,
    REGULATOR,
    RETAILER,
    load_demo,
)
from chinhhang.observability.logs import LogFormat, logging_config
from chinhhang.observability.metrics import prepare_multiprocess_dir
from chinhhang.printing.cli import export
from chinhhang.regulator.cli import regulator_app
from chinhhang.stamps.cli import keys_app, stamps_app

# The cores this process may run on (a container's CPU set, not the host's), at most 64.
DEFAULT_WORKERS = max(1, min(len(os.sched_getaffinity(0)), 64))
# The web app, as an import string: each worker process imports it for itself.
APP = "chinhhang.web:create_app"

app = typer.Typer(
    help="Chính Hãng: genuine-goods verification with QR codes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.")
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(product_app, name="product")
app.add_typer(stamps_app, name="stamps")
app.add_typer(keys_app, name="keys")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(alerts_app, name="alerts")
app.add_typer(regulator_app, name="regulator")
# Exports belong to printing, which sits above stamps; the command still reads `stamps export`.
stamps_app.command("export")(export)


@db_app.command("upgrade")
@clear_errors
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    upgrade_database(settings())
    typer.echo("database is up to date")


@app.command()
@clear_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(
        DEFAULT_WORKERS, "--workers", min=1, max=64, help="Worker processes (default: cores)."
    ),
    graceful_timeout: int = typer.Option(
        30,
        "--graceful-timeout",
        min=1,
        max=3600,
        help="On SIGTERM, seconds in-flight requests get to finish before workers stop.",
    ),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1",
        "--forwarded-allow-ips",
        help="Proxy addresses trusted for X-Forwarded-For/-Proto (comma-separated, or *).",
    ),
    log_format: LogFormat = typer.Option(
        LogFormat.json,
        "--log-format",
        help="Log lines as JSON objects (one a line) or as text (docs/observability.md).",
    ),
) -> None:
    """Migrate the database, then serve the web app."""
    upgrade_database(settings())
    settings().secret  # noqa: B018 - create the secret file once, before workers race for it
    # Several workers share their metrics through files (docs/observability.md).
    prepare_multiprocess_dir(port, workers)
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,
        "timeout_graceful_shutdown": graceful_timeout,
        # A worker importing the app on a busy machine can take longer than uvicorn's 5 s.
        "timeout_worker_healthcheck": 60,
        "server_header": False,
        "access_log": False,
        "log_config": logging_config(log_format.value),
    }
    serving.run(APP, **options)  # several workers: each on a socket of its own (serving.py)


@app.command()
@clear_errors
def demo() -> None:
    """Load demo organizations, products and stamp runs; print URLs to try. Idempotent."""
    result = load_demo(engine(), make_sessionmaker(engine()), settings().keyring)
    base = settings().base_url
    typer.echo("Demo organizations:")
    typer.echo(f"  manufacturer  #{result.manufacturer_id}  {MANUFACTURER}")
    typer.echo(f"  distributor   #{result.distributor_id}  {DISTRIBUTOR}")
    typer.echo(f"  retailer      #{result.retailer_id}  {RETAILER}")
    typer.echo(f"  regulator     #{result.regulator_id}  {REGULATOR}")
    typer.echo(f"\nPortal {base}/portal — every demo login has the password {DEMO_PASSWORD}:")
    for email, org_name, role in DEMO_USERS:
        typer.echo(
            f"  {email:<26} {role or 'platform operator'}" + (f", {org_name}" if org_name else "")
        )
    typer.echo("\nStatic product codes (scan as often as you like):")
    for gtin, lot in zip(result.gtins, result.lots, strict=True):
        typer.echo(f"  {base}/01/{gtin}    {base}/01/{gtin}/10/{lot}")
    typer.echo("\nDynamic stamps (each genuine once, then over limit):")
    for code in result.genuine_codes:
        typer.echo(f"  {base}/v/{code}")
    if result.limit3_codes:
        # The water filters went maker → distributor → retailer: their page shows the journey.
        typer.echo(
            f"  scan limit 3:   {base}/v/{result.limit3_codes[0]}"
            "  (with its journey, warranty and a promotion)"
        )
    if result.not_activated_code:
        typer.echo(f"  not activated:  {base}/v/{result.not_activated_code}")
    if result.void_code:
        typer.echo(f"  void:           {base}/v/{result.void_code}")
    gtin = result.gtins[0]
    typer.echo("\nTraceability (docs/traceability.md):")
    typer.echo(f"  linkset:        {base}/01/{gtin}?linkType=linkset")
    typer.echo(f"  resolver:       {base}/.well-known/gs1resolver")
    typer.echo(f"  EPCIS events:   {base}/epcis/events  (an API token, or signed in to the portal)")
    typer.echo("\nAlerts, reports, warranty, market control (docs/alerts.md):")
    typer.echo("  open a dynamic stamp twice: the red page offers a report; the manufacturer's")
    typer.echo(f"  dashboard shows the alert live ({base}/portal); warranty: {base}/warranty")
    typer.echo(f"  the agency's figures: {base}/regulator (as thanhtra@qltt.demo)")
    if result.waiting:
        run_id, first, last = result.waiting
        typer.echo(
            "\nScanning with a phone or webcam (docs/scanner.md): print the labels on their way"
        )
        typer.echo(
            "to the distributor, then read them as kho@miennam.demo at " + f"{base}/portal/scan"
        )
        # With the server's address: labels printed for another address read as another
        # site's to the scanner (after `PORT=8080 make run`, say).
        typer.echo(
            f"  CHINHHANG_BASE_URL={base} .venv/bin/chinhhang stamps export {run_id} "
            f"--format pdf --serials {first}-{last} --output waiting.pdf"
        )
    typer.echo(f"  shoppers whose camera app cannot read QR codes: {base}/scan")
    typer.echo("\nRun `chinhhang demo` again for fresh unscanned stamps.")


def main() -> None:
    app()
