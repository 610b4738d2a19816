"""Errors raised while reading documents or opening the index."""

from pathlib import Path


class IngestError(Exception):
    """Base for errors the user can act on; the CLI prints the message, no traceback."""


class DocumentError(IngestError):
    """A corpus file that cannot be read or parsed."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class IndexMissingError(IngestError):
    """No index has been written yet where the config points."""

    def __init__(self, location: str) -> None:
        self.location = location
        super().__init__(f"No index at {location}. Run 'finbot ingest' first.")


class IndexMismatchError(IngestError):
    """The index was built with another embedding model than the one configured."""


class IndexUnreachableError(IngestError):
    """index.mode is http and no Chroma server answers at index.host:index.port."""


class IngestLockedError(IngestError):
    """Another ingest run holds the index's lock."""
