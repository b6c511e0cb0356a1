"""The `chinhhang` command as an operator uses it (SPEC section 5)."""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path
from select import select as wait_readable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chinhhang.accounts.models import AuditEntry
from chinhhang.catalog.models import Batch
from chinhhang.db import make_engine
from chinhhang.stamps.models import Stamp, StampRun
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.web import create_app
from tests.conftest import PHONE, cli_env, make_settings
from tests.functional.test_concurrency import free_port

COMMANDS = [
    [],
    ["serve"],
    ["demo"],
    ["db"],
    ["db", "upgrade"],
    ["org"],
    ["org", "create"],
    ["org", "approve"],
    ["user"],
    ["user", "create"],
    ["user", "unlock"],
    ["token"],
    ["token", "create"],
    ["product"],
    ["product", "create"],
    ["product", "batch"],
    ["stamps"],
    ["stamps", "issue"],
    ["stamps", "activate"],
    ["stamps", "void"],
    ["stamps", "export"],
    ["keys"],
    ["keys", "list"],
    ["keys", "rotate"],
    ["keys", "retire"],
    ["alerts"],
    ["alerts", "worker"],
]


def chinhhang(
    env: dict[str, str], *args: str, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """`python -m chinhhang ARGS` in `env`, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "chinhhang", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
    )


@pytest.fixture
def cli(tmp_path: Path):
    env = cli_env(tmp_path)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = chinhhang(env, *args)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return run


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(cli, command: list[str]) -> None:
    assert "Usage" in cli(*command, "--help").stdout


def test_the_manufacturer_flow(cli, tmp_path: Path) -> None:
    org = cli("org", "create", "--name", "Công ty A", "--kind", "manufacturer").stdout.strip()
    product = cli("product", "create", "--org", org, "--name", "Trà", "--gtin", "8934588012228")
    product_id = product.stdout.strip()
    run_id = cli(
        "stamps",
        "issue",
        "--org",
        org,
        "--quantity",
        "25",
        "--scan-limit",
        "2",
        "--product",
        product_id,
        "--batch",
        "B1",
        "--activate",
    ).stdout.strip()
    assert run_id.isdigit()
    # Serials 1-25 are taken; a second run continues from 26.
    cli("stamps", "issue", "--org", org, "--quantity", "10")
    first, last = serial_for(26), serial_for(30)
    assert (
        cli(
            "stamps",
            "activate",
            "--org",
            org,
            "--product",
            product_id,
            "--serials",
            f"{first}-{last}",
        ).stdout.strip()
        == "5"
    )
    assert (
        cli(
            "stamps", "void", "--org", org, "--serials", f"{serial_for(1)},{serial_for(2)}"
        ).stdout.strip()
        == "2"
    )
    settings = make_settings(tmp_path)
    engine = make_engine(settings)
    with Session(engine) as session:
        states = dict(session.execute(select(Stamp.sequence, Stamp.status)).all())
    engine.dispose()
    assert states[1] == states[2] == "void"
    assert states[3] == states[26] == states[30] == "active"
    assert states[31] == "issued"


def _app(settings):
    return create_app(settings)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["org", "create", "--name", "X", "--kind", "bank"], "Unknown organization kind"),
        (["product", "create", "--org", "999", "--name", "X"], "No such organization"),
        (["stamps", "issue", "--org", "999", "--quantity", "5"], "No such organization"),
        (["stamps", "void", "--org", "1"], "Choose either a run or serial numbers"),
        (["stamps", "void", "--org", "1", "--serials", "123"], "Serial number 123 is not valid"),
    ],
)
def test_bad_input_is_a_clear_error(cli, args: list[str], message: str) -> None:
    done = cli(*args, ok=False)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_gtin_and_quantity(cli) -> None:
    org = cli("org", "create", "--name", "B", "--kind", "manufacturer").stdout.strip()
    bad = cli("product", "create", "--org", org, "--name", "X", "--gtin", "8934588012229", ok=False)
    assert bad.returncode == 2
    assert "check digit" in bad.stderr
    zero = cli("stamps", "issue", "--org", org, "--quantity", "0", ok=False)
    assert zero.returncode == 2
    assert "1 to 50,000,000" in zero.stderr


def test_demo_is_idempotent_and_its_urls_work(cli, tmp_path: Path) -> None:
    first = cli("demo").stdout
    second = cli("demo").stdout
    assert "#1" in second
    assert "#5" not in second
    codes = re.findall(r"/v/([0-9A-Z]{24})", first)
    assert len(codes) == 6
    settings = make_settings(tmp_path, base_url="http://127.0.0.1:8000")
    with TestClient(
        _app(settings), headers={"User-Agent": PHONE, "Accept": "application/json"}
    ) as client:
        assert client.get(f"/v/{codes[0]}").json()["outcome"] == "genuine"
        client.cookies.clear()
        assert client.get(f"/v/{codes[0]}").json()["outcome"] == "over_limit"
        assert client.get(f"/v/{codes[-2]}").json()["outcome"] == "not_activated"
        assert client.get(f"/v/{codes[-1]}").json()["outcome"] == "void"
        gtin = re.search(r"/01/(\d{14})", first)
        assert gtin
        resolved = client.get(f"/01/{gtin.group(1)}", follow_redirects=False)
        assert resolved.status_code == 307
        assert client.get(resolved.headers["location"]).status_code == 200
    third = cli("demo").stdout
    assert codes[0] not in third  # a scanned stamp is no longer offered
    # The labels waiting for the distributor, for the in-app scanner: the printed command works.
    export = re.search(
        r"CHINHHANG_BASE_URL=(\S+) \S*chinhhang (stamps export \d+ --format pdf --serials \S+) "
        r"--output",
        third,
    )
    assert export
    printed = tmp_path / "waiting.pdf"
    assert export.group(1) == settings.base_url  # the labels point at the server scanning them
    written = cli(*export.group(2).split(), "--output", str(printed))
    assert "5 stamps of run" in written.stderr + written.stdout
    assert printed.read_bytes().startswith(b"%PDF")


def test_secret_is_generated_once_with_mode_600(tmp_path: Path) -> None:
    env = cli_env(tmp_path, secret=False)
    chinhhang(env, "demo", check=True)
    secret = tmp_path / "secret_key"
    assert secret.stat().st_mode & 0o777 == 0o600
    before = secret.read_text()
    chinhhang(env, "demo", check=True)
    assert secret.read_text() == before
    assert len(before) >= 32


def test_placeholder_secret_is_refused(tmp_path: Path) -> None:
    env = cli_env(tmp_path, secret=False, CHINHHANG_SECRET_KEY="changeme")
    done = chinhhang(env, "demo")
    assert done.returncode == 2
    assert "CHINHHANG_SECRET_KEY" in done.stderr


def test_make_run_serves_the_demo(tmp_path: Path) -> None:
    """What `make run` does: upgrade, demo, serve; a printed URL is genuine once, then not."""
    port = str(_free_port())
    env = cli_env(tmp_path, secret=False, CHINHHANG_BASE_URL=f"http://127.0.0.1:{port}")
    demo = chinhhang(env, "demo", check=True)
    url = re.search(r"(http://\S+/v/\S+)", demo.stdout)
    assert url
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "chinhhang", "serve", "--port", port],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(f"http://127.0.0.1:{port}/healthz")
            first = httpx.get(url.group(1), headers={"User-Agent": PHONE})
            second = httpx.get(url.group(1), headers={"User-Agent": PHONE})
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert first.status_code == 200
    assert "Hàng chính hãng" in first.text
    assert second.status_code == 200
    assert "Cảnh báo" in second.text


def _free_port() -> int:
    return free_port()


def _wait(url: str) -> None:
    for _ in range(300):  # a minute at most: the server starts slowly on a busy machine
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


def test_issuing_on_a_terminal_shows_a_progress_bar(cli, tmp_path: Path) -> None:
    cli("org", "create", "--name", "T", "--kind", "manufacturer")
    controller, terminal = pty.openpty()
    env = cli_env(tmp_path)
    issuing = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chinhhang",
            "stamps",
            "issue",
            "--org",
            "1",
            "--quantity",
            "120000",
        ],
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    # Read while it runs: a terminal holds a few KB, and a slow run (a busy machine) redraws
    # the bar more often; unread, the command would block on its next write.
    shown = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if not wait_readable([controller], [], [], 1)[0]:
            continue
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: everything was read
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    try:
        returncode = issuing.wait(timeout=30)
    finally:
        if issuing.poll() is None:  # hung past the deadline: stopped, and the test fails
            issuing.kill()
            issuing.wait()
    assert returncode == 0
    assert b"Issuing stamps" in shown
    assert b"120000/120000" in shown
    # Without a terminal (a pipe, a log) there is no bar, only the run id.
    piped = cli("stamps", "issue", "--org", "1", "--quantity", "10")
    assert piped.stdout.strip().isdigit()
    assert "Issuing" not in piped.stderr


def test_issue_with_a_bad_lot_changes_nothing(cli, tmp_path: Path) -> None:
    org = cli("org", "create", "--name", "L", "--kind", "manufacturer").stdout.strip()
    product = cli("product", "create", "--org", org, "--name", "X").stdout.strip()
    bad = cli(
        "stamps",
        "issue",
        "--org",
        org,
        "--quantity",
        "5",
        "--product",
        product,
        "--batch",
        "bad lot",
        "--activate",
        ok=False,
    )
    assert bad.returncode == 2
    assert "lot number" in bad.stderr
    engine = make_engine(make_settings(tmp_path))
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Stamp)) == 0
        assert session.scalar(select(func.count()).select_from(StampRun)) == 0
    engine.dispose()
    first = cli("stamps", "issue", "--org", org, "--quantity", "2")
    assert f"serials {grouped(serial_for(1))} to {grouped(serial_for(2))}" in first.stderr


def test_export_writes_serial_code_url_in_serial_order(cli, tmp_path: Path) -> None:
    org = cli("org", "create", "--name", "E", "--kind", "manufacturer").stdout.strip()
    run_id = cli("stamps", "issue", "--org", org, "--quantity", "30").stdout.strip()
    out = tmp_path / "run.csv"
    done = cli("stamps", "export", run_id, "--format", "csv", "--output", str(out))
    assert "30 stamps of run" in done.stderr
    assert "can clone these stamps" in done.stderr
    rows = list(csv.reader(out.read_text().splitlines()))
    assert rows[0] == ["serial", "code", "url"]
    assert [r[0] for r in rows[1:]] == [grouped(serial_for(i)) for i in range(1, 31)]
    # The QR form: upper case, so the symbol uses alphanumeric mode (printing/urls.py).
    assert all(r[2] == f"HTTP://127.0.0.1:8000/V/{r[1]}" for r in rows[1:])
    assert out.stat().st_mode & 0o777 == 0o600
    piped = cli(
        "stamps", "export", run_id, "--output", "-", "--serials", f"{serial_for(3)}-{serial_for(5)}"
    )
    assert [r[0] for r in csv.reader(piped.stdout.splitlines()[1:])] == [
        grouped(serial_for(i)) for i in range(3, 6)
    ]
    # The service's checks are the API's (test_exports.py); here: they end the command
    # cleanly, before a file exists and without an audit entry.
    refused = {
        "999": "No such stamp run",
        "--serials=" + f"{serial_for(1)},{serial_for(2)}": "not a list",
        "--template=nope": "Unknown label template nope",
    }
    for arg, message in refused.items():
        args = [arg] if arg == "999" else [run_id, arg]
        bad = cli("stamps", "export", *args, "--output", str(tmp_path / "none.csv"), ok=False)
        assert bad.returncode == 2, arg
        assert message in bad.stderr, (arg, bad.stderr)
        assert "Traceback" not in bad.stderr
    # A file that cannot be made: refused before the export is on record.
    unwritable = cli("stamps", "export", run_id, "--output", "/proc/none/run.csv", ok=False)
    assert unwritable.returncode == 2
    assert "Could not write /proc/none/run.csv" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == ["run.csv"]
    assert not list(tmp_path.glob("*.part"))
    engine = make_engine(make_settings(tmp_path))
    with Session(engine) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stamps.export").order_by(AuditEntry.id)
        ).all()
        count = session.get(StampRun, int(run_id)).export_count
    engine.dispose()
    assert count == 2
    assert [e.via for e in entries] == ["cli", "cli"]
    assert [json.loads(e.details)["quantity"] for e in entries] == [30, 3]


def test_batch_command_updates_an_existing_lot(cli, tmp_path: Path) -> None:
    org = cli("org", "create", "--name", "B2", "--kind", "manufacturer").stdout.strip()
    product = cli("product", "create", "--org", org, "--name", "X").stdout.strip()
    first = cli("product", "batch", "--product", product, "--lot", "L1").stdout.strip()
    again = cli(
        "product",
        "batch",
        "--product",
        product,
        "--lot",
        "L1",
        "--facility",
        "Huế",
        "--produced",
        "2026-11-01",
    ).stdout.strip()
    assert first == again
    engine = make_engine(make_settings(tmp_path))
    with Session(engine) as session:
        batch = session.get(Batch, int(first))
        assert batch.facility == "Huế"
        assert str(batch.production_date) == "2026-11-01"
    engine.dispose()


def test_a_command_in_a_new_folder_says_it_starts_a_new_database(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "elsewhere", secret=False)

    def create(name: str) -> subprocess.CompletedProcess[str]:
        return chinhhang(env, "org", "create", "--name", name, "--kind", "manufacturer", check=True)

    done = create("N")
    assert "Creating a new database" in done.stderr
    assert "Generating the secret key" in done.stderr
    again = create("M")
    assert "Creating" not in again.stderr
    assert "Generating" not in again.stderr
