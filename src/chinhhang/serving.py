"""Several worker processes, each listening on a socket of its own (SO_REUSEPORT, Linux).

uvicorn's supervisor binds one socket and hands it to every worker, so the workers race to
accept each connection, and the worker whose loop wakes first takes a whole burst of them. With
the scan benchmark's 64 connections and 2 workers, the split measured 37/27, 58/6, 28/36, 60/4
and 45/19 in five runs (docs/benchmarks.md, "Fifth session"). Connections are kept alive (a
reverse proxy's to its upstream, a phone's for its page's assets), so a worker holding 60 of 64
serves them on one core while the other core idles.

With SO_REUSEPORT on Linux, each worker listens on a socket of its own on the same port, and
the kernel spreads new connections across the listening sockets by a hash of their addresses.
(macOS and FreeBSD accept the option but do not spread connections: there, and wherever else
it is missing, the workers share uvicorn's one socket.)

uvicorn's supervisor is kept for what it does (health checks, replacing a worker that dies,
SIGTERM to every worker). Only what a worker listens on changes: a worker binds its socket as
it starts and listens once its app has started, so no connection waits on a worker that cannot
answer it yet. The supervisor first checks that nothing listens on the port (two servers on one
port would otherwise share its connections without a word), then binds it without listening.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

log = logging.getLogger("uvicorn.error")


def shares_ports() -> bool:
    """Whether each worker can have its own socket on one port, the kernel spreading the
    connections across them (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` that other sockets with this option may bind as well."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def port_in_use(host: str, port: int) -> bool:
    """Whether a socket listens on `host:port` (ours or another program's): a bind without
    SO_REUSEPORT fails then, and succeeds beside connections left in TIME_WAIT."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError:
        return True
    finally:
        probe.close()
    return False


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class _OwnSocketProcess(multiprocess.Process):
    """A worker that listens on its own socket instead of the supervisor's."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        # Runs in the worker process (coverage is not measured there; the tests run `serve`).
        for inherited in sockets or []:
            inherited.close()  # the supervisor's: never listened on
        try:
            own = reuse_port_socket(self.config.host, self.config.port)
        except OSError as error:
            log.error("worker cannot bind %s:%s: %s", self.config.host, self.config.port, error)
            # uvicorn's supervisor stops, rather than restarting a worker that cannot start.
            sys.exit(STARTUP_FAILURE)
        super().target([own])


def run(app: str, **options: Any) -> None:
    """uvicorn.run with `options`, but with several workers each on a socket of its own."""
    if options.get("workers", 1) > 1:
        run_workers(uvicorn.Config(app, **options))
    else:
        uvicorn.run(app, **options)


def run_workers(config: uvicorn.Config) -> None:
    """uvicorn's multiprocess supervisor with `config.workers` workers on sockets of their own
    (uvicorn's own shared socket where the system does not spread connections)."""
    if not shares_ports():
        multiprocess.Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    try:
        if port_in_use(config.host, config.port):
            raise OSError(f"[Errno 98] address already in use: {config.host}:{config.port}")
        holder = reuse_port_socket(config.host, config.port)
    except OSError as error:
        log.error("%s", error)
        sys.exit(STARTUP_FAILURE)
    # Port 0 asks for any free port: the workers bind the one the supervisor got.
    config.port = holder.getsockname()[1]
    log.info("Uvicorn running on http://%s:%d, one socket per worker", config.host, config.port)
    shared_process = multiprocess.Process
    # The supervisor makes its workers with the module's `Process`, wherever it starts one
    # (at start, on a restart, for a dead worker, on SIGTTIN): pointed at the subclass for as
    # long as this supervisor runs, rather than copying those methods.
    multiprocess.Process = _OwnSocketProcess  # type: ignore[misc]
    try:
        multiprocess.Multiprocess(config, sockets=[holder]).run()
    finally:
        multiprocess.Process = shared_process  # type: ignore[misc]
        holder.close()
