"""Timing a child process: its wall time and peak RSS (from wait4), for the benches that start fresh ones."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path


def measured(args: list[str], env: dict[str, str], cwd: Path) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak RSS MiB) of one child process, which must succeed (else SystemExit with
    the end of its stderr). Output goes through temporary files, so a chatty child never blocks on a pipe."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err.read()[-4000:]}")
        return out.read(), wall, usage.ru_maxrss / 1024
