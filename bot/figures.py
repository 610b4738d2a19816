"""Questions that ask for a figure: a metric's value for a period ("what was NRR for december 2025").

The documents define metrics and hold no results, so a question that names a period and lands on a
metric definition cannot be answered from them, however well the definition matches. Asking how a
metric is calculated for a period ("how is NRR calculated for Q4?") is still a question about the
definition and is left alone.
"""

from __future__ import annotations

import re

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_PERIOD = re.compile(
    rf"(?i)\b(?:q[1-4](?:\s*(?:fy)?\s*'?\d{{2,4}})?|fy\s*'?\d{{2,4}}|h[12]\s+20\d\d|{_MONTH}\s+(?:20\d\d|'\d\d)"
    r"|(?:last|this|next|previous|prior)\s+(?:month|quarter|year|week)|ytd|mtd|qtd)\b"
)
_ABOUT_THE_DEFINITION = re.compile(
    r"(?i)\b(?:how|why|formula|calculat\w*|comput\w*|defin\w*|mean\w*|includ\w*|exclud\w*|treat\w*)\b"
)


def period_asked(question: str) -> str | None:
    """The period a question asks a figure for ("Q4 2025", "december 2025", "last quarter"), or None
    when it names none or asks how something is defined or calculated."""
    match = _PERIOD.search(question)
    if not match or _ABOUT_THE_DEFINITION.search(question):
        return None
    return match.group(0)
