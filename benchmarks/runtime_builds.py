"""The pip runtime against a runtime built from the same release's source, on one module, interleaved.

Runs `iree-benchmark-module` from each tools directory alternately (A B A B …), so both see the same
machine, and prints per runtime the median of the per-round medians, the spread and the ratio, plus
each binary's size. The module is any .vmfb both can load (same release), e.g. a stored compile.

    python benchmarks/runtime_builds.py --module M.vmfb --function main --input @in0.npy \\
        --tools pip=ENV/bin --tools source=CACHE/store/runtime-build/KEY/tools
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path


def _benchmark(tool: Path, args: argparse.Namespace) -> float:
    argv = [str(tool), "--device=local-task", f"--task_topology_group_count={args.threads}",
            f"--module={args.module}", f"--function={args.function}", *(f"--input={i}" for i in args.input),
            f"--benchmark_repetitions={args.repetitions}", "--benchmark_format=json"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600)
    times = [
        b["real_time"] for b in json.loads(done.stdout)["benchmarks"] if b.get("run_type") == "iteration"
    ]
    unit = json.loads(done.stdout)["benchmarks"][0].get("time_unit", "ns")
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    return statistics.median(times) * scale


def _tool(directory: Path, name: str) -> Path:
    direct = directory / name
    found = direct if direct.is_file() else Path(shutil.which(name, path=str(directory)) or "")
    if not found.is_file():
        raise SystemExit(f"{directory}: no {name}")
    return found


def _real_binary(tool: Path) -> Path:
    """A wheel's console script is a Python stub; its size is the binary's behind it."""
    if tool.stat().st_size > 100_000:
        return tool
    candidates = list(tool.parent.parent.glob(f"lib/python*/site-packages/iree/_runtime_libs/{tool.name}"))
    return candidates[0] if candidates else tool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", required=True)
    parser.add_argument("--function", default="main")
    parser.add_argument("--input", action="append", default=[])
    parser.add_argument("--tools", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    runtimes = {name: Path(d) for name, _, d in (t.partition("=") for t in args.tools)}
    tools = {name: _tool(d, "iree-benchmark-module") for name, d in runtimes.items()}
    rounds: dict[str, list[float]] = {name: [] for name in tools}
    for i in range(args.rounds):
        for name, tool in tools.items():
            rounds[name].append(_benchmark(tool, args))
        print(f"round {i + 1}: " + ", ".join(f"{n} {rounds[n][-1]:.2f} ms" for n in tools), flush=True)
    base = next(iter(tools))
    print(f"\n{Path(args.module).name}, {args.threads} threads, {args.rounds} interleaved rounds x "
          f"{args.repetitions} repetitions:")  # fmt: skip
    for name, tool in tools.items():
        times = rounds[name]
        run_module = _real_binary(_tool(runtimes[name], "iree-run-module"))
        ratio = statistics.median(times) / statistics.median(rounds[base])
        spread = f"(min {min(times):.2f}, max {max(times):.2f})"
        sizes = (f"iree-run-module {run_module.stat().st_size / 1024:.0f} KiB, "
                 f"iree-benchmark-module {_real_binary(tool).stat().st_size / 1024:.0f} KiB")  # fmt: skip
        print(
            f"  {name:<10} median {statistics.median(times):8.2f} ms {spread}, x{ratio:.2f} vs {base}; "
            + sizes
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
