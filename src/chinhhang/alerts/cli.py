"""`chinhhang alerts …` (placeholder, issue 6 in progress)."""

from __future__ import annotations

import typer

alerts_app = typer.Typer(help="Alerts: the delivery worker.", no_args_is_help=True)
