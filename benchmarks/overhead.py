"""What iree-matrix itself costs: a fully cached re-run, and each stage against its bare commands.

    python benchmarks/overhead.py rerun  [--matrix matrix/default.toml] [--repeat 3] [--backend auto]
    python benchmarks/overhead.py stages [--matrix matrix/smoke.toml] [--backend venv] [--repeat 3]

rerun: runs the matrix once to complete it (untimed), then --repeat more times, and prints the
wall time of each re-run (every job reused: planning, keys, store look-ups, the report).

stages: runs the matrix in a scratch store (wheels, environments and images are shared with the
default cache, so only stages execute), then replays each executed export/compile/run job's
commands by hand from its log, in a fresh directory, and prints the stage's wall time beside the
bare commands' and the difference: what keys, environment checks, numeric checks, the store and
the record cost per stage. The compiler's `--help-hidden` listing (once per environment) counts
as overhead, since a user running iree-compile by hand would not ask for it.

Not run by the tests: it takes minutes and loads the machine.
"""

from __future__ import annotations

import argparse
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from iree_matrix.core.model.results import ResultsLog, Status
from iree_matrix.envs.cache_usage import default_cache

_STAGING = re.compile(r"[^\s=@]*/store/staging/[0-9a-f]{32}")  # also inside --flag=PATH
_SHARED = ("wheelhouse", "envs", "images")


def iree_matrix(*args: str) -> tuple[float, str]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "iree_matrix", *args], capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"iree-matrix {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def rerun(args: argparse.Namespace) -> None:
    common = ["matrix", "--matrix", args.matrix, "--backend", args.backend]
    with tempfile.TemporaryDirectory() as results:
        common += ["--results-dir", results]
        seconds, out = iree_matrix(*common)
        print(f"completing run: {seconds:.1f} s; {out.strip().splitlines()[-2]}")
        times = []
        for _ in range(args.repeat):
            seconds, out = iree_matrix(*common)
            summary = next(ln for ln in out.splitlines() if " jobs in " in ln)
            if not re.search(r"\(0 executed", summary):
                print(f"warning: not a fully cached re-run: {summary.strip()}")
            times.append(seconds)
        print(f"fully cached re-run of {args.matrix}: median {statistics.median(times):.1f} s "
              f"(runs: {', '.join(f'{t:.1f}' for t in times)}); {summary.strip()}")  # fmt: skip


def commands(log: str) -> list[list[str]]:
    """The commands a stage ran, as its log echoed them (`$ ...`), minus the flag listing."""
    found = []
    for line in log.splitlines():
        if line.startswith("$ "):
            argv = shlex.split(line[2:])
            if "--help-hidden" not in argv:
                found.append(argv)
    return found


def replay(argvs: list[list[str]], scratch: Path) -> float:
    """Run the commands again by hand, with the stage's staging directory replaced by `scratch`."""
    scratch.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    for argv in argvs:
        argv = [_STAGING.sub(str(scratch), a) for a in argv]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:  # the stage's commands all succeeded: so must the replay
            sys.exit(f"replay failed ({done.returncode}): {' '.join(argv)}\n{done.stderr[-2000:]}")
    return time.monotonic() - start


def stages(args: argparse.Namespace) -> None:
    shared = default_cache()
    with tempfile.TemporaryDirectory(prefix="overhead-") as tmp:
        cache, results = Path(tmp) / "cache", Path(tmp) / "results"
        cache.mkdir()
        for name in _SHARED:
            (cache / name).symlink_to(shared / name)
        seconds, out = iree_matrix("matrix", "--matrix", args.matrix, "--backend", args.backend,
                                   "--cache", str(cache), "--results-dir", str(results))  # fmt: skip
        print(f"{args.matrix} in a scratch store: {seconds:.1f} s wall")
        rows = []
        for record in ResultsLog(results / "results.jsonl").latest().values():
            if record.stage not in ("export", "compile", "run") or record.status is not Status.OK:
                continue
            if record.seconds is None:
                continue  # reused: nothing executed
            entry = cache / "store" / record.stage / record.key
            argvs = commands((entry / "log.txt").read_text(errors="replace"))
            bare = statistics.median(
                replay(argvs, Path(tmp) / "replay" / f"{record.key[:12]}-{i}") for i in range(args.repeat)
            )
            rows.append((record.stage, record.cell, record.seconds, bare, len(argvs)))
        print(f"\n{'stage':8} {'stage s':>8} {'bare s':>8} {'overhead':>9}  commands  cell")
        for stage, cell, stage_s, bare, n in sorted(rows):
            print(f"{stage:8} {stage_s:8.2f} {bare:8.2f} {stage_s - bare:+9.2f}  {n:8}  {cell}")
        for stage in ("export", "compile", "run"):
            diffs = [r[2] - r[3] for r in rows if r[0] == stage]
            if diffs:
                print(f"{stage}: median overhead {statistics.median(diffs):+.2f} s over {len(diffs)} jobs")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    verbs = parser.add_subparsers(dest="what", required=True)
    r = verbs.add_parser("rerun")
    r.add_argument("--matrix", default="matrix/default.toml")
    r.add_argument("--repeat", type=int, default=3)
    r.add_argument("--backend", default="auto")
    s = verbs.add_parser("stages")
    s.add_argument("--matrix", default="matrix/smoke.toml")
    s.add_argument("--backend", default="venv")
    s.add_argument("--repeat", type=int, default=3, help="replays per stage (their median is compared)")
    args = parser.parse_args()
    (rerun if args.what == "rerun" else stages)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
