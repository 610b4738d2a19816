"""What the field lines of a rendered dbt entity (ingest/dbt.py) answer, in the words questions use for it:
"what's the formula for DSO" is answered by its "Expression:" line, "who owns it" by "Owner:". The span
scorer reads these words as the line's own (bot/answering/spans.py)."""

from __future__ import annotations

FIELD_WORDS = {
    "description": "definition defined meaning means what",
    "expression": "formula calculation calculated computed how",
    "formula": "calculation calculated computed how",
    "measure": "formula calculation calculated computed aggregation",
    "input metrics": "formula inputs built from",
    "accumulates": "window cumulative trailing",
    "filter": "filtered excludes includes only",
    "grain": "granularity row level one row per",
    "owner": "owns owned responsible who",
    "reports": "report reports used where",
    "metrics": "metric metrics built used",
    "model": "table source built on upstream",
    "policy": "policy policies governed",
    "refresh": "refreshed updated schedule when",
    "tests": "tested checks",
}


def field_words(label: str) -> str:
    """The words questions use for what a field line labelled `label` answers ("" for other labels)."""
    return FIELD_WORDS.get(label.split(" · ")[-1].lower(), "")
