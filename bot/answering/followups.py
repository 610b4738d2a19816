"""Follow-up questions: what an earlier turn of the conversation lends a question that leans on it.

"and how is that different from GRR?" after a question on NRR searches with NRR's name too; a question that
stands on its own ("what is DSO?") borrows nothing, so a thread never drags it back to the old topic. The
borrowed words only steer retrieval (with half the weight of the question's own, like a multi-part
question's borrowed words); the answer and the writer keep the user's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_TURNS = 10
# Opens by continuing the last turn, or points back at something it doesn't name.
_CONTINUES = re.compile(r"^\W*(?:and|but|also|so|then|what about|how about)\b", re.I)
_POINTS_BACK = re.compile(r"\b(?:that|this|it|its|those|these|they|them|their|the same)\b", re.I)


@dataclass(frozen=True)
class Turn:
    """One earlier question of the conversation and the answer it got."""

    question: str
    answer: str = ""


def leans_on_earlier(question: str, names: Sequence[str]) -> bool:
    """Whether the question continues the conversation: it opens with "and ...", "what about ...", or it
    points back ("does it include tax?") without naming anything of its own."""
    return bool(_CONTINUES.match(question)) or (not names and bool(_POINTS_BACK.search(question)))


def borrowed_words(question: str, conversation: Sequence[Turn], names: Callable[[str], list[str]]) -> str:
    """What the latest earlier turn lends the question: the metrics, models and columns it named, or its
    question when it named none; "" for a question that stands on its own."""
    if not conversation or not leans_on_earlier(question, names(question)):
        return ""
    last = conversation[-1].question
    named = [name for name in names(last) if name not in names(question)]
    return " ".join(name.replace("_", " ") for name in named) if named else last
