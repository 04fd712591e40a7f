"""A user's first run, timed: a fresh clone of this checkout, an empty cache, `nox -s matrix` (the
README's command), as a new user runs it. Prints the wall time, the load at the start and the end
(and its mean over the run, sampled every 10 s), the first estimate the tool printed and how far the
real time was from it, and this machine's CPU; keeps the run's records and report.

    python benchmarks/first_run.py [--keep DIR] [--background-load N] [-- MATRIX OPTIONS...]

`--background-load N` runs N busy processes beside it (started 3 minutes before, so that the load
average the tool's first estimate reads has settled; stopped when the run ends): a shared machine's
load, as the estimate must hold at (issue 95: within 25 % at load 7).

Needs network access to PyPI the first time (nox's venv, the wheelhouse), as a user's first run does.
The cache is a temporary folder (`$IREE_MATRIX_CACHE`), so the machine's own cache is untouched.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ESTIMATE = re.compile(r"this run: .*?about (?:(\d+):)?(\d+):(\d+) on this machine now")


def seconds(match: re.Match[str]) -> int:
    hours, minutes, secs = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + secs


def clock(total: float) -> str:
    m, s = divmod(int(round(total)), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


def cpu_name() -> str:
    with open("/proc/cpuinfo") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line and line.strip())
    named = {k.strip(): v.strip() for k, v in fields.items()}
    family, model = named.get("cpu family", "?"), named.get("model", "?")
    return f"{named.get('model name', '?')}, family {family} model {model}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="copy the run's results folder here")
    parser.add_argument(
        "--background-load", type=int, default=0, metavar="N", help="N busy processes beside it"
    )
    parser.add_argument(
        "--settle", type=float, default=180.0, help="seconds the load runs before the run starts"
    )
    parser.add_argument("matrix_args", nargs="*", help="after --: options for `iree-matrix matrix`")
    args = parser.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.background_load)]
    try:
        if busy:
            print(f"{len(busy)} busy processes; the run starts in {args.settle:.0f} s", flush=True)
            time.sleep(args.settle)
        return _timed(args)
    finally:
        for p in busy:
            p.kill()
            p.wait()


def _timed(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="first-run-") as tmp:
        clone, cache = Path(tmp) / "clone", Path(tmp) / "cache"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        env = {**os.environ, "IREE_MATRIX_CACHE": str(cache)}
        loads: list[float] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(10):
                loads.append(os.getloadavg()[0])

        threading.Thread(target=sample, daemon=True).start()
        start_load, start = os.getloadavg()[0], time.monotonic()
        argv = ["nox", "-s", "matrix", *(["--", *args.matrix_args] if args.matrix_args else [])]
        proc = subprocess.Popen(
            argv, cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        first = None
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            if first is None and (found := ESTIMATE.search(line)):
                first = seconds(found), time.monotonic() - start
        rc = proc.wait()
        wall = time.monotonic() - start
        done.set()
        end_load = os.getloadavg()[0]
        runs = clone / "runs"
        if args.keep is not None and runs.is_dir():
            shutil.copytree(runs, args.keep, dirs_exist_ok=True)
    mean = sum(loads) / len(loads) if loads else end_load
    print(f"\nfirst run on {cpu_name()}, {os.cpu_count()} CPUs: rc {rc}, wall {clock(wall)}")
    print(f"  load: {start_load:.1f} at the start, {end_load:.1f} at the end, {mean:.1f} mean (every 10 s)")
    if first is not None:
        estimate, at = first
        print(
            f"  first estimate {clock(estimate)} (said {at:.0f} s in): "
            f"the real time is {wall / estimate:.2f}× it"
        )
    else:
        print("  no estimate was printed")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
