"""The decision of `make audit` (tests/dependency_audit.py) on pip-audit's JSON reports:
a known vulnerability fails, an unreachable vulnerability service passes with a warning line,
a clean report passes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests import dependency_audit
from tests.dependency_audit import UNREACHABLE, ignored_ids, judge

EDITABLE = {"name": "chinhhang", "skip_reason": "distribution marked as editable"}
# pip-audit 2.10 `-f json`, as it writes them (descriptions shortened).
VULNERABLE = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "3.1.4",
            "vulns": [
                {
                    "id": "GHSA-q2x7-8rv6-6q7h",
                    "fix_versions": ["3.1.5"],
                    "aliases": ["CVE-2024-56201"],
                    "description": "Jinja has a sandbox breakout through malicious filenames",
                }
            ],
        },
        {"name": "httpx", "version": "0.28.1", "vulns": []},
        EDITABLE,
    ],
    "fixes": [],
}
CLEAN = {
    "dependencies": [
        {"name": "jinja2", "version": "3.1.6", "vulns": []},
        {"name": "httpx", "version": "0.28.1", "vulns": []},
        EDITABLE,
    ],
    "fixes": [],
}
# What this project's machines get: PyPI's per-version JSON answers 404 for every package.
UNREACHED = {
    "dependencies": [
        {
            "name": name,
            "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)",
        }
        for name in ("alembic", "httpx", "jinja2")
    ]
    + [EDITABLE],
    "fixes": [],
}
# pip-audit --vulnerability-service osv where api.osv.dev cannot be resolved: no report.
CONNECTION_ERROR = (
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev', port=443): "
    "Max retries exceeded with url: /v1/query (Caused by NameResolutionError(...))"
)


def test_a_known_vulnerability_fails_and_is_named() -> None:
    verdict = judge(1, json.dumps(VULNERABLE), "Found 1 known vulnerability in 1 package")
    assert not verdict.passed
    assert "GHSA-q2x7-8rv6-6q7h (CVE-2024-56201), fixed in 3.1.5" in "\n".join(verdict.lines)
    assert "jinja2 3.1.4" in "\n".join(verdict.lines)


def test_a_clean_report_passes() -> None:
    verdict = judge(0, json.dumps(CLEAN), "No known vulnerabilities found")
    assert verdict.passed
    assert verdict.lines == ["pip-audit: 2 packages audited, no known vulnerabilities."]


def test_packages_the_service_does_not_know_are_listed_beside_a_clean_audit() -> None:
    report = {"dependencies": CLEAN["dependencies"] + UNREACHED["dependencies"][:1]}
    verdict = judge(0, json.dumps(report), "")
    assert verdict.passed
    assert verdict.lines[1] == "pip-audit: 1 could not be audited: alembic"


def test_an_unreachable_service_passes_saying_nothing_was_checked() -> None:
    # pip-audit itself says "No known vulnerabilities found" and exits 0 here.
    verdict = judge(0, json.dumps(UNREACHED), "No known vulnerabilities found")
    assert verdict.passed
    assert verdict.lines == [f"{UNREACHABLE} (3 packages could not be audited)."]


def test_a_connection_error_passes_saying_nothing_was_checked() -> None:
    verdict = judge(1, None, f"Traceback (most recent call last):\n{CONNECTION_ERROR}\n")
    assert verdict.passed
    assert verdict.lines[0].startswith(UNREACHABLE)


def test_an_audit_that_took_too_long_passes_saying_nothing_was_checked() -> None:
    verdict = judge(None, None, "")
    assert verdict.passed
    assert verdict.lines[0].startswith(UNREACHABLE)


def test_pip_audit_failing_for_another_reason_fails() -> None:
    stderr = "ERROR: Cannot combine '--path' with '--user' or '--local'\n"
    verdict = judge(1, None, stderr)
    assert not verdict.passed
    assert "Cannot combine" in verdict.lines[0]


def test_ignored_ids_need_a_reason() -> None:
    text = "# accepted\n\nPYSEC-2024-1  # only in a CLI we never run\n"
    assert ignored_ids(text) == ["PYSEC-2024-1"]
    with pytest.raises(ValueError, match="line 1"):
        ignored_ids("PYSEC-2024-1\n")


def test_the_shipped_ignore_file_is_valid() -> None:
    ignored_ids(dependency_audit.IGNORE_FILE.read_text())


@pytest.mark.parametrize(
    ("script", "status", "says"),
    [
        (f"open(sys.argv[-1], 'w').write({json.dumps(json.dumps(VULNERABLE))})", 1, "GHSA-"),
        (f"open(sys.argv[-1], 'w').write({json.dumps(json.dumps(UNREACHED))})", 0, UNREACHABLE),
        ("import time; time.sleep(30)", 0, "no answer in time"),
    ],
)
def test_the_command_runs_pip_audit_and_exits_with_the_verdict(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    script: str,
    status: int,
    says: str,
) -> None:
    """A stand-in for pip-audit writes the report to the path it is given (or hangs)."""

    def stand_in(report: Path, _ignored: list[str]) -> list[str]:
        return [sys.executable, "-c", f"import sys; {script}", str(report)]

    monkeypatch.setattr(dependency_audit, "audit_command", stand_in)
    assert dependency_audit.main(["--timeout", "2"]) == status
    assert says in capsys.readouterr().out
