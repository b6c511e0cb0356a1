"""`serve --workers N`: each worker listens on a socket of its own (chinhhang/serving.py), so
the kernel spreads connections across the workers instead of the first awake taking a burst."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chinhhang.db import upgrade_database
from chinhhang.serving import reuse_port_socket, shares_ports
from tests.conftest import cli_env, free_port, make_settings, serve_command
from tests.load.server import worker_pids

pytestmark = pytest.mark.skipif(
    not shares_ports() or not Path("/proc/net/tcp").exists(),
    reason="needs SO_REUSEPORT and Linux's /proc to see which process holds which socket",
)
LISTEN, ESTABLISHED = "0A", "01"
START_SECONDS = 90.0


def test_sockets_with_the_option_share_a_port() -> None:
    first = reuse_port_socket("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        second = reuse_port_socket("127.0.0.1", port)
        second.close()
        plain = socket.socket()
        with pytest.raises(OSError, match="in use"):  # without the option: not this port
            plain.bind(("127.0.0.1", port))
        plain.close()
    finally:
        first.close()


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    settings = make_settings(tmp_path)
    upgrade_database(settings)
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        serve_command(port, "--workers", "2"),
        env=cli_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_listening(server, port, 2)
        yield server, port
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def test_each_worker_listens_on_its_own_socket(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = two_workers
    workers = worker_pids(server.pid)
    listening = _holders(port, LISTEN)
    assert len(workers) == 2
    # Two listening sockets, one in each worker; the supervisor listens on none.
    assert sorted(listening.values()) == sorted(workers)
    assert server.pid not in listening.values()


def test_connections_are_spread_across_the_workers(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    """40 kept-alive connections opened at once: each worker holds some. (With one shared
    socket, one worker took 58 and 60 of 64 in the benchmark's runs.) Binomially, a worker
    has fewer than 5 of 40 once in ten million."""
    server, port = two_workers
    connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(40)]
    try:
        for conn in connections:  # answered: accepted by a worker, and still open
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for conn in connections:
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        held = Counter(_holders(port, ESTABLISHED).values())
    finally:
        for conn in connections:
            conn.close()
    workers = worker_pids(server.pid)
    assert sum(held[pid] for pid in workers) == 40
    assert all(held[pid] >= 5 for pid in workers), held


def test_a_replaced_worker_listens_on_a_socket_of_its_own(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    """A worker killed outright: the supervisor starts another, which listens as the first
    did, and the port keeps answering meanwhile (the other worker)."""
    server, port = two_workers
    killed, kept = worker_pids(server.pid)
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + START_SECONDS
    while killed in _holders(port, LISTEN).values() and time.monotonic() < deadline:
        time.sleep(0.1)  # its socket goes with it (connections queued there are reset)
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    _wait_until_listening(server, port, 2)
    listening = set(_holders(port, LISTEN).values())
    assert kept in listening
    assert killed not in listening
    assert len(listening) == 2
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200


def test_a_second_server_on_the_port_stops_with_a_clear_error(
    two_workers: tuple[subprocess.Popen[bytes], int], tmp_path: Path
) -> None:
    """Sockets that share a port would let a second server (a double start, an old release
    still running) take half of the first one's connections without a word: it stops at
    start instead, as uvicorn does when a port is in use."""
    _, port = two_workers
    second = subprocess.run(
        serve_command(port, "--workers", "2"),
        env=cli_env(tmp_path),
        capture_output=True,
        timeout=START_SECONDS,
        check=False,
    )
    assert second.returncode == 3  # uvicorn's "failed to start"
    assert b"address already in use" in second.stdout + second.stderr


def test_port_zero_gives_every_worker_the_same_port(tmp_path: Path) -> None:
    """`--port 0` asks for any free port: the workers listen on the one the supervisor got,
    not each on a port of its own."""
    upgrade_database(make_settings(tmp_path))
    server = subprocess.Popen(
        serve_command(0, "--workers", "2"),
        env=cli_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        ports: dict[int, set[int]] = {}
        while time.monotonic() < deadline and server.poll() is None:
            ports = {pid: _listening_ports(pid) for pid in worker_pids(server.pid)}
            if len(ports) == 2 and all(ports.values()):
                break
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert len(ports) == 2
    first, second = ports.values()
    assert len(first) == 1
    assert first == second


def _wait_until_listening(server: subprocess.Popen[bytes], port: int, count: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("the server exited")
        if len(set(_holders(port, LISTEN).values())) == count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} workers listening")


def _holders(port: int, state: str) -> dict[int, int]:
    """The sockets on local `port` in `state` (/proc/net/tcp's hex code), by inode: the pid
    of the process that holds each."""
    inodes = {inode for inode, local in _tcp_sockets(state).items() if local == port}
    found = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            for inode in _socket_inodes(int(proc.name)) & inodes:
                found[inode] = int(proc.name)
    return found


def _listening_ports(pid: int) -> set[int]:
    """The local ports of the TCP sockets `pid` listens on."""
    held = _socket_inodes(pid)
    return {port for inode, port in _tcp_sockets(LISTEN).items() if inode in held}


def _tcp_sockets(state: str) -> dict[int, int]:
    """The local port of each TCP socket in `state`, by inode."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == state:
            found[int(fields[9])] = int(fields[1].split(":")[1], 16)
    return found


def _socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process `pid` holds (none if it is gone or not ours)."""
    try:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return set()
    return {int(link[8:-1]) for link in links if link.startswith("socket:[")}
