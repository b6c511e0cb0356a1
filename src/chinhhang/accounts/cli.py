"""`chinhhang org …`."""

from __future__ import annotations

import typer

from chinhhang.accounts.models import ORG_KINDS
from chinhhang.accounts.services import create_organization
from chinhhang.cli_support import clear_errors, unit_of_work

org_app = typer.Typer(help="Organizations: manufacturers, distributors, retailers, regulators.")


@org_app.command("create")
@clear_errors
def create(
    name: str = typer.Option(..., "--name", help="The organization's name."),
    kind: str = typer.Option(..., "--kind", help=" | ".join(ORG_KINDS)),
    address: str | None = typer.Option(None, "--address", help="Registered address."),
) -> None:
    """Create an organization and print its id."""
    with unit_of_work() as session:
        org = create_organization(session, name=name, kind=kind, address=address)
        org_id = org.id
    typer.echo(org_id)
