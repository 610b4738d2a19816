"""docs/benchmarks.md: each bench script owns one section, between <!-- NAME:start --> and <!-- NAME:end -->."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(name: str, text: str) -> None:
    """Replace section `name` with `text`, or append it when the file does not have it yet."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    current = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    block = f"{start}\n{text.rstrip()}\n{end}"
    if start in current:
        head, rest = current.split(start, 1)
        current = head + block + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    BENCHMARKS.write_text(current)
