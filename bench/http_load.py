"""Load on the live HTTP API: `finbot serve` driven over loopback by 1, 4, 16 and 64 concurrent clients.

    .venv/bin/python bench/http_load.py                                  # writes docs/benchmarks.md
    .venv/bin/python bench/http_load.py --levels 1,4 --requests 5 --no-write   # a quick look

It indexes corpus/ into a temporary folder (or uses --index PATH), then starts `finbot serve` twice with
the repository's config.yaml (extractive mode) and the rate limit off: once with auth off, once with
API keys. Each level runs CLIENTS clients that each ask REQUESTS golden dev questions one after the
other (a time bound per level stops it early), and reports throughput, latency percentiles, every
non-200 answer and the server's resident memory. Throughput ratios are against 1 client in the same run
(the 1-client level runs first and again last; the ratio uses their mean).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs

from bot.evaluation.evaluate import percentile

REPO = Path(__file__).resolve().parent.parent
COMMAND = ".venv/bin/python bench/http_load.py"
KEY = "bench-load-key-0123456789abcdef"


@dataclass
class Level:
    mode: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: dict[int | str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rss_mib: float = 0.0
    stopped_early: bool = False
    again: bool = False  # the 1-client level repeated at the end: how much the shared machine drifted

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def questions() -> list[str]:
    data = yaml.safe_load((REPO / "golden" / "questions.yaml").read_text())
    return [q["question"] for q in data["questions"] if q["split"] == "dev"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int, field_name: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def serve(index: Path, auth: bool) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {
        **os.environ, "FINBOT_CONFIG": str(REPO / "config.yaml"), "FINBOT_INDEX__PATH": str(index),
        "FINBOT_HTTP__PORT": str(port), "FINBOT_HTTP__RATE_LIMIT_PER_KEY": "0",
        "FINBOT_AUTH__REQUIRED": "true" if auth else "false", "FINBOT_API_KEYS": KEY if auth else "",
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
    }
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise SystemExit("finbot serve exited during start-up")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("finbot serve was not ready within 180 s")
            time.sleep(0.5)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def drive(url: str, level: Level, asked: list[str], requests: int, max_seconds: float, auth: bool) -> None:
    headers = {"X-API-Key": KEY} if auth else {}
    limits = httpx.Limits(max_connections=level.clients, max_keepalive_connections=level.clients)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as client:

        async def one_client(n: int) -> None:
            for i in range(requests):
                if time.perf_counter() - started > max_seconds:
                    level.stopped_early = True
                    return
                question = asked[(n * requests + i) % len(asked)]
                t0 = time.perf_counter()
                try:
                    response = await client.post("/v1/ask", json={"question": question})
                    status: int | str = response.status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                if status == 200:
                    level.latencies.append(time.perf_counter() - t0)
                else:
                    level.errors[status] = level.errors.get(status, 0) + 1

        await asyncio.gather(*(one_client(n) for n in range(level.clients)))
    level.seconds = time.perf_counter() - started


def run(index: Path, levels: list[int], requests: int, max_seconds: float) -> tuple[list[Level], dict[str, float]]:
    asked = questions()
    results: list[Level] = []
    peaks: dict[str, float] = {}
    for mode, auth in (("auth off", False), ("API key", True)):
        with serve(index, auth) as (url, pid):
            warm = Level(mode, 1)
            asyncio.run(drive(url, warm, asked, 20, max_seconds, auth))  # the first answers load lazy parts
            for n, clients in enumerate([*levels, 1]):
                level = Level(mode, clients, again=n == len(levels))
                asyncio.run(drive(url, level, asked, requests, max_seconds, auth))
                level.rss_mib = rss_mib(pid)
                results.append(level)
                print(row(level, baseline(results, mode)), flush=True)
            peaks[mode] = rss_mib(pid, "VmHWM")
    return results, peaks


def baseline(results: list[Level], mode: str) -> float:
    """Single-client throughput of `mode`: the mean of its first and repeated 1-client levels."""
    singles = [r.throughput for r in results if r.mode == mode and r.clients == 1]
    return sum(singles) / len(singles) if singles else 0.0


def row(level: Level, base_tput: float) -> str:
    ordered = sorted(level.latencies)
    tput = level.throughput
    errors = ", ".join(f"{n}x {status}" for status, n in level.errors.items()) or "0"
    return (
        f"| {level.mode} | {level.clients}{' (again)' if level.again else ''} | "
        f"{level.requests}{' (time bound)' if level.stopped_early else ''} | "
        f"{errors} | {tput:.1f} | {tput / base_tput if base_tput else 0:.2f}x | "
        f"{percentile(ordered, 50) * 1000:.0f} | {percentile(ordered, 95) * 1000:.0f} | "
        f"{percentile(ordered, 99) * 1000:.0f} | {level.rss_mib:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="An index of corpus/ to use instead of building one.")
    parser.add_argument("--levels", default="1,4,16,64", help="Concurrent clients per level.")
    parser.add_argument("--requests", type=int, default=25, help="Requests each client sends per level.")
    parser.add_argument("--max-seconds", type=float, default=120, help="Time bound per level.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    with tempfile.TemporaryDirectory(prefix="finbot-load-") as tmp:
        index = args.index
        if index is None:
            index = Path(tmp) / "index"
            env = {**os.environ, "FINBOT_CONFIG": str(REPO / "config.yaml"), "FINBOT_INDEX__PATH": str(index)}
            subprocess.run([sys.executable, "-m", "bot", "ingest"], env=env, check=True, capture_output=True)
        header = (
            "| server | clients | requests | errors | answers/s | vs 1 client | p50 ms | p95 ms | p99 ms | RSS MiB |\n"
            "|---|---|---|---|---|---|---|---|---|---|"
        )
        print(header, flush=True)
        results, peaks = run(index, levels, args.requests, args.max_seconds)
    table = header + "\n" + "\n".join(row(level, baseline(results, level.mode)) for level in results)
    peak = ", ".join(f"{mode} {mib:.0f} MiB" for mode, mib in peaks.items())
    print(f"peak RSS: {peak}")
    if args.no_write:
        return
    extra = f" --levels {args.levels}" if args.levels != "1,4,16,64" else ""
    extra += f" --requests {args.requests}" if args.requests != 25 else ""
    write_section("http-load", f"""## HTTP API under load

Reproduce with `{COMMAND}{extra}`. `finbot serve` (one uvicorn process, extractive answers, the
repository's config.yaml: `http.max_in_flight` 8 answer threads, `http.max_queued` 64, rate limit off)
on an index of corpus/, driven over loopback from the same 2-core machine by CLIENTS concurrent clients
that each ask {args.requests} golden dev questions in turn; the same run once with auth off and once
with an API key on every request. Throughput counts 200s only; "vs 1 client" is against the mean of
the same server's two 1-client levels (one first, one again at the end: the machine is shared with other
jobs, and the gap between the two shows how much that moved the figures). RSS is the server's after the
level; peak RSS: {peak}. On this shared machine a lone answer swings between about 20 ms and 400 ms for
stretches of seconds (the same swings show calling `Answerer.ask` in process, without HTTP), so the
1-client rows and the ratios against them are unstable; the 4/16/64-client rows are the steadier figures.

{table}
""")


if __name__ == "__main__":
    main()
