"""The `finbot` command: thin adapters from the shell to ingest and the answerer."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.config import Config, load_config
from bot.errors import USER_ERRORS, ConfigError, QuestionError
from bot.interfaces import console

if TYPE_CHECKING:

    from ingest import store

_FILE = click.Path(path_type=Path, dir_okay=False)


class _Group(click.Group):
    """Turns user-facing errors into `Error: ...` and exit 1; -vv shows the traceback instead."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            if isinstance(ctx.obj, CliState) and ctx.obj.verbose >= 2:
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
      finbot serve                         # HTTP API on http.host:http.port (+ Slack with tokens)
      finbot slack --socket                # Slack over Socket Mode, no public URL needed
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = CliState(config_path, verbose)


class CliState:
    """What every subcommand receives (`@click.pass_obj`): the config and how verbose to be.

    The config is loaded on first use, so `finbot CMD --help` works even with a broken config file.
    """

    def __init__(self, config_path: Path | None, verbose: int) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


@cli.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
@click.option("--rebuild", is_flag=True, help="Empty the index first and build it from scratch.")
@click.option("--dry-run", is_flag=True, help="Print what would be added, updated and deleted; write nothing.")
@click.option("--wait", is_flag=True, help="If another ingest is writing this index, wait for it instead of exiting.")
@click.pass_context
def ingest_command(ctx: click.Context, paths: tuple[Path, ...], rebuild: bool, dry_run: bool, wait: bool) -> None:
    """Sync the index with the corpus folders (default: corpus.paths; PATHS replace them for this run).

    The index mirrors the folders of the run: files indexed from elsewhere are removed, so PATHS must
    name every folder the index should hold (try --dry-run first).

    Only new and changed files are parsed and embedded (by content hash); files gone from the
    folders are removed from the index; unchanged files are left alone.

    \b
    Formats: Markdown (by heading), YAML (dbt models, sources, seeds, metrics rendered by
    meaning; other YAML by named item), JSON, CSV/TSV, HTML, PDF (by page), plain text and SQL
    (a dbt project's models, snapshots, analyses, macros; by CTE). Other files are skipped and counted.

    A file that cannot be read or parsed, is empty, or is over corpus.max_file_mb is reported and
    keeps the chunks it had; the exit code is then 1. A run that is killed is finished by the next.
    """
    from ingest import keyword_index, pipeline, store
    from ingest.errors import IngestError
    from ingest.lock import ingest_lock
    from ingest.sources import discover

    config = ctx.obj.config
    roots = list(paths) or config.corpus.paths
    where = config.index.server() or config.index.path
    with ingest_lock(config.index.path, wait=wait):
        if dry_run:
            console.print_plan(pipeline.plan(roots, _open_for_plan(config), config.corpus.max_file_bytes))
            return
        if rebuild:
            if not discover(roots).files:  # checked first: a typo or an unmounted volume must not empty the index
                raise IngestError(
                    f"Found no files under {', '.join(map(str, roots))}; --rebuild would leave the index empty. "
                    "Check the folders (an unmounted volume?) or corpus.paths."
                )
            store.clear_collection(
                config.index.path, config.index.collection, config.embedding.model, config.index.server()
            )
        index = store.open_index(
            config.index.path, config.index.collection, config.embedding.model, create=True,
            server=config.index.server(),
        )
        todo = pipeline.plan(roots, index, config.corpus.max_file_bytes)
        # Loading the model takes seconds: a run with nothing to embed skips it.
        embed_model = None
        if todo.changes:
            embed_model = store.load_bulk_embed_model(config.embedding.model, config.embedding.batch_size)
        keyword_dir = keyword_index.keyword_dir(config.index.path, config.index.collection)
        with console.progress(len(todo.changes)) as progress:
            report = pipeline.apply(todo, index, embed_model, progress, keyword_dir)
        store.prepare_query_embedder(config.embedding.model)  # once per model: queries then run without torch
    for error in report.failed:
        click.echo(f"error: {error}", err=True)
    if not report.scanned:
        folders = ", ".join(str(root) for root in roots)
        click.echo(f"warning: no files under {folders}; add documents there or fix corpus.paths.", err=True)
    click.echo(
        f"Scanned {report.scanned} files: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.deleted} deleted, {len(report.skipped)} skipped, "
        f"{len(report.failed)} failed; {report.chunks} chunks written in {report.seconds:.1f} s. "
        f"The index at {where} holds {index.count()} chunks."
    )
    if not report.ok:
        ctx.exit(1)


