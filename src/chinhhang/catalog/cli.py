"""`chinhhang product …`."""

from __future__ import annotations

from datetime import datetime

import typer

from chinhhang.accounts.actor import Actor
from chinhhang.catalog.services import create_product, get_product, save_batch
from chinhhang.cli_support import clear_errors, unit_of_work

product_app = typer.Typer(help="Products and their batches (lots).")


@product_app.command("create")
@clear_errors
def create(
    org: int = typer.Option(..., "--org", help="Id of the manufacturer."),
    name: str = typer.Option(..., "--name", help="Product name as shoppers see it."),
    gtin: str | None = typer.Option(None, "--gtin", help="GTIN-8, -12, -13 or -14."),
    brand: str | None = typer.Option(None, "--brand"),
    origin: str | None = typer.Option(None, "--origin", help="Country or region of origin."),
    warranty_months: int = typer.Option(0, "--warranty-months", min=0, max=240),
) -> None:
    """Create a product and print its id."""
    with unit_of_work() as session:
        product = create_product(
            session,
            Actor.command_line(org),
            name=name,
            gtin=gtin,
            brand=brand,
            origin=origin,
            warranty_months=warranty_months,
        )
        product_id = product.id
    typer.echo(product_id)


@product_app.command("batch")
@clear_errors
def batch(
    product: int = typer.Option(..., "--product", help="Product id."),
    lot: str = typer.Option(..., "--lot", help="Lot number as printed (GS1 AI 10)."),
    facility: str | None = typer.Option(None, "--facility", help="Where it was made."),
    produced: datetime | None = typer.Option(
        None, "--produced", formats=["%Y-%m-%d"], help="Production date, YYYY-MM-DD."
    ),
    expires: datetime | None = typer.Option(
        None, "--expires", formats=["%Y-%m-%d"], help="Expiry date, YYYY-MM-DD."
    ),
) -> None:
    """Create a batch (lot) of a product, or update the one with that lot; print its id."""
    with unit_of_work() as session:
        found = save_batch(
            session,
            Actor.command_line(get_product(session, product).org_id),
            product_id=product,
            lot=lot,
            facility=facility,
            production_date=produced.date() if produced else None,
            expiry_date=expires.date() if expires else None,
        )
        batch_id = found.id
    typer.echo(batch_id)
