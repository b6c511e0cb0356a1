"""Several worker processes, each listening on a socket of its own (SO_REUSEPORT).

uvicorn's supervisor binds one socket and hands it to every worker, so the workers race to
accept each connection, and the worker whose loop wakes first takes a whole burst of them. With
the scan benchmark's 64 connections and 2 workers, the split measured 37/27, 58/6, 28/36, 60/4
and 45/19 in five runs (docs/benchmarks.md, "Fifth session"). Connections are kept alive (a
reverse proxy's to its upstream, a phone's for its page's assets), so a worker holding 60 of 64
serves them on one core while the other core idles.

With SO_REUSEPORT, each worker listens on a socket of its own on the same port, and the kernel
spreads new connections across the listening sockets by a hash of their addresses.

uvicorn's supervisor is kept for what it does (health checks, replacing a worker that dies,
SIGTERM to every worker). Only what a worker listens on changes: a worker binds its socket as
it starts and listens once its app has started, so no connection waits on a worker that cannot
answer it yet. The supervisor binds the port too but never listens on it: it takes no
connections, and it keeps the port from other programs while a dead worker is replaced.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import multiprocess


def shares_ports() -> bool:
    """Whether this system can give each worker its own socket on one port (Linux and the
    BSDs can; elsewhere the workers share uvicorn's one socket)."""
    return hasattr(socket, "SO_REUSEPORT")


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` that other sockets with this option may bind as well."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _OwnSocketProcess(multiprocess.Process):
    """A worker that listens on its own socket instead of the supervisor's."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        # Runs in the worker process (coverage is not measured there; the tests run `serve`).
        for inherited in sockets or []:
            inherited.close()  # the supervisor's: never listened on
        super().target([reuse_port_socket(self.config.host, self.config.port)])


def run_workers(config: uvicorn.Config) -> None:
    """uvicorn's multiprocess supervisor with `config.workers` workers on sockets of their own
    (uvicorn's own shared socket where the system has no SO_REUSEPORT)."""
    if not shares_ports():
        multiprocess.Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    holder = reuse_port_socket(config.host, config.port)
    shared_process = multiprocess.Process
    # The supervisor makes its workers with the module's `Process`, in the three places it
    # starts one (start, restart, replacing a dead worker): pointed at the subclass for as long
    # as this supervisor runs, rather than copying those methods.
    multiprocess.Process = _OwnSocketProcess  # type: ignore[misc]
    try:
        multiprocess.Multiprocess(config, sockets=[holder]).run()
    finally:
        multiprocess.Process = shared_process  # type: ignore[misc]
        holder.close()
