"""Does the tool flag a baseline taken under load instead of publishing it as a figure?

Re-measures a matrix's export stages (torch eager) twice with `--retime`: once as the machine is,
once with a deliberate, bounded background load (one busy-loop process per core, stopped by a
deadline and on exit). Prints each eager figure with its spread, `other_load` and whether the report
marks it noisy, and the rendered table line, for both sittings.

    python benchmarks/loaded_baseline.py --matrix M.toml --backend docker --cache C --results-dir R
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

from iree_matrix.findings import runs_view


def _busy(deadline: float) -> None:
    while time.monotonic() < deadline:
        pass


def sitting(args: argparse.Namespace, loaded: bool) -> None:
    workers = []
    if loaded:
        deadline = time.monotonic() + args.max_seconds
        workers = [
            multiprocessing.Process(target=_busy, args=(deadline,), daemon=True)
            for _ in range(os.cpu_count() or 1)
        ]
        for w in workers:
            w.start()
    try:
        argv = [sys.executable, "-m", "iree_matrix", "matrix", "--matrix", args.matrix,
                "--backend", args.backend, "--cache", args.cache, "--results-dir", args.results_dir,
                "--retime", args.retime]  # fmt: skip
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=args.max_seconds)
    finally:
        for w in workers:
            w.terminate()
            w.join()
    latest: dict[str, dict] = {}
    for line in (Path(args.results_dir) / "results.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["stage"] == "export":
            latest[record["job"]] = record
    label = "with a busy loop on every core" if loaded else "as the machine is"
    print(f"\n{args.backend}, {label}:")
    for job, record in sorted(latest.items()):
        eager, load = record["metrics"]["eager_ms"], record["metrics"].get("other_load")
        figure = runs_view.Timing(eager["median"], eager["min"], eager["max"], load)
        verdict = f"NOISY ({figure.why_noisy()})" if figure.noisy else "clean"
        print(f"  {job}: median {eager['median']:.2f} ms, min {eager['min']:.2f}, max {eager['max']:.2f}, "
              f"other_load {load}: {verdict}")  # fmt: skip
    table = (Path(args.results_dir) / "COMPATIBILITY.md").read_text().splitlines()
    for line in table:
        if line.startswith("- torch eager:"):
            print("  report:", line[:200])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matrix", required=True)
    parser.add_argument("--backend", default="venv", choices=["venv", "docker"])
    parser.add_argument("--cache", required=True)
    parser.add_argument("--results-dir", required=True)
    parser.add_argument("--retime", default="export:*")
    parser.add_argument(
        "--max-seconds", type=float, default=600, help="the load stops after this at the latest"
    )
    args = parser.parse_args()
    sitting(args, loaded=False)
    sitting(args, loaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
