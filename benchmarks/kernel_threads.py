"""Does a kernel keep its gain when the runtime has more than one thread? Paired, interleaved rounds
of modules a matrix built (a pick alone, the pick with a kernel on one workgroup, the same kernel split
over workgroups), each timed at one thread (`local-sync`) and at N threads (`local-task`, N workers),
wall time per call (iree-benchmark-module's median real time of its repetitions); each arm's time
over the first arm's, round by round. A generated spec ran its kernel on one workgroup (one thread):
its gain at 1 thread turned into a loss at 2.

    python benchmarks/kernel_threads.py --runtime ENV/bin/iree-benchmark-module --input INPUT.npy \\
        --arm pick=STORE/compile/…/module.vmfb --arm one-workgroup=… --arm split=… --rounds 8

The modules and the input are a run record's (`iree-matrix show JOB --commands` prints them).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

UNITS = {"ns": 1e6, "us": 1e3, "ms": 1.0}


def timed(tool: str, module: str, device: list[str], inputs: list[str], stack: str) -> float:
    """One arm's wall time per call, ms: the median of its repetitions' real time."""
    timing = ["--benchmark_repetitions=5", "--benchmark_format=json", "--benchmark_min_time=0.2s"]
    fed = [f"--input=@{i}" for i in inputs]
    argv = [
        tool,
        *device,
        f"--task_worker_stack_size={stack}",
        f"--module={module}",
        "--function=main",
        *fed,
        *timing,
    ]
    found = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)["benchmarks"]
    runs = [b for b in found if b.get("run_type") == "iteration"]
    return statistics.median(b["real_time"] / UNITS[b["time_unit"]] for b in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", required=True, help="iree-benchmark-module of the modules' release")
    parser.add_argument("--input", action="append", required=True, help="an input .npy (repeat in order)")
    parser.add_argument(
        "--arm", action="append", required=True, help="NAME=MODULE.vmfb; the first is the base"
    )
    parser.add_argument("--threads", type=int, default=2, help="local-task workers of the second device")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--stack", default="196608", help="--task_worker_stack_size (a kernel's run_flags)")
    args = parser.parse_args()
    arms = dict(a.split("=", 1) for a in args.arm)
    workers = ["--device=local-task", f"--task_topology_group_count={args.threads}"]
    devices = {"1 thread": ["--device=local-sync"], f"{args.threads} threads": workers}
    ms: dict[tuple[str, str], list[float]] = {(d, a): [] for d in devices for a in arms}
    for r in range(args.rounds):
        order = list(arms) if r % 2 == 0 else list(arms)[::-1]  # interleaved, each arm first as often
        for device, flags in devices.items():
            for arm in order:
                ms[(device, arm)].append(timed(args.runtime, arms[arm], flags, args.input, args.stack))
        print(f"round {r + 1}/{args.rounds}", file=sys.stderr)
    base = next(iter(arms))
    for device in devices:
        for arm in arms:
            times, over = ms[(device, arm)], [x / y for x, y in zip(ms[(device, arm)], ms[(device, base)])]
            spread = f"min {min(times):.2f}, max {max(times):.2f}"
            ratio = f"median {statistics.median(over):.3f} (rounds {min(over):.3f}-{max(over):.3f})"
            median = statistics.median(times)
            print(f"{device:10} {arm:14} median {median:7.2f} ms ({spread}); over {base}: {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
