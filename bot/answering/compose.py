"""Turns ranked sources into the reply text. Extractive for now: quotes, never paraphrase.

This is the seam where an LLM writer will plug in; retrieval does not change when it does.
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.answering.answer import Source
    from bot.answering.figures import Period

SNIPPET_CHARS = 280
QUOTE_CHARS = 1600
# The runner-up passage is quoted too when it scores nearly as well as the first.
SECOND_QUOTE_MARGIN = 0.05
QUOTED = 2  # at most this many passages are quoted (and widened to read whole)


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The passage on one line, cut at a word boundary."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """The passage as a Markdown block quote, cut at a line end when long."""
    lines = [line.rstrip() for line in textwrap.dedent(text).strip("\n").splitlines()]
    kept: list[str] = []
    size = 0
    for line in lines:
        if kept and size + len(line) > limit:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(f"> {line}" if line else ">" for line in kept)


def extractive(sources: list[Source]) -> str:
    best = sources[0]
    quoted = [best] + [s for s in sources[1:QUOTED] if s.score >= best.score - SECOND_QUOTE_MARGIN]
    parts = [f"From {s.path}{_where(s)} [{s.n}]:\n{quote(s.text)}" for s in quoted]
    return "\n\n".join(parts)


def abstention(
    sources: list[Source], confidence: float, min_confidence: float, period: Period | None = None,
    defines_metric: bool = False,
) -> str:
    if not sources:
        return "I couldn't find this in the documents: nothing indexed matches (or the filters leave nothing)."
    if period:
        best = sources[0]
        where = f"{best.path}{_where(best)} [{best.n}]"
        if defines_metric:
            return (
                f"The documents define this metric but hold no figures, so they can't tell you its value for "
                f"{period.text}. Its definition is in {where}; the figure itself comes from the reports or the BI tool."
            )
        return (
            f"I found nothing about {period.text} in the documents, so they can't give this figure: the closest "
            f"passage, {where}, is about another period or none. Figures for a period come from the reports or "
            "the BI tool."
        )
    closest = "; ".join(f"{s.path}{_where(s)} [{s.n}]" for s in sources[:3])
    return (
        "I couldn't find this in the documents, so I won't guess. "
        f"The closest passages (confidence {confidence:.2f}, below the {min_confidence:.2f} needed) were: "
        f"{closest}."
    )


def _where(source: Source) -> str:
    return f" § {source.section}" if source.section else ""
