"""From Slack message text (and its thread's earlier turns) to the question the Answerer gets."""

from __future__ import annotations

import re

from bot.answering.question import MAX_QUESTION_CHARS

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^>|]*)?(?:\|([^>]*))?>")  # <!here>, <!subteam^ID|@team>


def mentions(text: str, user_id: str | None) -> bool:
    """Whether `text` @-mentions `user_id`."""
    return bool(user_id) and any(found == user_id for found in _USER.findall(text))


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack's wire format as a person would read it: the bot's @-mention dropped, links as their labels."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _USER.sub(lambda m: f"@{m.group(1)}", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL.sub(lambda m: m.group(2) or f"@{m.group(1)}", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"\s+", " ", text).strip()


def follow_up_question(earlier_turns: list[str], follow_up: str) -> str:
    """The question for a follow-up in a thread: the previous turn's words, then the follow-up's.

    The extractive answerer retrieves by meaning and has no memory of the thread, so "and for annual plans?"
    alone would match nothing useful; after "how do we recognise setup fees?" it retrieves the right policy.
    Only the previous turn goes along: older turns would drag retrieval back to topics the thread has left.
    The result is cut from the front to fit the question limit, so the follow-up itself always survives.
    """
    if not earlier_turns:
        return follow_up
    combined = f"{earlier_turns[-1]} {follow_up}"
    return combined[-MAX_QUESTION_CHARS:].lstrip()
