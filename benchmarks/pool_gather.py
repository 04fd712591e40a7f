"""A global average pool alone, three ways: what holds MobileNetV3-small's gap on IREE, measured.

    python3 benchmarks/pool_gather.py [--rounds 8] [--release 3.13.0]

torch-mlir lowers `F.adaptive_avg_pool2d(x, 1)` (turbine's `aot.export`, the model's own export) to a
`tensor.pad` and a 6-D `linalg.generic` that `tensor.extract`s from it: a gather IREE does not
vectorise. The export recipe `fx+decompose` (the tool's own worker, scripts/export_fx.py) gives the
same pool as torch decomposes it (`avg_pool2d`, then `aten.mean.dim`); `x.mean((2, 3))` written by hand
is the third arm. Each is ReLU then the pool, on MobileNetV3-small's first and last squeeze-excitation
inputs ([1, 16, 56, 56], [1, 240, 14, 14]) and MobileNetV2's final one ([1, 1280, 7, 7]).

Every module is compiled by the release's `iree-compile` (`--iree-llvmcpu-target-cpu=host`, data
tiling, as the published picks) and timed by its `iree-benchmark-module` on one thread
(`--device=local-sync`, CPU time, 5 repetitions of 0.2 s): a round times every module once, in an
order that turns each round, and a module's figure is the median over rounds of its round medians.
Prints each arm's median and min-max over rounds, the median of its per-round ratios to the adaptive
pool, and the dispatch names the compile gave (the gather is the `_i1x` reduction). The three arms'
outputs are compared with torch's by `iree-run-module --expected_output`.

The tools are the tool's own environments (`nox -s matrix` or any `advise` installs them): the
turbine 3.9.0 exporter's Python, and the release's compiler and runtime; --turbine-python, --compiler
and --runtime name others.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENVS = Path.home() / ".cache" / "iree-matrix" / "envs" / "venv"
SHAPES = ((1, 16, 56, 56), (1, 240, 14, 14), (1, 1280, 7, 7))
ARMS = ("adaptive", "adaptive~fx+decompose", "mean")

# Runs in the turbine environment: exports each arm of each shape, writes NAME.mlir and NAME.npy
# (the input) and NAME.out.npy (torch's output) under argv[1].
EXPORT = r"""
import sys, types
from pathlib import Path
import numpy as np, torch
import torch.nn.functional as F
from iree.turbine import aot
sys.path.insert(0, ".")
import export_fx

out, shapes = Path(sys.argv[1]), [tuple(map(int, s.split("x"))) for s in sys.argv[2:]]

class Adaptive(torch.nn.Module):
    def forward(self, x):
        return F.adaptive_avg_pool2d(torch.relu(x), 1)

class Mean(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x).mean((2, 3), keepdim=True)

for shape in shapes:
    x = torch.rand(shape, generator=torch.Generator().manual_seed(0)) - 0.3
    tag = "x".join(map(str, shape))
    np.save(out / f"{tag}.npy", x.numpy())
    np.save(out / f"{tag}.out.npy", Adaptive()(x).numpy())
    (out / f"adaptive-{tag}.mlir").write_text(str(aot.export(Adaptive(), x).mlir_module))
    spec = types.SimpleNamespace(module=Adaptive().eval(), inputs=[x])
    (out / f"adaptive~fx+decompose-{tag}.mlir").write_text(str(export_fx.export(spec, {"fx", "decompose"})))
    (out / f"mean-{tag}.mlir").write_text(str(aot.export(Mean(), x).mlir_module))
"""


def tool(given: Path | None, env_glob: str, name: str) -> Path:
    """The given tool, else the one in the tool's cached environment (`env_glob`)."""
    if given is not None:
        return given
    found = sorted(p for p in ENVS.glob(f"{env_glob}/bin/{name}") if "+" not in p.parent.parent.name)
    if not found:
        sys.exit(
            f"pool_gather: no {ENVS}/{env_glob}/bin/{name}: run `nox -s matrix` (or any `iree-matrix "
            "advise`) once to install the tool's environments, or name one with --turbine-python, "
            "--compiler or --runtime"
        )
    return found[-1]


