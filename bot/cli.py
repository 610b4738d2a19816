"""The `finbot` command: thin adapters from the shell to ingest and the answerer."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.config import Config, load_config
from bot.errors import USER_ERRORS, QuestionError

if TYPE_CHECKING:
    from bot.answer import Answer

_FILE = click.Path(path_type=Path, dir_okay=False)


class _Group(click.Group):
    """Turns user-facing errors into `Error: ...` and exit 1; -vv shows the traceback instead."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            if ctx.obj and ctx.obj.get("verbose", 0) >= 2:
                raise
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c", "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), envvar="FINBOT_CONFIG",
    help="Config file. [default: ./config.yaml, or built-in defaults if it is absent; env: FINBOT_CONFIG]",
)
@click.option("-v", "--verbose", count=True, help="-v logs each file and answer; -vv adds debug output and tracebacks.")
@click.version_option(package_name="finbot")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """Answer questions about finance documentation, citing the exact source.

    \b
    Typical use:
      finbot ingest                        # index the folders in corpus.paths
      finbot ask "How is NRR calculated?"  # answer with numbered sources
      finbot serve                         # HTTP API on http.host:http.port
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    # Loaded on first use, so `finbot CMD --help` works even with a broken config file.
    ctx.obj = {"config_path": config_path, "verbose": verbose}


def _config(ctx: click.Context) -> Config:
    if "config" not in ctx.obj:
        ctx.obj["config"] = load_config(ctx.obj["config_path"])
    config: Config = ctx.obj["config"]
    return config


@cli.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
@click.option("--rebuild", is_flag=True, help="Drop the whole index first and build it from scratch.")
@click.pass_context
def ingest_command(ctx: click.Context, paths: tuple[Path, ...], rebuild: bool) -> None:
    """Index the corpus folders (default: corpus.paths from the config).

    Markdown is split by headings, YAML by named item (metrics, models, columns). Re-running replaces
    each file's chunks, so nothing is duplicated. A file that fails to parse is reported and keeps the
    chunks it had; the exit code is then 1.
    """
    from ingest import keyword_index, pipeline, store

    config = _config(ctx)
    roots = list(paths) or config.corpus.paths
    if rebuild:
        store.delete_collection(config.index.path, config.index.collection)
    index = store.open_index(config.index.path, config.index.collection, config.embedding.model, create=True)
    embed_model = store.load_embed_model(config.embedding.model, config.embedding.batch_size)
    keyword_dir = keyword_index.keyword_dir(config.index.path, config.index.collection)
    report = pipeline.run(roots, index, embed_model, progress=sys.stderr.isatty(), keyword_dir=keyword_dir)
    for error in report.failed:
        click.echo(f"error: {error}", err=True)
    click.echo(
        f"Indexed {report.indexed} of {report.scanned} files ({report.chunks} chunks) in {report.seconds:.1f} s; "
        f"{len(report.skipped)} skipped (unsupported format), {len(report.failed)} failed. "
        f"The index at {config.index.path} holds {index.count()} chunks."
    )
    if not report.ok:
        ctx.exit(1)


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (the same shape as POST /v1/ask).")
@click.option(
    "-k", "--top-k", type=click.IntRange(1, 50), help="How many sources to retrieve. [default: retrieval.top_k]"
)
@click.option(
    "-t", "--type", "doc_type", type=click.Choice(["metric", "report", "policy", "other"]),
    help="Cite only documents of this type (metrics/, reports/, policies/, anything else).",
)
@click.option(
    "-p", "--path", "path_prefix", metavar="PREFIX", help="Cite only documents whose path starts with PREFIX."
)
@click.option("--explain", is_flag=True, help="Show each source's vector, BM25 and glossary ranks and fused score.")
@click.pass_context
def ask(
    ctx: click.Context, question: str, as_json: bool, top_k: int | None, doc_type: str | None,
    path_prefix: str | None, explain: bool,
) -> None:
    """Answer QUESTION from the indexed documents, with numbered sources and a confidence.

    \b
    Examples:
      finbot ask "what's the formula for DSO"
      finbot ask --type policy "can we offer net 60 terms?"
      finbot ask --path reports/rpt_payout "which column is the arrival date?" --explain
    """
    from bot.answer import clean_question, load_answerer

    try:
        question = clean_question(question)
    except QuestionError as exc:
        raise click.BadParameter(str(exc), param_hint="QUESTION") from None
    answer = load_answerer(_config(ctx)).ask(question, top_k, doc_type=doc_type, path_prefix=path_prefix)
    if as_json:
        click.echo(json.dumps(answer.to_dict(explain=explain), ensure_ascii=False, indent=2))
        return
    click.echo(answer.text)
    click.echo(f"\nConfidence {answer.confidence:.2f}. Sources:")
    for source in answer.sources:
        click.echo(f"{source.citation()}  score {source.score:.2f}")
    if explain:
        click.echo("\n" + explain_table(answer))


def explain_table(answer: Answer) -> str:
    """Per source: where vector search and BM25 ranked it, the glossary entry it defines, the fused score."""
    rows = [["", "vector rank", "similarity", "bm25 rank", "bm25 score", "glossary", "fused"]]
    for s in answer.sources:
        e = s.explain
        if e is None:
            continue
        rows.append([
            f"[{s.n}]", _cell(e.vector_rank), _cell(e.similarity, ".3f"), _cell(e.bm25_rank),
            _cell(e.bm25_score, ".2f"), f"{e.glossary} ({e.glossary_weight:.2f})" if e.glossary else "-",
            f"{e.fused:.4f}",
        ])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def _cell(value: float | int | None, fmt: str = "") -> str:
    return "-" if value is None else format(value, fmt)


@cli.command("eval")
@click.option("--golden", type=_FILE, help="The golden question set. [default: eval.golden]")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="dev", show_default=True)
@click.option("--json", "json_out", type=_FILE, help="Also write every result as JSON to this file.")
@click.option("--report", "report_out", type=_FILE, help="Also write a Markdown report to this file.")
@click.pass_context
def eval_command(
    ctx: click.Context, golden: Path | None, split: str, json_out: Path | None, report_out: Path | None
) -> None:
    """Ask the golden questions and score the answers (recall@k, MRR, citations, facts, abstention).

    Every question goes through the same Answerer as HTTP. Prints the scores overall and per kind;
    exits 1 when an overall figure is below its eval.min_* in the config.
    """
    from bot import eval_report
    from bot.answer import load_answerer
    from bot.evaluate import run_eval
    from bot.golden import load_golden

    config = _config(ctx)
    questions = load_golden(golden or config.eval.golden, split)
    answerer = load_answerer(config)
    with click.progressbar(length=len(questions), label=f"asking {len(questions)} questions", file=sys.stderr) as bar:
        report = run_eval(answerer, questions, split, progress=lambda _: bar.update(1))
    minimums = config.eval.minimums()
    click.echo(eval_report.scores_table({"all": report.overall, **report.by_kind}))
    click.echo(f"\n{len(report.failures)} of {len(report.results)} questions failed.")
    command = f"finbot eval --split {split}"
    if report_out:
        report_out.write_text(eval_report.to_markdown(report, minimums, command))
    if json_out:
        json_out.write_text(json.dumps(eval_report.to_json(report, minimums), indent=2))
    short = report.below(minimums)
    if short:
        click.echo("Below the eval.min_* gate: " + "; ".join(short), err=True)
        ctx.exit(1)


@cli.command()
@click.option("--host", help="Interface to bind. [default: http.host]")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on. [default: http.port]")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the HTTP API: POST /v1/ask, GET /healthz, docs at /docs."""
    import uvicorn

    from bot.answer import load_answerer
    from bot.api import create_api

    config = _config(ctx)
    answerer = load_answerer(config)
    host, port = host or config.http.host, config.http.port if port is None else port
    click.echo(f"finbot: serving {answerer.chunks.count()} chunks on http://{host}:{port} (docs at /docs)", err=True)
    uvicorn.run(create_api(answerer), host=host, port=port, log_level="info" if ctx.obj["verbose"] else "warning")
