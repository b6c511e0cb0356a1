"""`chinhhang org …`, `chinhhang user …`, `chinhhang token …`."""

from __future__ import annotations

import typer

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import ORG_KINDS, ROLES
from chinhhang.accounts.services import (
    add_membership,
    approve_organization,
    create_organization,
    create_user,
    find_user,
    get_organization,
    issue_token,
    record,
    unlock,
)
from chinhhang.cli_support import clear_errors, note, unit_of_work

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


user_app = typer.Typer(help="Portal accounts.")
token_app = typer.Typer(help="API tokens for scripts (Authorization: Bearer …).")


@user_app.command("create")
@clear_errors
def create_user_command(
    email: str = typer.Option(..., "--email", help="The login e-mail address."),
    org: int | None = typer.Option(None, "--org", help="Id of the organization to join."),
    role: str | None = typer.Option(None, "--role", help=" | ".join(ROLES)),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 10 characters; asked for when not given.",
    ),
    name: str | None = typer.Option(None, "--name", help="The person's name."),
    platform_admin: bool = typer.Option(
        False, "--platform-admin", help="The platform operator: approves organizations."
    ),
) -> None:
    """Create a portal account (or add an existing one to an organization); print its id."""
    if (org is None) != (role is None):
        raise typer.BadParameter("--org and --role go together")
    if org is None and not platform_admin:
        raise typer.BadParameter("give --org and --role, or --platform-admin")
    with unit_of_work() as session:
        user = find_user(session, email)
        if user is None:
            user = create_user(
                session, email=email, password=password, name=name, platform_admin=platform_admin
            )
        else:
            note(f"{user.email} already has an account: adding the membership only.")
        if org is not None and role is not None:
            add_membership(session, user_id=user.id, org_id=org, role=role)
            record(session, Actor.command_line(org), "member.add", f"user:{user.id}", role=role)
        user_id = user.id
    typer.echo(user_id)


@token_app.command("create")
@clear_errors
def create_token_command(
    org: int = typer.Option(..., "--org", help="Id of the organization the token acts for."),
    role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
    name: str = typer.Option("command line", "--name", help="What the token is for."),
) -> None:
    """Create an API token and print it. It is shown this once: store it safely."""
    with unit_of_work() as session:
        org_row = get_organization(session, org)
        new = issue_token(session, org_row, role=role, name=name, actor=Actor.command_line(org))
        secret = new.secret
    note("This token is shown only now; store it like a password. Revoke it in the portal.")
    typer.echo(secret)


@org_app.command("approve")
@clear_errors
def approve(org: int = typer.Argument(..., help="Id of the organization to approve.")) -> None:
    """Approve a self-registered organization (it may then issue and ship stamps)."""
    with unit_of_work() as session:
        approved = approve_organization(
            session, Actor(None, None, platform_admin=True, via="cli"), org
        )
        name = approved.name
    note(f"{name} is approved.")


@user_app.command("unlock")
@clear_errors
def unlock_command(
    email: str = typer.Argument(..., help="The locked account's e-mail address."),
) -> None:
    """End a login lock now (five wrong passwords lock an address for 15 minutes)."""
    with unit_of_work() as session:
        was_locked = unlock(session, email)
    note(f"{email} is unlocked." if was_locked else f"{email} was not locked; nothing to do.")
