"""docs/security.md keeps its promises: every threat in its table names the tests that prove
the defence, and each of those tests exists.

A row's Test cell holds pytest node ids in backticks (`tests/x.py::test_name`, or
`tests/x.py::TestClass::test_name` for a method), each checked here against the file's syntax
tree (not imported: the test is found, not run). A `TBD-…` placeholder stands for a test still
being written; `test_no_row_waits_for_a_test` fails while one is left, on purpose.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
COLUMNS = ["Threat", "Who", "What they gain", "Defence", "Test"]
NODE_ID = re.compile(r"^(?P<path>tests/[\w/]+\.py)::(?:(?P<cls>\w+)::)?(?P<name>\w+)$")
PLACEHOLDER = re.compile(r"^TBD-[\w-]+$")
BACKTICKED = re.compile(r"`([^`]+)`")
# The threats the issue asks for, each found by a word of its Threat cell (any one of them).
REQUIRED = {
    "copying a printed stamp": ("copy",),
    "harvesting codes before sale": ("harvest",),
    "leaked export files": ("leaked export",),
    "stolen rolls of stamps": ("stolen roll",),
    "guessing codes": ("guess",),
    "mass re-scanning": ("re-scan",),
    "look-alike phishing sites": ("phishing",),
    "cross-tenant access": ("cross-tenant", "another organization"),
    "CSRF": ("csrf",),
    "XSS": ("xss",),
    "SSRF": ("ssrf",),
    "upload bombs": ("upload",),
    "credential stuffing": ("credential",),
    "secret-key compromise": ("secret",),
}


@dataclass(frozen=True)
class Row:
    threat: str
    test_cell: str

    @property
    def named(self) -> list[str]:
        return BACKTICKED.findall(self.test_cell)

    @property
    def node_ids(self) -> list[str]:
        return [name for name in self.named if NODE_ID.match(name)]

    @property
    def placeholders(self) -> list[str]:
        return [name for name in self.named if PLACEHOLDER.match(name)]


def cells(line: str) -> list[str]:
    """A table line's cells; a `|` inside backticks belongs to its cell."""
    found, current, in_code = [], "", False
    for char in line.strip().removeprefix("|").removesuffix("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            found.append(current.strip())
            current = ""
        else:
            current += char
    found.append(current.strip())
    return found


def threat_table() -> tuple[list[str], list[Row]]:
    """The header and rows of the markdown table whose header starts with `| Threat`."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("| Threat")), None)
    assert start is not None, f"{DOC}: no table whose header starts with '| Threat'"
    header = cells(lines[start])
    rows = []
    for line in lines[start + 2 :]:  # past the header and its |---| line
        if not line.startswith("|"):
            break
        found = cells(line)
        assert len(found) == len(header), f"a row with {len(found)} cells: {line[:80]}"
        rows.append(Row(threat=found[0], test_cell=found[-1]))
    return header, rows


@cache
def defined_tests(path: str) -> frozenset[str]:
    """`name` for each module-level test function, `Class::name` for each method."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    names = {node.name for node in tree.body if isinstance(node, functions)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{f.name}" for f in node.body if isinstance(f, functions)}
    return frozenset(names)


def missing(node_id: str) -> str | None:
    """Why `node_id` does not name a test of this repository, or None when it does."""
    match = NODE_ID.match(node_id)
    if match is None:
        return f"{node_id}: not a node id (tests/….py::test_name)"
    path = match["path"]
    if not (ROOT / path).is_file():
        return f"{node_id}: no file {path}"
    wanted = f"{match['cls']}::{match['name']}" if match["cls"] else match["name"]
    if wanted not in defined_tests(path):
        return f"{node_id}: {path} defines no {wanted.replace('::', '.')}"
    return None


HEADER, ROWS = threat_table()
ROW_IDS = [re.sub(r"\W+", "-", row.threat.split("(")[0].strip().lower())[:40] for row in ROWS]


def test_the_table_has_its_columns_and_the_issues_threats() -> None:
    assert HEADER == COLUMNS
    assert len(ROWS) >= len(REQUIRED)
    threats = [row.threat.lower() for row in ROWS]
    absent = [
        threat
        for threat, words in REQUIRED.items()
        if not any(word in cell for cell in threats for word in words)
    ]
    assert absent == [], f"no row for: {', '.join(absent)}"


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_every_row_names_a_test(row: Row) -> None:
    assert row.node_ids, f"{row.threat!r}: no test named (only {row.named or 'nothing'})"
    unknown = [n for n in row.named if not (NODE_ID.match(n) or PLACEHOLDER.match(n))]
    assert unknown == [], f"{row.threat!r}: neither node ids nor TBD- placeholders: {unknown}"


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_every_named_test_exists(row: Row) -> None:
    problems = [problem for node_id in row.node_ids if (problem := missing(node_id))]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_no_row_waits_for_a_test(row: Row) -> None:
    assert row.placeholders == [], f"{row.threat!r} still waits for {row.placeholders}"


def test_tests_named_in_the_sections_exist_too() -> None:
    """The prose under the table may cite a test as well; it must exist like the table's."""
    named = {n for n in BACKTICKED.findall(DOC.read_text(encoding="utf-8")) if "::" in n}
    problems = [problem for node_id in sorted(named) if (problem := missing(node_id))]
    assert problems == [], "\n".join(problems)
