"""Metric definition cards for agents: a metric found by name, label, alias or acronym, with the indexed text
that defines it (the dbt chunk `finbot ask` would cite) and where it lives."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.errors import FinbotError, MetricQueryError
from bot.values.filters import normalise
from bot.values.question import MetricNames

if TYPE_CHECKING:
    from bot.config import Config
    from bot.retrieval.hybrid import HybridRetriever
    from bot.values.project import Definition

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricCatalog:
    """The corpus's metrics (from its semantic layer YAML) and the index that holds their rendered definitions."""

    names: MetricNames
    retriever: HybridRetriever

    def list(self) -> list[dict[str, Any]]:
        """Every metric, by name: label, type, aliases and where it is defined."""
        return [_summary(d) for d in sorted(self.names.definitions.values(), key=lambda d: d.name)]

    def find(self, name: str) -> Definition:
        """The metric `name` is the name, label, alias or acronym of (whole phrase first, then a metric it names)."""
        wanted = normalise(name)
        exact = self.names.terms.get(wanted, set())
        if len(exact) == 1:
            return self.names.definitions[next(iter(exact))]
        if len(exact) > 1:
            raise MetricQueryError(f"{name!r} names several metrics ({', '.join(sorted(exact))}); use one's name")
        found = self.names.find(name) if wanted else None
        if found is None:
            close = self.names.suggest(name)
            hint = f" Close names: {', '.join(close)}." if close else " `list_metrics` lists them all."
            raise MetricQueryError(f"{name!r} is not a metric the documents define.{hint}")
        return found[0]

    def card(self, name: str) -> dict[str, Any]:
        """The definition card: the summary plus the indexed text of the metric's definition (formula, owner,
        caveats), cited like an answer's source."""
        definition = self.find(name)
        keyword, _ = self.retriever.current()
        section = f"metrics.{definition.name}"
        chunks = [c for c in keyword.chunks if c.path == definition.path and c.section == section]
        card = _summary(definition)
        card["description"] = definition.description
        card["definition"] = "\n".join(c.text for c in chunks) if chunks else None
        return card


def _summary(definition: Definition) -> dict[str, Any]:
    return {
        "name": definition.name, "label": definition.label, "type": definition.type,
        "aliases": list(definition.aliases), "path": definition.path, "section": f"metrics.{definition.name}",
        "start_line": definition.start_line, "end_line": definition.end_line, "citation": definition.citation,
    }


def load_catalog(config: Config, retriever: HybridRetriever) -> MetricCatalog:
    """The metrics of corpus.paths; a broken or missing semantic layer gives an empty catalog and a warning."""
    from bot.values.project import load_project

    try:
        project = load_project(config.corpus.paths, config.warehouse.schema_name)
        definitions = list(project.definitions.values())
    except FinbotError as exc:
        logger.warning("no metric definitions: %s", exc)
        definitions = []
    return MetricCatalog(MetricNames(definitions), retriever)
