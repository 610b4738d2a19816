"""`finbot ask` answered by a running `finbot serve` against the same ask opening the index itself.

    .venv/bin/python bench/remote_ask.py             # 7 runs each, writes docs/benchmarks.md
    .venv/bin/python bench/remote_ask.py --runs 2 --no-write

Ingests corpus/ into a fresh temporary index, starts `finbot serve` on a free loopback port (auth on, one
key), waits for /readyz, then runs cold `finbot ask` processes, interleaved: through the server (the
default when one answers for the same index) and with `--local` (the index opened in the process). Each
run is a new process; medians of wall time and peak RSS (from wait4) are reported, and the ratio.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs
from processes import measured

REPO = Path(__file__).resolve().parent.parent
COMMAND = ".venv/bin/python bench/remote_ask.py"
QUESTION = "which column of the payouts report is the arrival date?"
KEY = "bench-remote-ask-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one `finbot` child process, which must succeed."""
    _, wall, rss = measured([sys.executable, "-m", "bot", *args], env, REPO)
    return wall, rss


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("finbot serve exited before it was ready")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("finbot serve was not ready within 180 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("FINBOT_")},
               "FINBOT_INDEX__PATH": str(Path(tmp) / "index"), "FINBOT_HTTP__PORT": str(port),
               "HF_HUB_OFFLINE": "1", "FINBOT_API_KEY": KEY}
        subprocess.run([sys.executable, "-m", "bot", "ingest"], env=env, cwd=REPO, check=True, capture_output=True)
        server = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env={**env, "FINBOT_API_KEYS": KEY},
                                  cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(f"http://127.0.0.1:{port}", server)
            served, local = [], []
            for _ in range(args.runs):
                served.append(timed(["ask", QUESTION], env))
                local.append(timed(["ask", "--local", QUESTION], env))
        finally:
            server.terminate()
            server.wait(timeout=30)
    wall = {name: statistics.median(w for w, _ in runs) for name, runs in (("served", served), ("local", local))}
    rss = {name: statistics.median(r for _, r in runs) for name, runs in (("served", served), ("local", local))}
    text = "\n\n".join([
        "## `finbot ask` through a running `finbot serve`",
        f"Reproduce with `{COMMAND}` (medians of {args.runs} cold processes each, interleaved; the same fresh "
        f"index of corpus/; a `finbot serve` on loopback with an API key; question: \"{QUESTION}\").",
        "| run | wall s | of --local | peak RSS MiB |\n|---|---|---|---|\n"
        f"| `finbot ask` answered by the running server | {wall['served']:.2f} | "
        f"{wall['served'] / wall['local']:.2f} | {rss['served']:.0f} |\n"
        f"| `finbot ask --local` (the index opened in the process) | {wall['local']:.2f} | 1.00 | {rss['local']:.0f} |",
        "Target: at most 0.5 s through a server. The served ask still starts Python and imports finbot's CLI and "
        "config; the model, Chroma and BM25 stay in the server.",
    ])
    print(text)
    if not args.no_write:
        write_section("remote-ask", text)


if __name__ == "__main__":
    main()
