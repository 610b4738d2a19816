"""What the CLI prints beyond the answer itself: the ingest plan, ingest progress, the --explain table."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bot.answering.answer import Answer
    from ingest.sync import Plan


def print_plan(todo: Plan) -> None:
    """`finbot ingest --dry-run`: one line per file that would change, then the counts."""
    for action, paths in [
        ("add", [c.source.rel for c in todo.add]),
        ("update", [c.source.rel for c in todo.update]),
        ("delete", todo.delete),
        ("skip", todo.skipped),
    ]:
        for path in paths:
            click.echo(f"{action:<7}{path}")
    for error in todo.failed:
        click.echo(f"fail   {error}")
    click.echo(
        f"Dry run, nothing written. Scanned {todo.scanned} files: {len(todo.add)} to add, {len(todo.update)} to "
        f"update, {len(todo.unchanged)} unchanged, {len(todo.delete)} to delete, {len(todo.skipped)} skipped, "
        f"{len(todo.failed)} failing."
    )


@contextlib.contextmanager
def progress(files: int) -> Iterator[Callable[[str, int], None]]:
    """A progress bar on a terminal; otherwise a plain line every 10% (for CI and cron logs)."""
    if sys.stderr.isatty():
        with click.progressbar(length=files, label=f"indexing {files} files", file=sys.stderr) as bar:
            yield lambda _path, _chunks: bar.update(1)
        return
    done = 0
    step = max(1, files // 10)

    def log_line(path: str, chunks: int) -> None:
        nonlocal done
        done += 1
        if done % step == 0 or done == files:
            click.echo(f"{done}/{files} files done (last: {path}, {chunks} chunks)", err=True)

    yield log_line


def explain_table(answer: Answer) -> str:
    """Per source: where vector search and BM25 ranked it, the glossary entry it defines, its fused score and
    what the rest of its document added (documents rank by fused + support)."""
    rows = [["", "vector rank", "similarity", "bm25 rank", "bm25 score", "scaled v/b", "glossary", "fused", "support"]]
    for s in answer.sources:
        e = s.explain
        if e is None:
            continue
        rows.append([
            f"[{s.n}]", cell(e.vector_rank), cell(e.similarity, ".3f"), cell(e.bm25_rank),
            cell(e.bm25_score, ".2f"), f"{e.vector_scaled:.2f}/{e.bm25_scaled:.2f}",
            f"{e.glossary} ({e.glossary_weight:.2f})" if e.glossary else "-",
            f"{e.fused:.4f}", f"{e.support:.4f}",
        ])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)
    asks = "; ".join(f"({n}) {text}" for n, text in enumerate(answer.parts, start=1))
    return f"Asks found: {asks}\n{table}" if answer.parts else table


def cell(value: float | int | None, fmt: str = "") -> str:
    return "-" if value is None else format(value, fmt)
