"""`make bench`: every benchmark in one run, its output written into docs/benchmarks.md.

Usage: python bench/run_all.py [--quick] [--only NAME[,NAME]]

Runs each script below in its own process, one after the other (they would disturb each other
on a shared machine), and replaces the part of docs/benchmarks.md between the two markers with
what they printed, under the date and the machine's description. The rest of that file (how
the figures came to be, what they mean) is written by hand. `--quick` runs small sizes to
check that the scripts work (its figures are not written to the docs).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent)]

from common import machine  # noqa: E402

HERE = Path(__file__).parent
DOCS = HERE.parent / "docs" / "benchmarks.md"
BEGIN = "<!-- make bench: begin -->"
END = "<!-- make bench: end -->"
# (name, title, arguments, arguments with --quick)
SCRIPTS = (
    (
        "issuance",
        "Issuance of 10,000,000 stamps against raw COPY (bench/issuance.py)",
        ["--quantity", "10000000", "--no-sqlite"],
        ["--quantity", "100000", "--no-sqlite"],
    ),
    (
        "scale",
        "Scans at 1M and 10M stamps, mixed load, memory per worker (bench/scale.py)",
        [],
        ["--sizes", "20000,40000", "--seconds", "2", "--rounds", "1"],
    ),
    (
        "dashboard",
        "The regulator's dashboard at 10M scans (bench/dashboard.py)",
        ["--repeat", "2"],
        ["--scans", "100000", "--stamps", "100000", "--repeat", "1"],
    ),
)


def run(name: str, arguments: list[str]) -> tuple[str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py"), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    output = result.stdout.strip()
    if result.returncode != 0:
        output += f"\n\n(exit status {result.returncode})\n{result.stderr.strip()[-2000:]}"
    print(output, flush=True)
    return output, elapsed


def section(title: str, output: str, elapsed: float, name: str) -> str:
    body = output if name == "scale" else f"```\n{output}\n```"
    return f"### {title}\n\n{body}\n\n({elapsed / 60:.0f} min)\n"


def write(sections: list[str]) -> None:
    text = DOCS.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOCS} lacks the markers {BEGIN} and {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    generated = "\n".join([f"Run of {stamp} (`make bench`) on {machine()}.", "", *sections])
    DOCS.write_text(f"{head}{BEGIN}\n{generated}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; docs unchanged")
    parser.add_argument("--only", help="comma-separated script names")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else None
    sections = []
    for name, title, full, quick in SCRIPTS:
        if wanted is not None and name not in wanted:
            continue
        print(f"== {title}", flush=True)
        output, elapsed = run(name, quick if args.quick else full)
        sections.append(section(title, output, elapsed, name))
    if not args.quick:
        write(sections)


if __name__ == "__main__":
    main()
