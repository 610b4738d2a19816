"""Errors the user can act on. The CLI and the API turn them into messages, never tracebacks."""

from ingest.errors import IngestError


class FinbotError(Exception):
    """Base for the bot's own user-facing errors."""


class ConfigError(FinbotError):
    """The configuration file or an environment override is invalid."""


class QuestionError(FinbotError):
    """The question cannot be answered as asked (empty, too long)."""


class SemanticLayerError(FinbotError):
    """The metric YAML cannot be built into a MetricFlow manifest (the message names file, line and field)."""


class MetricQueryError(FinbotError):
    """A metric value cannot be computed as asked: unknown metric, unsupported period, no warehouse."""


class WarehouseUnavailableError(MetricQueryError):
    """The warehouse is missing or cannot be opened: the server's problem, not the question's (HTTP 503)."""


# Everything a boundary (CLI, API) reports as a plain message.
USER_ERRORS: tuple[type[Exception], ...] = (FinbotError, IngestError)

