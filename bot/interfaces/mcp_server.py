"""finbot as an MCP server (the official `mcp` SDK, 2.x `MCPServer`): search, ask and metric tools for agents
and IDE assistants. `finbot mcp` serves it over stdio."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from bot.answering.sources import max_fused, to_source
from bot.errors import USER_ERRORS
from bot.retrieval.hybrid import Filters

if TYPE_CHECKING:
    from bot.answering.answerer import Answerer
    from bot.interfaces.metric_cards import MetricCatalog
    from bot.interfaces.recording import Recorder

INSTRUCTIONS = (
    "finbot answers questions about a finance team's documents (metric definitions, report schemas, accounting "
    "policies) and cites file, section and lines. Use `ask` for a question and quote its sources; when "
    "`abstained` is true the documents do not answer it: say so rather than guessing. Use `search` to read "
    "passages yourself, `get_metric` for a metric's definition, and `query_metric` (when present) for its value."
)

T = TypeVar("T")
DocType = Literal["metric", "report", "policy", "other"]
_QUESTION = Field(description="The question, in plain words, e.g. 'How is net revenue retention calculated?'")
_TOP_K = Field(ge=1, le=50, description="How many sources (documents) at most.")
_DOC_TYPE = Field(
    description="Only documents of this type: metric (metrics/), report (reports/), policy (policies/), other."
)
_PATH_PREFIX = Field(description="Only documents whose path starts with this, e.g. 'policies/' or 'reports/rpt_'.")


def create_mcp_server(answerer: Answerer, catalog: MetricCatalog, recorder: Recorder | None = None) -> MCPServer:
    """The server and its tools; `query_metric` only when a warehouse is configured (answerer.values); with
    `recorder`, each `ask` is recorded as the mcp interface's (recording.mcp)."""
    server = MCPServer("finbot", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool()
    def search(
        query: Annotated[str, Field(description="Words to search the documents for (names, columns, topics).")],
        top_k: Annotated[int, _TOP_K] = 5,
        doc_type: Annotated[DocType | None, _DOC_TYPE] = None,
        path_prefix: Annotated[str | None, _PATH_PREFIX] = None,
    ) -> dict[str, Any]:
        """Search the indexed documents (hybrid vector + keyword search) and return ranked passages, best first:
        rank, path, section, start_line/end_line (or page for a PDF), score (0-1) and a snippet. No answer is
        composed: use this to read the passages yourself; `ask` answers with citations."""
        if not query.strip():
            raise ToolError("The query is empty; send words to search for, e.g. 'arrival date payouts'.")
        retriever = answerer.retriever
        found = _guarded(lambda: retriever.retrieve(query, top_k, Filters(doc_type, path_prefix or None)))
        scale = max_fused(retriever)
        passages = []
        for rank, candidate in enumerate(found.candidates[:top_k], start=1):
            source = to_source(rank, candidate, scale, candidate.chunk)
            passages.append({
                "rank": rank, "path": source.path, "section": source.section, "start_line": source.start_line,
                "end_line": source.end_line, "page": source.page, "score": source.score, "snippet": source.snippet,
            })
        return {"query": query, "passages": passages}

    @server.tool()
    def ask(
        question: Annotated[str, _QUESTION],
        top_k: Annotated[int | None, Field(ge=1, le=50, description="How many sources to cite.")] = None,
        doc_type: Annotated[DocType | None, _DOC_TYPE] = None,
        path_prefix: Annotated[str | None, _PATH_PREFIX] = None,
    ) -> dict[str, Any]:
        """Answer a question from the documents, the same JSON as finbot's POST /v1/ask: `answer` (text whose [n]
        markers point at sources[n-1]), `abstained` (true: the documents don't answer it; don't guess),
        `confidence` (0-1), `sources` (path, section, start_line, end_line, page, score, snippet) and, for a
        metric value question when a warehouse is configured, `value` (number, period, SQL, citation)."""
        answer = _guarded(lambda: answerer.ask(question, top_k, doc_type=doc_type, path_prefix=path_prefix))
        if recorder is not None:
            recorder.record(answer, "mcp")
        return answer.to_dict()

    @server.tool()
    def get_metric(
        name: Annotated[str, Field(description="A metric's name, label, alias or acronym: 'nrr', 'ARR', 'DSO'.")],
    ) -> dict[str, Any]:
        """A metric's definition card: name, label, type, aliases, where it is defined (path, lines, citation)
        and `definition`, the indexed text of its formula, description, owner and caveats."""
        return _guarded(lambda: catalog.card(name))

    @server.tool()
    def list_metrics() -> dict[str, Any]:
        """Every metric the documents define: name, label, type, aliases and where it is defined."""
        return {"metrics": catalog.list()}

    values = answerer.values
    if values is not None:

        @server.tool()
        def query_metric(
            metric: Annotated[str, Field(description="A metric's name, label, alias or acronym, e.g. 'ARR'.")],
            period: Annotated[str, Field(description="Q3 2025, March 2025, 2025-03, FY2025, 2025, last quarter, ...")],
            as_of: Annotated[
                dt.date | None, Field(description="Count relative periods (last quarter) from this date (ISO).")
            ] = None,
        ) -> dict[str, Any]:
            """A metric's value for a period from the warehouse (MetricFlow compiles the definition to SQL; it runs
            read-only): value, unit, the period used, the SQL and the definition's citation. `refused` true with the
            reason in `text` when it can't be given (unknown metric, unsupported period, no data)."""
            return _guarded(lambda: values.query(metric, period, as_of)).to_dict()

    return server


def _guarded(call: Callable[[], T]) -> T:
    """A user-facing error (bad filter, no index, unknown metric) as a tool error an agent can read."""
    try:
        return call()
    except USER_ERRORS as exc:
        raise ToolError(str(exc)) from None
