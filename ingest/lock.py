"""One ingest at a time per index: an advisory file lock in the index's local folder."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.errors import IngestLockedError

LOCK_NAME = "ingest.lock"


@contextmanager
def ingest_lock(folder: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the lock for the block; another holder makes this wait (wait=True) or raise IngestLockedError.

    The kernel drops the lock when its process dies, so a killed run never leaves a stale lock behind.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise IngestLockedError(
                f"Another 'finbot ingest' ({holder}) is writing the index at {folder}. "
                "Wait for it to finish, or pass --wait to queue behind it."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
