"""Lab procedure: the published exporter-environment run (`matrix/environments.toml`) in phases that
fit a disk shared with other work, and the figures docs/environments.md states (wall time, bytes of
wheels downloaded, peak disk use of the cache).

A CUDA torch is ~5 GB installed and an IREE compiler ~0.5 GB, so the whole grid at once (three CUDA
torch releases, 18 compilers, their wheels) needs ~40 GB. The phases keep it near 20 GB:

1. per torch release: install its exporter environments, export every function, then delete the
   wheels only that release used (the venvs stay: the plan re-checks them);
2. per two compiler releases: install them and their runtimes, compile (text and bytecode) and run
   every export, then delete those compiler and runtime venvs and their wheels.

Every phase is one `iree-matrix matrix --select …` into the same results directory; the records
are the same as one run's (each job is keyed by its inputs, never by the phase).

    python benchmarks/environments.py --cache /work/cache/env23 --results-dir runs/environments
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from packaging.version import Version

from iree_matrix import stages
from iree_matrix.matrix import releases, spec_file

ROOT = Path(__file__).resolve().parents[1]
MATRIX = ROOT / "matrix" / "environments.toml"
MODELS = ("tiny_cnn", "mobilenet_v2")
BIG = 50 << 20  # wheels worth deleting between phases


def matrix(args: argparse.Namespace, selects: list[str], jobs: list[str]) -> int:
    """One phase: the patterns that match a job of the plan (an unmatched --select is an error)."""
    selects = [p for p in selects if any(fnmatch.fnmatchcase(j, p) for j in jobs)]
    if not selects:
        return 0
    argv = [sys.executable, "-m", "iree_matrix", "matrix", "--backend", "venv", "--matrix", str(MATRIX),
            "--results-dir", str(args.results_dir), "--cache", str(args.cache), "--retry-failed",
            "--jobs", str(jobs_for(selects, args))]  # fmt: skip
    for pattern in selects:
        argv += ["--select", pattern]
    print("$", " ".join(argv), flush=True)
    return subprocess.run(argv).returncode


def jobs_for(selects: list[str], args: argparse.Namespace) -> int:
    """Exporter installs one at a time: two CUDA torch venvs unpacking at once is 10 GB of peak."""
    return 1 if all(p.startswith("export:") for p in selects) else args.jobs


class Ledger:
    """Every wheel the run had in its wheelhouse (name -> bytes), and the cache's peak size."""

    def __init__(self, cache: Path, out: Path) -> None:
        self.files = cache / "wheelhouse" / "files"
        self.locks = cache / "wheelhouse" / "locks"
        self.envs = cache / "envs" / "venv"
        self.out = out
        self.seen: dict[str, int] = json.loads(out.read_text())["wheels"] if out.is_file() else {}
        previous = json.loads(out.read_text()) if out.is_file() else {}
        self.peak = previous.get("peak_cache_bytes", 0)
        self.phases: list = previous.get("phases", [])

    def note(self) -> None:
        for wheel in self.files.glob("*.whl"):
            self.seen[wheel.name] = wheel.stat().st_size
        used = subprocess.run(["du", "-sb", str(self.files.parent.parent)], capture_output=True, text=True)
        self.peak = max(self.peak, int(used.stdout.split()[0]) if used.returncode == 0 else 0)

    def drop_wheels(self, used_by: str) -> None:
        """Delete the big wheels only the locks whose requirements mention `used_by` have."""
        self.note()
        mine: set[str] = set()
        theirs: set[str] = set()
        for path in self.locks.glob("*.json"):
            lock = json.loads(path.read_text())
            (mine if used_by in " ".join(lock["requirements"]) else theirs).update(
                p["filename"] for p in lock["packages"]
            )
        for name in mine - theirs:
            wheel = self.files / name
            if wheel.is_file() and wheel.stat().st_size > BIG:
                wheel.unlink()

    def drop_envs(self, prefix: str) -> None:
        self.note()
        for env in self.envs.glob(f"{prefix}-*"):
            if env.is_dir():
                shutil.rmtree(env)

    def save(self, **figures) -> None:
        self.note()
        document = {"wheels": self.seen, "download_bytes": sum(self.seen.values()),
                    "peak_cache_bytes": self.peak, **figures}  # fmt: skip
        self.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--results-dir", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=2, help="compiler releases per phase")
    parser.add_argument("--skip-exports", action="store_true", help="phase 1 is done")
    args = parser.parse_args()
    args.results_dir.mkdir(parents=True, exist_ok=True)
    resolver = releases.Resolver(args.results_dir / "releases.json")
    the_plan = stages.plan(spec_file.load(MATRIX, resolver=resolver))
    jobs = [j.id for j in the_plan.jobs]
    ledger = Ledger(args.cache, args.results_dir / "environments-run.json")
    start = time.monotonic()
    phases = ledger.phases  # a resumed run (--skip-exports) keeps the phases it already ran

    torches = sorted({j.labels["torch"] for j in the_plan.jobs if j.stage == "export"}, key=Version)
    for torch in [] if args.skip_exports else torches:
        t0 = time.monotonic()
        code = matrix(args, [f"export:{m}/*-torch{torch}-*" for m in MODELS], jobs)
        phases.append(
            {"phase": f"exports torch {torch}", "seconds": round(time.monotonic() - t0), "exit": code}
        )
        if torch != "2.13.0":  # the CPU build lies on disk already
            ledger.drop_wheels(f"torch=={torch}")
        ledger.save(phases=phases)

    compilers = sorted({j.labels["compiler"] for j in the_plan.jobs if j.stage == "compile"}, key=Version)
    # Newest and oldest alternately: a run cut short still spans the release history.
    compilers = [c for pair in zip(compilers[::-1], compilers) for c in pair][: len(compilers)]
    for i in range(0, len(compilers), args.batch):
        batch = compilers[i : i + args.batch]
        t0 = time.monotonic()
        selects = [f"{stage}:{m}/*/iree{c}/*" for c in batch for m in MODELS for stage in ("compile", "run")]
        code = matrix(args, selects, jobs)
        phases.append({"phase": f"compilers {', '.join(batch)}", "seconds": round(time.monotonic() - t0),
                       "exit": code})  # fmt: skip
        for c in batch:
            ledger.drop_envs(f"py3.11-iree-compiler{c}")
            ledger.drop_envs(f"py3.11-iree-runtime{c}")
            ledger.drop_wheels(f"iree-base-compiler=={c}")
            ledger.drop_wheels(f"iree-base-runtime=={c}")
        ledger.save(phases=phases)
    ledger.save(phases=phases, seconds=round(time.monotonic() - start))
    print(
        json.dumps({k: v for k, v in json.loads(ledger.out.read_text()).items() if k != "wheels"}, indent=1)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
