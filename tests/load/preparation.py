"""What every load test does first: issue its stamps, start `serve --workers 2`, time both."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tests.load.client import Target
from tests.load.server import Server, start_server
from tests.load.targets import LoadDatabase, clients_from_env, issue_targets, seconds_from_env


@dataclass
class LoadSetup:
    seconds: float
    clients: int
    targets: list[Target]
    server: Server
    # "issued in … s, server up in … s", for the figures the test prints.
    timings: str


def prepare_load(database: LoadDatabase, seconds_variable: str) -> LoadSetup:
    """The load lasts `seconds_variable` seconds (20 by default: the short version)."""
    seconds = seconds_from_env(seconds_variable, 20)
    began = time.monotonic()
    targets = issue_targets(database, seconds)
    issued = time.monotonic()
    server = start_server(database.data_dir, database.url, workers=2)
    timings = f"issued in {issued - began:.1f} s, server up in {time.monotonic() - issued:.1f} s"
    return LoadSetup(seconds, clients_from_env(), targets, server, timings)