def run(argv: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        sys.exit(
            f"pool_gather: {Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()[-600:]}"
        )
    return done.stdout


def cpu_ms(benchmark: Path, module: Path, data: Path) -> float:
    """One round's figure: the median CPU time of 5 repetitions of 0.2 s, one thread."""
    argv = [
        str(benchmark),
        f"--module={module}",
        "--function=main",
        f"--input=@{data}",
        "--device=local-sync",
    ]
    argv += ["--benchmark_repetitions=5", "--benchmark_min_time=0.2", "--benchmark_format=json"]
    rows = [r for r in json.loads(run(argv))["benchmarks"] if r.get("run_type") == "iteration"]
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}  # Google Benchmark's time_unit, to ms
    return statistics.median(r["cpu_time"] * scale[r.get("time_unit", "ns")] for r in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--release", default="3.13.0", help="the IREE release (its cached environments)")
    parser.add_argument("--turbine-python", type=Path, help="a Python with torch, numpy and iree-turbine")
    parser.add_argument("--compiler", type=Path, help="an iree-compile")
    parser.add_argument("--runtime", type=Path, help="an iree-benchmark-module (iree-run-module beside it)")
    args = parser.parse_args()
    python = tool(args.turbine_python, "py3.11-torch*-turbine3.9.0-*", "python")
    compiler = tool(args.compiler, f"py3.11-iree-compiler{args.release}-*", "iree-compile")
    benchmark = tool(args.runtime, f"py3.11-iree-runtime{args.release}-*", "iree-benchmark-module")
    flags = [
        "--iree-hal-target-backends=llvm-cpu",
        "--iree-llvmcpu-target-cpu=host",
        "--iree-opt-data-tiling=true",
    ]
    with tempfile.TemporaryDirectory(prefix="pool-gather-") as tmp:
        work, tags = Path(tmp), ["x".join(map(str, s)) for s in SHAPES]
        run([str(python), "-c", EXPORT, tmp, *tags], cwd=REPO / "scripts")  # export_fx: the recipe's own
        modules: dict[tuple[str, str], Path] = {}
        for tag in tags:
            for arm in ARMS:
                vmfb = work / f"{arm}-{tag}.vmfb"
                run([str(compiler), str(work / f"{arm}-{tag}.mlir"), *flags, "-o", str(vmfb)])
                modules[arm, tag] = vmfb
                check = [
                    str(benchmark.with_name("iree-run-module")),
                    f"--module={vmfb}",
                    "--device=local-sync",
                ]
                run(
                    [
                        *check,
                        f"--input=@{work / f'{tag}.npy'}",
                        f"--expected_output=@{work / f'{tag}.out.npy'}",
                    ]
                )
        names = {key: _dispatches(compiler, work / f"{key[0]}-{key[1]}.mlir", flags) for key in modules}
        times: dict[tuple[str, str], list[float]] = {key: [] for key in modules}
        for r in range(args.rounds):
            order = list(modules)
            order = order[r % len(order) :] + order[: r % len(order)]  # each module first in turn
            for key in order:
                times[key].append(cpu_ms(benchmark, modules[key], work / f"{key[1]}.npy"))
    print(f"IREE {args.release} ({compiler}); {args.rounds} rounds, one thread's CPU time per call")
    for tag in tags:
        print(f"\n[{tag.replace('x', ', ')}]  outputs match torch's (iree-run-module --expected_output)")
        base = times["adaptive", tag]
        for arm in ARMS:
            got = times[arm, tag]
            ratio = statistics.median(a / b for a, b in zip(got, base))
            print(
                f"  {arm:<22} {statistics.median(got):8.4f} ms ({min(got):.4f}–{max(got):.4f})"
                f"  {ratio:5.2f}x the adaptive pool's  dispatches: {', '.join(names[arm, tag])}"
            )
    return 0


def _dispatches(compiler: Path, mlir: Path, flags: list[str]) -> list[str]:
    """The executables' export names the compile gives (the `_i1x` reduction is the pool's gather)."""
    text = run([str(compiler), str(mlir), *flags, "--compile-to=executable-sources"])
    return sorted(set(re.findall(r"hal\.executable\.export public @([\w$]+)", text)))


if __name__ == "__main__":
    raise SystemExit(main())
