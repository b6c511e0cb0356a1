"""What every command needs: settings, a database, and a clear error instead of a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from chinhhang.config import SECRET_FILE, Settings
from chinhhang.db import make_engine, make_sessionmaker, session_scope, upgrade_database
from chinhhang.errors import DomainError
from chinhhang.i18n import translator
from chinhhang.stamps.keyfile import KeyFileError

P = ParamSpec("P")
R = TypeVar("R")


@cache
def settings() -> Settings:
    return Settings()


@cache
def engine() -> Engine:
    """The database, migrated first: like `serve`, every command works on a fresh data folder.

    Says so when it starts a new SQLite database or secret: run from the wrong folder, a
    command would otherwise quietly work on data (and a key) nobody else uses.
    """
    current = settings()
    if current.is_sqlite:
        path = Path(current.sqlalchemy_url.removeprefix("sqlite:///"))
        if not path.exists():
            note(f"Creating a new database at {path} (set CHINHHANG_DATA_DIR to use another).")
    if not current.secret_key and not (current.data_dir / SECRET_FILE).exists():
        note(f"Generating the secret key in {current.data_dir / SECRET_FILE}: back it up.")
        current.secret  # noqa: B018 - create it now, so the note is said once
    upgrade_database(current)
    return make_engine(current)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    with session_scope(make_sessionmaker(engine())) as session:
        yield session


def fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def clear_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Domain errors and bad settings end the command with their message, exit status 2."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            raise fail(translator("en")(error.message, **error.values)) from None
        except KeyFileError as error:  # its messages never hold a key
            raise fail(str(error)) from None
        except ValidationError as error:
            raise fail(f"Invalid settings: {error}") from None

    return run


def note(message: str) -> None:
    """A sentence for the person at the terminal, on stderr: stdout stays machine-readable."""
    typer.echo(message, err=True)
