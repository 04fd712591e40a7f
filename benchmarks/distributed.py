"""Dask workers against one: the smoke matrix (or another) from an empty store, interleaved rounds.

    python benchmarks/distributed.py [--matrix matrix/smoke.toml] [--backend venv] [--rounds 2]
                                     [--select GLOB ...] [--no-serial]

Each round runs, in turn, `--cluster local:1`, `--cluster local:2` and the serial executor
(`--jobs 1`), each in a scratch cache whose wheelhouse, environments and images are the default
cache's (so every export, compile and run executes, and no install downloads or builds anything),
at the same scratch path so the modules are the same bytes. Prints each run's wall time, the
medians, and local:1 / local:2.

Not run by the tests: it takes minutes and loads the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from iree_matrix.envs.cache_usage import default_cache

_SHARED = ("wheelhouse", "envs", "images")
VARIANTS = {
    "local:1": ["--cluster", "local:1"],
    "local:2": ["--cluster", "local:2"],
    "serial": ["--jobs", "1"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matrix", default="matrix/smoke.toml")
    parser.add_argument("--backend", default="venv")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--select", action="append", default=[], help="passed on (repeatable)")
    parser.add_argument("--no-serial", action="store_true", help="only the two cluster sizes")
    args = parser.parse_args()
    variants = {k: v for k, v in VARIANTS.items() if not (args.no_serial and k == "serial")}
    scratch = Path(tempfile.mkdtemp(prefix="iree-matrix-dask-"))
    cache = scratch / "cache"
    times: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for round_ in range(args.rounds):
            for name, extra in variants.items():
                shutil.rmtree(cache, ignore_errors=True)
                cache.mkdir()
                for shared in _SHARED:
                    (cache / shared).symlink_to(default_cache() / shared)
                argv = [sys.executable, "-m", "iree_matrix", "matrix", "--matrix", args.matrix,
                        "--backend", args.backend, "--cache", str(cache),
                        "--results-dir", str(scratch / "results"), *extra]  # fmt: skip
                argv += [arg for glob in args.select for arg in ("--select", glob)]
                shutil.rmtree(scratch / "results", ignore_errors=True)
                start = time.monotonic()
                done = subprocess.run(argv, capture_output=True, text=True)
                seconds = time.monotonic() - start
                if done.returncode != 0:
                    print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
                    return 1
                last = [ln for ln in done.stdout.splitlines() if " jobs in " in ln]
                load = os.getloadavg()[0]
                summary = last[-1] if last else ""
                print(f"round {round_ + 1} {name:<8} {seconds:6.1f} s  load {load:.2f}  {summary}")
                times[name].append(seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print("medians: " + ", ".join(f"{name} {value:.1f} s" for name, value in medians.items()))
    print(f"local:1 / local:2 = {medians['local:1'] / medians['local:2']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
