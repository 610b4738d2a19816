"""Errors the user can act on. The CLI and the API turn them into messages, never tracebacks."""

from ingest.errors import IngestError


class FinbotError(Exception):
    """Base for the bot's own user-facing errors."""


class ConfigError(FinbotError):
    """The configuration file or an environment override is invalid."""


class QuestionError(FinbotError):
    """The question cannot be answered as asked (empty, too long)."""


# Everything a boundary (CLI, API) reports as a plain message.
USER_ERRORS: tuple[type[Exception], ...] = (FinbotError, IngestError)