def _open_for_plan(config: Config) -> store.ChunkIndex | None:
    """The index if it exists (a dry run must not create one)."""
    from ingest import store
    from ingest.errors import IndexMissingError

    try:
        return store.open_index(
            config.index.path, config.index.collection, config.embedding.model, create=False,
            server=config.index.server(),
        )
    except IndexMissingError:
        return None


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
@click.option("--local", is_flag=True, help="Open the index here even when `finbot serve` runs on http.host:http.port.")
@click.option("--stream", is_flag=True, help="LLM mode: print the sources, then the model's draft as it comes.")
@click.pass_context
def ask(
    ctx: click.Context, question: str, as_json: bool, top_k: int | None, doc_type: str | None,
    path_prefix: str | None, explain: bool, local: bool, stream: bool,
) -> None:
    """Answer QUESTION from the indexed documents, with numbered sources and a confidence.

    When `finbot serve` answers on http.host:http.port and reads the same index, the question goes to it
    (model and index already loaded there; FINBOT_API_KEY, or the first of FINBOT_API_KEYS, is sent as the
    key); otherwise, or with --local, the index is opened here. The output is the same either way.

    \b
    Examples:
      finbot ask "what's the formula for DSO"
      finbot ask --type policy "who approves a refund over the limit?"
      finbot ask --path reports/rpt_payout "which column is the arrival date?" --explain
    """
    from bot.answering.answer import Answer
    from bot.answering.question import clean_question
    from bot.interfaces import remote

    try:
        question = clean_question(question)
    except QuestionError as exc:
        raise click.BadParameter(str(exc), param_hint="QUESTION") from None
    config = ctx.obj.config
    payload = {"question": question, "top_k": top_k, "doc_type": doc_type, "path_prefix": path_prefix,
               "explain": explain}
    asked = {k: v for k, v in payload.items() if v is not None}
    served = None if local or stream else remote.ask_server(config, asked)
    if served is not None:
        click.echo(f"(answered by finbot serve at {remote.server_url(config)})", err=True)
        answer = Answer.from_dict(question, served)
    else:
        from bot.answering.answerer import load_answerer

        answerer = load_answerer(config)
        live = stream and not as_json and answerer.writing is not None
        answer = answerer.ask(question, top_k, doc_type=doc_type, path_prefix=path_prefix, write=not live)
        if live and answerer.writing is not None:
            click.echo("Sources:\n" + "\n".join(source.citation() for source in answer.sources) + "\n\nDraft:")
            answer = answerer.writing.rewrite_live(answer, lambda piece: click.echo(piece, nl=False))
            click.echo("\n\nChecked answer:")
        if config.recording.cli:  # off by default; through a server, the server records it (as cli)
            from bot.interfaces.recording import Recorder

            Recorder(config.recording, config.slack.feedback_db).record(answer, "cli", user=_local_user())
    if as_json:
        click.echo(json.dumps(answer.to_dict(explain=explain), ensure_ascii=False, indent=2))
        return
    click.echo(answer.text)
    click.echo(f"\nConfidence {answer.confidence:.2f}. Sources:")
    for source in answer.sources:
        click.echo(f"{source.citation()}  score {source.score:.2f}")
    if explain:
        click.echo("\n" + console.explain_table(answer))


def _local_user() -> str | None:
    import getpass

    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return None


@cli.command("eval")
@click.option("--golden", type=_FILE, help="The golden question set. [default: eval.golden]")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="dev", show_default=True)
@click.option("--json", "json_out", type=_FILE, help="Also write every result as JSON to this file.")
@click.option("--report", "report_out", type=_FILE, help="Also write a Markdown report to this file.")
@click.option("--mode", type=click.Choice(["extractive", "llm"]), help="Answer mode to score. [default: answer.mode]")
@click.pass_context
def eval_command(
    ctx: click.Context, golden: Path | None, split: str, json_out: Path | None, report_out: Path | None,
    mode: str | None,
) -> None:
    """Ask the golden questions and score the answers (recall@k, MRR, citations, facts, abstention).

    Every question goes through the same Answerer as HTTP, against the configured index (index the
    golden file's corpus first). Prints the scores overall and per kind; exits 1 when an overall figure is
    below the golden file's `minimums:`, or, when it has none, its eval.min_* in the config. With --mode llm
    the `llm:` model writes the answers, and the fallback share, the share of sentences removed and the share
    of kept sentences supported by their sources are scored too.
    """
    from bot.answering.answerer import load_answerer
    from bot.evaluation import report as eval_report
    from bot.evaluation.evaluate import run_eval
    from bot.evaluation.golden import read_golden_set

    config = ctx.obj.config
    if mode:
        config = config.model_copy(update={"answer": config.answer.model_copy(update={"mode": mode})})
    golden_set = read_golden_set(golden or config.eval.golden)
    questions = [q for q in golden_set.questions if split == "all" or q.split == split]
    answerer = load_answerer(config)
    with click.progressbar(length=len(questions), label=f"asking {len(questions)} questions", file=sys.stderr) as bar:
        report = run_eval(answerer, questions, split, progress=lambda _: bar.update(1))
    minimums: dict[str, float] = {k: v for k, v in golden_set.minimums.items() if v > 0} or config.eval.minimums()
    click.echo(eval_report.scores_table({"all": report.overall, **report.by_kind}))
    click.echo(f"\n{len(report.failures)} of {len(report.results)} questions failed.")
    command = f"finbot eval --split {split}" + (f" --mode {mode}" if mode else "")
    if answerer.writing is not None:
        click.echo(f"Answers written by the {answerer.writing.writer.provider} model {answerer.writing.writer.model}.")
    if report_out:
        report_out.write_text(eval_report.to_markdown(report, minimums, command))
    if json_out:
        json_out.write_text(json.dumps(eval_report.to_json(report, minimums), indent=2))
    short = report.below(minimums)
    if short:
        gate = f"{golden or config.eval.golden} minimums" if golden_set.minimums else "eval.min_* gate"
        click.echo(f"Below the {gate}: " + "; ".join(short), err=True)
        ctx.exit(1)


