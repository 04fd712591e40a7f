"""How torch eager's latency holds up when other programs share the CPU, per thread policy.

Each configuration runs in its own process (OpenMP reads its environment once), interleaved,
`--rounds` times, with and without a deliberate background load (a bounded busy loop on every
core). Prints medians, min-max and the loaded/quiet ratio per configuration. What the export stage
uses is chosen from this (lab/measurements.md, "True baselines").

    python benchmarks/eager_robustness.py --python ENV/bin/python --model mobilenet_v2
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
CONFIGS = {
    "threads=N (torch default policy)": {"threads": 0, "env": {}},
    "threads=N, OMP_WAIT_POLICY=PASSIVE": {"threads": 0, "env": {"OMP_WAIT_POLICY": "PASSIVE"}},
    "threads=1": {"threads": 1, "env": {}},
}
WORKER = r"""
import json, statistics, sys, time, importlib
sys.path.insert(0, sys.argv[1])
import torch
threads = int(sys.argv[3]) or __import__("os").cpu_count()
torch.set_num_threads(threads)
spec = importlib.import_module("models." + sys.argv[2]).build(0)
with torch.no_grad():
    for _ in range(3):
        spec.module(*spec.inputs)
    times = []
    for _ in range(int(sys.argv[4])):
        t = time.perf_counter(); spec.module(*spec.inputs); times.append((time.perf_counter() - t) * 1e3)
print(json.dumps(times))
"""


def _busy(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


def measure(python: str, model: str, config: dict, reps: int) -> list[float]:
    env = {**os.environ, **config["env"]}
    argv = [python, "-c", WORKER, str(SCRIPTS), model, str(config["threads"]), str(reps)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True, timeout=600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="an exporter environment's python (torch installed)")
    parser.add_argument("--model", default="mobilenet_v2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    results: dict[tuple[str, str], list[float]] = {}
    for round_ in range(args.rounds):
        for load in ("quiet", "loaded"):
            for name, config in CONFIGS.items():
                workers = []
                if load == "loaded":  # one busy process per core, stopped by a deadline
                    stop_at = time.monotonic() + 600
                    workers = [
                        multiprocessing.Process(target=_busy, args=(stop_at,))
                        for _ in range(os.cpu_count() or 1)
                    ]
                    for w in workers:
                        w.start()
                try:
                    times = measure(args.python, args.model, config, args.reps)
                finally:
                    for w in workers:
                        w.terminate()
                        w.join()
                results.setdefault((name, load), []).extend(times)
                print(
                    f"round {round_ + 1} {load:<6} {name:<36} median {statistics.median(times):8.2f} ms",
                    flush=True,
                )
    print(f"\n{args.model}, {os.cpu_count()} CPUs, {args.rounds} rounds x {args.reps} calls:")
    head = f"{'configuration':<38}{'quiet median (min-max)':>28}"
    print(head + f"{'loaded median (min-max)':>30}{'loaded/quiet':>14}")
    for name in CONFIGS:
        quiet, loaded = results[(name, "quiet")], results[(name, "loaded")]
        qm, lm = statistics.median(quiet), statistics.median(loaded)
        row = f"{name:<38}{qm:>10.2f} ({min(quiet):.1f}-{max(quiet):.1f}) ms"
        print(row + f"{lm:>12.2f} ({min(loaded):.1f}-{max(loaded):.1f}) ms{lm / qm:>12.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
