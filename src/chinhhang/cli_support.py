"""What every command needs: settings, a database, and a clear error instead of a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, wraps
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from chinhhang.config import Settings
from chinhhang.db import make_engine, make_sessionmaker, session_scope, upgrade_database
from chinhhang.errors import DomainError
from chinhhang.i18n import translator

P = ParamSpec("P")
R = TypeVar("R")


@cache
def settings() -> Settings:
    return Settings()


@cache
def engine() -> Engine:
    """The database, migrated first: like `serve`, every command works on a fresh data folder."""
    upgrade_database(settings())
    return make_engine(settings())


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
        except ValidationError as error:
            raise fail(f"Invalid settings: {error}") from None

    return run


def echo_kv(**values: Any) -> None:
    for key, value in values.items():
        typer.echo(f"{key}: {value}")
