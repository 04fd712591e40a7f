"""The two custom-dispatch mechanisms timed in one paired sitting: the same kernel linked into the
module (`mechanism = "embedded"`) and loaded by the runtime as a plugin (`mechanism = "plugin"`),
each as the published run of one release ran it (its module, inputs and, for the plugin,
`--executable_plugin`), one thread (local-sync), rounds in a shuffled order.

    python benchmarks/kernel_mechanisms.py --results results/kernels --release 3.13.0 \\
        --embedded depthwise3x3 --plugin depthwise3x3_plugin --rounds 12

Prints each arm's median time per call over the rounds [min-max] and the median of the per-round
ratios plugin / embedded [min-max]. The modules and the plugin are read from the store entries the
records name, so it runs on the machine (and cache) that made them."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
from pathlib import Path


def _run_command(results: Path, release: str, kernel: str) -> list[str]:
    wanted = f"/iree{release}/x86_64/default+k:{kernel}"
    found = None
    for line in (results / "results.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["stage"] == "run" and record["job"].endswith(wanted) and record["status"] == "ok":
            found = record["command"]  # the newest wins
    if found is None:
        raise SystemExit(f"{results}: no ok run of kernel {kernel!r} with IREE {release} on x86_64")
    return list(found)


def _benchmark(run_argv: list[str]) -> list[str]:
    """The checked call as iree-benchmark-module on one thread: its tool, module, inputs, plugin."""
    tool = str(Path(run_argv[0]).with_name("iree-benchmark-module"))
    kept = [a for a in run_argv[1:] if not a.startswith(("--output=", "--device=", "--task_topology"))]
    return [tool, "--device=local-sync", *kept, "--benchmark_min_time=0.3s", "--benchmark_format=json"]


def _seconds_per_call(argv: list[str]) -> float:
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600)
    runs = [b for b in json.loads(done.stdout)["benchmarks"] if b.get("run_type") == "iteration"]
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[runs[0].get("time_unit", "ns")]
    return statistics.median(b["real_time"] for b in runs) * unit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--release", required=True)
    parser.add_argument("--embedded", required=True)
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    arms = {
        name: _benchmark(_run_command(args.results, args.release, name))
        for name in (args.embedded, args.plugin)
    }
    for name, argv in arms.items():
        print(f"{name}: {' '.join(argv)}")
    times: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(args.rounds):
        order = list(arms)
        random.shuffle(order)
        for name in order:
            times[name].append(_seconds_per_call(arms[name]))
    for name, values in times.items():
        print(
            f"{name}: {statistics.median(values) * 1e3:.3f} ms per call, one thread "
            f"[{min(values) * 1e3:.3f}-{max(values) * 1e3:.3f}], {args.rounds} rounds"
        )
    ratios = [p / e for p, e in zip(times[args.plugin], times[args.embedded])]
    print(
        f"{args.plugin} / {args.embedded} (paired, per round): {statistics.median(ratios):.3f}x "
        f"[{min(ratios):.3f}-{max(ratios):.3f}]"
    )


if __name__ == "__main__":
    main()