@cli.command()
@click.option("--host", help="Interface to bind. [default: http.host]")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on. [default: http.port]")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback host with auth.required: false.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, insecure: bool) -> None:
    """Serve the HTTP API: POST /v1/ask, GET /healthz, /readyz, /metrics, docs at /docs, the web page at /
    and the MCP server at /mcp (streamable HTTP).

    POST /v1/ask needs an API key from FINBOT_API_KEYS (comma-separated) unless auth.required is false,
    which is allowed only on a loopback host (or with --insecure).

    With SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET in the environment it also answers Slack at
    POST /slack/events (events, the /finbot command, feedback buttons); see the README's Slack section.
    """
    import uvicorn

    from bot.answering.answerer import load_answerer
    from bot.interfaces.access import use_json_logs
    from bot.interfaces.api import create_api
    from bot.interfaces.http_auth import api_keys_from_env, check_exposure

    config = ctx.obj.config
    from bot.interfaces.slack.commands import slack_app, slack_secrets

    bot_token, signing_secret = slack_secrets()
    if bool(bot_token) != bool(signing_secret):  # checked before the slow model load
        missing = "SLACK_SIGNING_SECRET" if bot_token else "SLACK_BOT_TOKEN"
        raise ConfigError(f"{missing} is not set. Export both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or neither.")
    host, port = host or config.http.host, config.http.port if port is None else port
    keys = api_keys_from_env(os.environ)  # secrets from the environment only, like Slack's
    check_exposure(host, config.auth.required, keys, insecure)
    answerer = load_answerer(config)
    slack = slack_app(config, answerer, bot_token, signing_secret) if bot_token else None
    click.echo(f"finbot: serving {answerer.chunks.count()} chunks on http://{host}:{port} "
               "(page at /, API docs at /docs, MCP at /mcp)", err=True)
    if slack:
        click.echo(f"finbot: answering Slack at http://{host}:{port}/slack/events", err=True)
    else:
        click.echo("finbot: Slack is off (export SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to answer in Slack)",
                   err=True)
    if not config.auth.required:
        click.echo("finbot: auth.required is false: /v1/ask answers without an API key", err=True)
    use_json_logs()
    from bot.interfaces.mcp_server import create_mcp_server
    from bot.interfaces.metric_cards import load_catalog
    from bot.interfaces.recording import Recorder

    recorder = Recorder(config.recording, config.slack.feedback_db)
    mcp = create_mcp_server(answerer, load_catalog(config, answerer.retriever), recorder)
    http = config.http.model_copy(update={"host": host, "port": port})
    app = create_api(answerer, slack, http=http, auth=config.auth, keys=keys, index=config.index, mcp=mcp,
                     source_url_template=config.slack.source_url_template, recorder=recorder)
    uvicorn.run(app, host=host, port=port, log_level="info" if ctx.obj.verbose else "warning", access_log=False,
                log_config=None)  # uvicorn's own lines go through the JSON formatter too


@cli.command("mcp")
@click.pass_context
def mcp_command(ctx: click.Context) -> None:
    """Serve finbot to agents and IDE assistants over MCP on stdin/stdout (tools: search, ask, get_metric,
    list_metrics, and query_metric when warehouse.path is set). Logs go to stderr; see the README for a
    desktop client's config."""
    from bot.answering.answerer import load_answerer
    from bot.interfaces.mcp_server import create_mcp_server
    from bot.interfaces.metric_cards import load_catalog
    from bot.interfaces.recording import Recorder

    config = ctx.obj.config
    answerer = load_answerer(config)  # before serving: a missing index is an error here, not per tool call
    recorder = Recorder(config.recording, config.slack.feedback_db)
    create_mcp_server(answerer, load_catalog(config, answerer.retriever), recorder).run("stdio")


def _register_commands() -> None:
    """Subcommands that live beside the feature they drive (their modules import only click at the top)."""
    from bot.interfaces.gaps import gaps_command
    from bot.interfaces.slack.commands import feedback, slack_command
    from bot.interfaces.value_commands import metrics_command, query_command, value_command

    for command in (slack_command, feedback, value_command, query_command, metrics_command, gaps_command):
        cli.add_command(command)


_register_commands()
