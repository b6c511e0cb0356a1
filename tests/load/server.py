"""`chinhhang serve --workers N` on a fresh PostgreSQL database, and its worker processes.

The server is the real command, as deployed: uvicorn's multiprocess supervisor with N worker
processes (multiprocessing's spawn), each running the app with its alert worker thread. It runs
in its own temporary folder (no `.env` is picked up) with an environment holding only our
CHINHHANG_* settings: throttling stays on with budgets the load never reaches.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET, free_port

# Generous: the test machine may be shared, and each worker imports the whole app.
START_SECONDS = 120.0
STOP_SECONDS = 60.0


def server_env(data_dir: Path, database_url: str, base: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHINHHANG_")}
    env.update(
        {
            "CHINHHANG_DATA_DIR": str(data_dir),
            "CHINHHANG_DATABASE_URL": database_url,
            "CHINHHANG_SECRET_KEY": TEST_SECRET,
            "CHINHHANG_BASE_URL": base,
            "CHINHHANG_SCAN_RATE_LIMIT": "1000000000/minute",
            "CHINHHANG_GUESS_LIMIT": "1000000000/minute",
            # Outbox rows are folded while the load runs, as in production.
            "CHINHHANG_ALERT_WORKER": "1",
            "CHINHHANG_ALERT_POLL_SECONDS": "0.5",
        }
    )
    return env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def workers(self) -> list[int]:
        return worker_pids(self.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it: workers finish the requests in hand and
        their alert workers stop; the supervisor exits. Its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """The last resort of a failed test: the supervisor's workers, then the supervisor."""
        for pid in self.workers():
            _signal(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_SECONDS)


def start_server(data_dir: Path, database_url: str, workers: int) -> Server:
    """`chinhhang serve` on a free loopback port, answering once all `workers` are up."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chinhhang",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=server_env(data_dir, database_url, base),
            cwd=data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, base, log_path)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited at start:\n{server.log()}")
        try:
            healthy = httpx.get(f"{base}/healthz", timeout=2, trust_env=False).status_code == 200
        except httpx.TransportError:
            healthy = False
        # The supervisor starts the workers one after the other; both must be serving.
        if healthy and len(server.workers()) == workers and _started(server, workers):
            return server
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"server did not start in {START_SECONDS:.0f} s:\n{server.log()}")


def _started(server: Server, workers: int) -> bool:
    """uvicorn logs "Application startup complete." once per worker."""
    return server.log().count("Application startup complete.") >= workers


def log_errors(log: str) -> list[str]:
    """The errors in the server's log, one line each: JSON lines (the default format) at level
    error or critical or carrying an exception, and tracebacks of text lines (the exception's
    own line, after the stack)."""
    found = []
    lines = log.splitlines()
    for n, line in enumerate(lines):
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") in ("error", "critical") or entry.get("exception"):
                raised = _raised(str(entry.get("exception") or "").splitlines())
                found.append(f"{entry.get('logger')}: {entry.get('message')}: {raised}")
        elif line.startswith("Traceback"):
            raised = _raised(lines[n + 1 : n + 200])
            found.append(f"{lines[n - 1] if n else ''}: {raised}")
    return found


# Lines of a formatted exception that are not the exception itself.
_NOT_RAISED = ("Traceback", "(Background on this error", "The above exception", "During handling")


def _raised(lines: list[str]) -> str:
    """The exception's own line in a formatted traceback (the first, when exceptions chain)."""
    own = [x for x in lines if x and not x[0].isspace() and not x.startswith(_NOT_RAISED)]
    return own[0][:300] if own else "?"


def assert_clean_log(log: str) -> None:
    """No error in the server's log: no request failed inside the app, and no background pass
    (the alert worker's) failed and had to be retried. Checked last, after the database
    invariants, so that a failure here says the data was sound."""
    errors = log_errors(log)
    assert not errors, f"the server logged {len(errors)} errors; the first ones:\n" + "\n".join(
        errors[:5]
    )


def worker_pids(parent: int) -> list[int]:
    """The live worker processes of uvicorn's supervisor `parent`: its children started by
    multiprocessing's spawn (not its resource tracker; a killed worker not yet reaped is a
    zombie with an empty command line, so it is not listed either)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after it.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
