"""Slack Block Kit payloads for replies: pure functions from an `Answer` to blocks within Slack's limits."""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from bot.answering.answer import Answer, Source

Block = dict[str, Any]

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks): a section's text and a context
# element hold at most 3,000 characters; a message holds at most 50 blocks.
MAX_TEXT_CHARS = 3000
MAX_BLOCKS = 50
FALLBACK_CHARS = 300  # the plain `text` Slack shows in notifications

SEARCHING = ":mag: Searching the docs…"
UP, DOWN = "feedback_up", "feedback_down"
FEEDBACK_BLOCK = "finbot_feedback"
COMMENT_VIEW = "finbot_feedback_comment"
COMMENT_BLOCK, COMMENT_INPUT = "comment", "comment_input"
CUT_NOTE = "_… (the answer was cut to fit in one Slack message; ask `finbot ask` for all of it)_"


def escape(text: str) -> str:
    """Slack's three control characters as entities (https://docs.slack.dev/messaging/formatting-message-text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(text: str) -> str:
    """Escaped text that keeps the answer's `> ` block-quote markers working."""
    lines = []
    for line in text.splitlines():
        marker = re.match(r"^>( |$)", line)
        cut = marker.end() if marker else 0
        lines.append(line[:cut] + escape(line[cut:]))
    return "\n".join(lines)


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, then a line, then a space when possible."""
    pieces: list[str] = []
    rest = text.strip("\n")
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = max(window.rfind("\n\n"), 0) or max(window.rfind("\n"), 0) or max(window.rfind(" "), 0) or limit
        cut = min(cut, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest:
        pieces.append(rest)
    return pieces


def source_url(template: str, source: Source) -> str | None:
    """The source's web address from `slack.source_url_template`; None when no template is set.

    Without file line numbers (none, or a PDF's page-relative lines) the `#...` fragment is dropped.
    """
    if not template:
        return None
    if source.start_line is None or source.end_line is None or source.page is not None:
        template = template.split("#", 1)[0]
    return template.format(path=quote(source.path, safe="/"), start_line=source.start_line, end_line=source.end_line)


def source_label(source: Source) -> str:
    page = f" p.{source.page}" if source.page is not None else ""
    section = f" § {source.section}" if source.section else ""
    return f"[{source.n}] {source.path}{page}{section}"


def source_line(source: Source, template: str) -> str:
    """`<url|[n] path § section>`, or the label in plain text when there is no URL."""
    label = escape(source_label(source))
    url = source_url(template, source)
    return f"<{url}|{label}>" if url else label


def sources_blocks(sources: list[Source], template: str, heading: str) -> list[Block]:
    lines = [f"*{heading}*", *(source_line(s, template) for s in sources)]
    return [_context(piece) for piece in split_text("\n".join(lines))]


def feedback_block(answer_id: str) -> Block:
    """Thumbs up / down; the answer id rides in the button value so a click finds its answer."""
    return {
        "type": "actions",
        "block_id": FEEDBACK_BLOCK,
        "elements": [
            _button(UP, ":+1: Helpful", answer_id),
            _button(DOWN, ":-1: Not helpful", answer_id),
        ],
    }


def answer_blocks(answer: Answer, template: str = "", asked: str | None = None) -> list[Block]:
    """The whole reply: [what was asked], answer sections, numbered sources, feedback buttons. ≤ 50 blocks."""
    heading = "Closest sources (none close enough to answer from)" if answer.abstained else "Sources"
    head = [_context(f"*Asked:* {escape(asked)}"[:MAX_TEXT_CHARS])] if asked else []
    sources = sources_blocks(answer.sources, template, heading) if answer.sources else []
    sources = sources[: MAX_BLOCKS // 2]  # only reachable with thousands of sources; the answer comes first
    room = MAX_BLOCKS - len(head) - len(sources) - 1
    pieces = split_text(to_mrkdwn(answer.text))
    if len(pieces) > room:
        pieces = pieces[: room - 1] + [CUT_NOTE]
    return head + [_section(piece) for piece in pieces] + sources + [feedback_block(answer.id)]


def fallback_text(answer: Answer) -> str:
    """The notification text that goes with the blocks."""
    flat = re.sub(r"\s+", " ", answer.text).strip()
    return flat if len(flat) <= FALLBACK_CHARS else flat[: FALLBACK_CHARS - 1] + "…"


def apology(error_id: str) -> str:
    return (
        f":warning: Sorry, I couldn't answer that: something went wrong on my side. "
        f"The error was logged as `{error_id}`; please try again, or give that id to whoever runs finbot."
    )


def rate_limited(limit: int, window_seconds: int, retry_in: float) -> str:
    window = _duration(window_seconds).removeprefix("1 ")  # "the last minute", "the last 10 minutes"
    return (
        f":hourglass: You've asked {limit} questions in the last {window}, which is my limit for now. "
        f"Please try again in about {_duration(max(1, math.ceil(retry_in)))}."
    )


def usage(how: str) -> str:
    return f"Ask me about our metrics, reports or accounting policies, e.g. {how} how is ARR calculated?"


def not_here(channels: list[str]) -> str:
    where = ", ".join(f"<#{c}>" for c in channels)
    return f"I only answer in {where} and in direct messages. Ask me there, or DM me."


def comment_modal(answer_id: str, channel: str | None) -> Block:
    """The optional "what was wrong?" dialog a thumbs-down opens; private_metadata carries the answer id."""
    return {
        "type": "modal",
        "callback_id": COMMENT_VIEW,
        "private_metadata": json.dumps({"answer_id": answer_id, "channel": channel}),
        "title": {"type": "plain_text", "text": "What was wrong?"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            {
                "type": "input",
                "block_id": COMMENT_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "What should the answer have said, or cited?"},
                "element": {"type": "plain_text_input", "action_id": COMMENT_INPUT, "multiline": True},
            }
        ],
    }


def _duration(seconds: int) -> str:
    """Whole hours or minutes when the figure allows it (rounded up past 90 s), else seconds."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return _plural(seconds // 3600, "hour")
    if seconds >= 90 or (seconds >= 60 and seconds % 60 == 0):
        return _plural(math.ceil(seconds / 60), "minute")
    return _plural(seconds, "second")


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(action_id: str, text: str, value: str) -> Block:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
    }
