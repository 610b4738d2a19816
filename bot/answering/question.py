"""A question as finbot accepts it: stripped, not empty, not over MAX_QUESTION_CHARS (light to import: the
CLI checks a question before it knows whether a running server or the local index will answer it)."""

from __future__ import annotations

from bot.errors import QuestionError

MAX_QUESTION_CHARS = 2000


def clean_question(question: str) -> str:
    """The question stripped, or a QuestionError that says what is wrong with it."""
    question = question.strip()
    if not question:
        raise QuestionError("The question is empty. Ask something, e.g. 'How is ARR calculated?'")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"The question is {len(question)} characters long; keep it under {MAX_QUESTION_CHARS}.")
    return question
