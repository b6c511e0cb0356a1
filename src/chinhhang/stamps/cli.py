"""`chinhhang stamps …`: issue, activate and void stamp runs; `chinhhang keys …`: their
tag keys."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.services import find_batch
from chinhhang.cli_support import clear_errors, engine, note, settings, unit_of_work
from chinhhang.db import utcnow
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import (
    Selection,
    activate,
    check_binding,
    create_run,
    fill_run,
    void,
)
from chinhhang.stamps.services.keys import key_statuses, retire_key, rotate_key

stamps_app = typer.Typer(help="Dynamic stamps: issue runs, activate them, void them.")


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal; silence in pipes and logs."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("Issuing stamps", total=total)
        yield lambda n: bar.advance(task, n)


@stamps_app.command("issue")
@clear_errors
def issue(
    org: int = typer.Option(..., "--org", help="Id of the issuing organization."),
    quantity: int = typer.Option(..., "--quantity", help="How many stamps (up to 50,000,000)."),
    scan_limit: int = typer.Option(1, "--scan-limit", help="Genuine scans allowed per stamp."),
    grace_minutes: int | None = typer.Option(
        None, "--grace-minutes", help="Same-browser grace period; 0 = strict."
    ),
    product: int | None = typer.Option(None, "--product", help="Product id to bind to."),
    batch: str | None = typer.Option(None, "--batch", help="Lot number of the product's batch."),
    do_activate: bool = typer.Option(False, "--activate", help="Activate the run at once."),
) -> None:
    """Issue a run of stamps and print the run id (a summary goes to stderr)."""
    if (batch or do_activate) and product is None:
        raise typer.BadParameter("--batch and --activate need --product")
    grace = settings().default_grace_minutes if grace_minutes is None else grace_minutes
    with unit_of_work() as session:
        if product is not None:
            # Everything activation needs is checked before a single stamp is written.
            check_binding(session, org_id=org, product_id=product, lot=batch)
            new_lot = batch is not None and find_batch(session, product, batch) is None
        run = create_run(
            session,
            Actor.command_line(org),
            quantity=quantity,
            scan_limit=scan_limit,
            grace_minutes=grace,
            key_id=settings().keyring.current,
        )
    with progress_bar(quantity) as advance:
        fill_run(engine(), run, settings().keyring, advance)
    activated = 0
    if do_activate and product is not None:
        with unit_of_work() as session:
            activated = activate(
                session,
                Actor.command_line(org),
                selection=Selection(run_id=run.id),
                product_id=product,
                lot=batch,
            )
    note(
        f"Run {run.id}: {quantity:,} stamps, serials {grouped(serial_for(run.first_sequence))}"
        f" to {grouped(serial_for(run.last_sequence))}, scan limit {scan_limit}, "
        + (f"{activated:,} activated." if do_activate else "not activated yet.")
    )
    if do_activate and batch and new_lot:
        note(f"Lot {batch} was new for product {product}: it was created.")
    note(f"Codes: chinhhang stamps export {run.id} --format csv --output run-{run.id}.csv")
    typer.echo(run.id)


def _selection(run: int | None, serials: str | None) -> Selection:
    return Selection.parse(run_id=run, serials=serials)


@stamps_app.command("activate")
@clear_errors
def activate_command(
    org: int = typer.Option(..., "--org", help="Id of the issuing organization."),
    product: int = typer.Option(..., "--product", help="Product the stamps go on."),
    run: int | None = typer.Option(None, "--run", help="A whole run."),
    serials: str | None = typer.Option(
        None, "--serials", help='A range "FIRST-LAST" or a list "S1,S2,…" of serials.'
    ),
    batch: str | None = typer.Option(None, "--batch", help="Lot number of the batch."),
) -> None:
    """Activate issued stamps (bind them to a product); print how many changed."""
    with unit_of_work() as session:
        new_lot = batch is not None and find_batch(session, product, batch) is None
        changed = activate(
            session,
            Actor.command_line(org),
            selection=_selection(run, serials),
            product_id=product,
            lot=batch,
        )
    note(f"{changed:,} stamps activated (stamps not in the issued state are left as they are).")
    if batch and new_lot:
        note(f"Lot {batch} was new for product {product}: it was created.")
    typer.echo(changed)


@stamps_app.command("void")
@clear_errors
def void_command(
    org: int = typer.Option(..., "--org", help="Id of the issuing organization."),
    run: int | None = typer.Option(None, "--run", help="A whole run."),
    serials: str | None = typer.Option(
        None, "--serials", help='A range "FIRST-LAST" or a list "S1,S2,…" of serials.'
    ),
) -> None:
    """Void stamps (lost, stolen or misprinted); print how many changed."""
    with unit_of_work() as session:
        changed = void(session, Actor.command_line(org), selection=_selection(run, serials))
    note(f"{changed:,} stamps voided (stamps already void are left as they are).")
    typer.echo(changed)


keys_app = typer.Typer(help="Code-tag keys: list, rotate to a new one, retire an old one.")


@keys_app.command("list")
@clear_errors
def list_keys() -> None:
    """Every key id with its state and the stamps that still use it (never a secret)."""
    current = settings()
    with unit_of_work() as session:
        statuses = key_statuses(session, current.keyring_path, current.keyring)
    typer.echo("id\tstate\tsince\tfingerprint\tstamps in use")
    for status in statuses:
        typer.echo(
            f"{status.key_id}\t{status.state}\t{status.since or '-'}\t"
            f"{status.fingerprint or '-'}\t{status.stamps_in_use}"
        )


@keys_app.command("rotate")
@clear_errors
def rotate() -> None:
    """Add a new key for new runs; stamps under the older keys keep verifying."""
    path = settings().keyring_path
    with unit_of_work() as session:
        new_id = rotate_key(session, path, utcnow())
    typer.echo(new_id)
    note(
        f"Key {new_id} is now current ({path}). Back this file up; if your servers do not "
        "share it, copy it to each of them: running servers follow it within a second."
    )


@keys_app.command("retire")
@clear_errors
def retire(key_id: int = typer.Argument(..., help="The key id to erase.")) -> None:
    """Erase an old key; refused while stamps that are not void still use it."""
    path = settings().keyring_path
    with unit_of_work() as session:
        retire_key(session, path, key_id, utcnow())
    note(f"Key {key_id} is retired: codes under it no longer verify (servers follow in a second).")
