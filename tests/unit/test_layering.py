"""The domains depend downward (DESIGN, "Which way things flow"), read from the source itself.

`scans` and `trace` sit side by side and do not import each other: what one needs of the other
is handed over by web.py through `app.state` (trace's journey to the scan pages, scans' static
scan counter to the resolver). The one exception is a table: trace reads the scan events scans
writes ("events flow up through tables, not calls"), so `chinhhang.scans.models` is allowed.
`accounts`, `catalog` and `stamps` are below all three and import none of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "chinhhang"
# The domains on top (issue 6): alerts, warranty, the regulator's figures.
ENGAGEMENT = ("chinhhang.alerts", "chinhhang.consumer", "chinhhang.regulator")
# Tables a domain above may read (the rows flow up); never their rules or routes.
READABLE_TABLES = frozenset({"chinhhang.scans.models"})


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` (the text of `module`) imports, at any depth of the file
    (TYPE_CHECKING blocks and function bodies too), relative imports resolved; `from a import
    b` counts as `a.b` too, since b may be a module."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def imported(path: Path) -> set[str]:
    source = path.read_text(encoding="utf-8")
    return imports_of(source, module_name(path), is_package=path.name == "__init__.py")


def offences(
    domain: str, forbidden: tuple[str, ...], readable: frozenset[str] = READABLE_TABLES
) -> list[tuple[str, str]]:
    found = []
    for path in sorted((PACKAGE / domain).rglob("*.py")):
        for name in sorted(imported(path)):
            if name in readable or name.startswith(tuple(f"{t}." for t in readable)):
                continue
            if any(name == other or name.startswith(other + ".") for other in forbidden):
                found.append((module_name(path), name))
    return found


@pytest.mark.parametrize(
    ("domain", "forbidden"),
    [
        ("trace", ("chinhhang.scans", *ENGAGEMENT)),
        # The hot path never waits for, or breaks with, alerts and the rest (DESIGN).
        ("scans", ("chinhhang.trace", *ENGAGEMENT)),
        ("alerts", ("chinhhang.trace", "chinhhang.consumer", "chinhhang.regulator")),
        ("consumer", ("chinhhang.trace", "chinhhang.alerts", "chinhhang.regulator")),
        ("accounts", ("chinhhang.trace", "chinhhang.scans", "chinhhang.printing", *ENGAGEMENT)),
        ("catalog", ("chinhhang.trace", "chinhhang.scans", "chinhhang.printing", *ENGAGEMENT)),
        ("stamps", ("chinhhang.trace", "chinhhang.scans", "chinhhang.printing", *ENGAGEMENT)),
    ],
)
def test_a_domain_imports_no_domain_beside_or_above_it(
    domain: str, forbidden: tuple[str, ...]
) -> None:
    assert list((PACKAGE / domain).rglob("*.py")), f"no modules under {domain}"
    assert offences(domain, forbidden) == []


def test_the_regulator_reads_the_tables_above_it_never_their_rules() -> None:
    """The market-control figures are counts over everyone's rows: alerts', reports' and
    warranty tables, never those domains' services (which decide per organization)."""
    readable = READABLE_TABLES | {"chinhhang.alerts.models", "chinhhang.consumer.models"}
    forbidden = ("chinhhang.alerts", "chinhhang.consumer", "chinhhang.trace", "chinhhang.printing")
    assert offences("regulator", forbidden, readable) == []


def test_the_import_reader_sees_every_form() -> None:
    # The check is only as good as its reader: relative, aliased and nested imports count.
    source = (
        "from ..scans import services\n"
        "from . import resolver\n"
        "import chinhhang.scans.store as store\n"
        "def later() -> None:\n"
        "    from chinhhang import printing\n"
    )
    found = imports_of(source, "chinhhang.trace.views")
    assert {
        "chinhhang.scans.services",
        "chinhhang.trace.resolver",
        "chinhhang.scans.store",
        "chinhhang.printing",
    } <= found
    assert "chinhhang.trace.resolver" in imported(PACKAGE / "trace" / "views.py")
