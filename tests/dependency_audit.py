"""`make audit` (a step of `make test`): pip-audit over the installed environment.

    .venv/bin/python -m tests.dependency_audit [--timeout SECONDS]

Runs pip-audit on the virtual environment's own packages (`--local`), leaving out the project
itself (installed editable), and prints the report. Exit status 1 when pip-audit knows a
vulnerability in any of them (pip-audit gives no severity: any known vulnerability fails, which
is stricter than "critical"), or when pip-audit itself fails; 0 otherwise.

pip-audit asks a vulnerability service on the network (PyPI's JSON API by default). Where that
cannot be reached, pip-audit says "No known vulnerabilities found" all the same, having marked
every package "could not be audited", or it stops with a connection error. Neither means the
environment is clean, and neither is the project's fault: the step then prints one line saying
the audit checked nothing, and passes. A whole run is bounded by `--timeout`.

A vulnerability that cannot be fixed yet can be accepted in `dependency_audit_ignore.txt`
beside this file: its id, then `#` and why it does not affect us. A line without a reason is
refused.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IGNORE_FILE = Path(__file__).with_name("dependency_audit_ignore.txt")
DEFAULT_TIMEOUT = 240.0
# The socket timeout of each of pip-audit's requests.
REQUEST_TIMEOUT = 15
UNREACHABLE = "pip-audit could not reach its vulnerability service, so it checked nothing"
# What pip-audit (and requests under it) print when the service cannot be reached.
NETWORK_ERRORS = (
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "NameResolutionError",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Max retries exceeded",
    "Could not connect",
    "your network may be blocking",
    "ServiceError",
    "is not redirecting properly",
)
# A skip that is not about the service: the project itself, installed editable.
EDITABLE = "distribution marked as editable"


@dataclass(frozen=True)
class Verdict:
    passed: bool
    lines: list[str]


def judge(returncode: int | None, report: str | None, stderr: str) -> Verdict:
    """The verdict on one pip-audit run: its exit code (None when it was stopped for taking
    too long), its JSON report (`-f json`; None or empty when it wrote none) and its stderr."""
    if returncode is None:
        return Verdict(True, [f"{UNREACHABLE} (no answer in time)."])
    parsed = _parse(report)
    if parsed is None:
        if any(marker in stderr for marker in NETWORK_ERRORS):
            return Verdict(True, [f"{UNREACHABLE}: {_last_line(stderr)}"])
        return Verdict(False, [f"pip-audit failed (exit {returncode}): {_last_line(stderr)}"])
    return _judge_report(returncode, parsed, stderr)


def _judge_report(returncode: int, report: dict[str, Any], stderr: str) -> Verdict:
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "version" in d]
    skipped = [d for d in dependencies if "version" not in d and d.get("skip_reason") != EDITABLE]
    vulnerable = [d for d in audited if d.get("vulns")]
    if vulnerable:
        count = sum(len(d["vulns"]) for d in vulnerable)
        lines = [f"pip-audit: {count} known vulnerabilities in {len(vulnerable)} packages:"]
        lines += [line for d in vulnerable for line in _describe(d)]
        return Verdict(False, lines)
    if returncode != 0:
        return Verdict(False, [f"pip-audit failed (exit {returncode}): {_last_line(stderr)}"])
    if not audited and skipped:
        return Verdict(True, [f"{UNREACHABLE} ({len(skipped)} packages could not be audited)."])
    lines = [f"pip-audit: {len(audited)} packages audited, no known vulnerabilities."]
    if skipped:
        names = ", ".join(d["name"] for d in skipped)
        lines.append(f"pip-audit: {len(skipped)} could not be audited: {names}")
    return Verdict(True, lines)


def _describe(dependency: dict[str, Any]) -> list[str]:
    """`name version: ID (aliases), fixed in …: description`, one line per vulnerability."""
    lines = []
    for vuln in dependency["vulns"]:
        aliases = ", ".join(vuln.get("aliases") or [])
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
        about = (vuln.get("description") or "").strip()[:200]
        lines.append(
            f"  {dependency['name']} {dependency['version']}: {vuln['id']}"
            + (f" ({aliases})" if aliases else "")
            + f", fixed in {fixed}"
            + (f": {about}" if about else "")
        )
    return lines


def _parse(report: str | None) -> dict[str, Any] | None:
    if not report or not report.strip():
        return None
    try:
        parsed = json.loads(report)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no message)"


def ignored_ids(text: str) -> list[str]:
    """The vulnerability ids of an ignore file: `ID  # why it does not affect us` a line;
    blank lines and lines starting with `#` are comments. Raises ValueError for a line with
    no reason."""
    ids = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        vuln_id, _, reason = line.partition("#")
        if not reason.strip() or len(vuln_id.split()) != 1:
            raise ValueError(f"line {number}: write `ID  # why it does not affect us`: {line!r}")
        ids.append(vuln_id.strip())
    return ids


def audit_command(report: Path, ignored: list[str]) -> list[str]:
    """pip-audit on the environment of this Python (the virtual environment's)."""
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--local",
        "--skip-editable",
        "--format",
        "json",
        "--output",
        str(report),
        "--progress-spinner",
        "off",
        "--timeout",
        str(REQUEST_TIMEOUT),
    ]
    for vuln_id in ignored:
        command += ["--ignore-vuln", vuln_id]
    return command


def run(timeout: float) -> Verdict:
    ignored = ignored_ids(IGNORE_FILE.read_text()) if IGNORE_FILE.exists() else []
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "pip-audit.json"
        try:
            done = subprocess.run(
                audit_command(report, ignored),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return judge(None, None, "")
        text = report.read_text() if report.exists() else None
        verdict = judge(done.returncode, text, done.stderr)
    if ignored:
        verdict.lines.append(f"pip-audit: ignored as accepted ({IGNORE_FILE.name}): {ignored}")
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds for the whole audit (default {DEFAULT_TIMEOUT:.0f})",
    )
    args = parser.parse_args(argv)
    verdict = run(args.timeout)
    for line in verdict.lines:
        print(line)
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
