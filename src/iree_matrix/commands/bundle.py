"""`iree-matrix bundle --to DIR`: compile here, pack what another machine needs to answer there."""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.commands.options import add_matrix_options
from iree_matrix.commands.shared_options import REPETITIONS, cache_dir
from iree_matrix.commands.workflow import Loaded, RunOptions, load_plan, run_plan
from iree_matrix.core import console
from iree_matrix.core.errors import UserError
from iree_matrix.core.results import ResultsLog
from iree_matrix.core.store import Store
from iree_matrix.execution.bundle import Where
from iree_matrix.matrix import spec

NAME = "bundle"
HELP = "compile a matrix's cells here; pack them, a runtime wheel and a numpy-only run.py for another machine"
logger = console.logger(__name__)
MIB = 1 << 20
NEWEST = "3.13.0"  # without a published answer: the newest release


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_matrix_options(parser, "bundle.toml")
    parser.add_argument("--to", type=Path, help="the bundle's folder (its archive: DIR.tar.gz beside it)")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="X.Y",
        help="carry the runtime wheel for this Python of the target (repeatable; default: this one's)",
    )
    parser.add_argument(
        "--machine",
        default=None,
        choices=("x86_64", "aarch64"),
        help="the target's CPU, for GPU cells (default: this machine's; a CPU cell's is its arch's)",
    )
    parser.add_argument(
        "--max-size", type=float, default=None, metavar="MIB", help="refuse a bundle larger than this"
    )
    parser.add_argument(
        "--advise",
        metavar="MODEL",
        help="instead of a matrix file: advise's arms for MODEL (default, the published picks, the naive "
        "build, ONNX Runtime), compiled for --cpu, and a paired sitting there that makes that CPU's answer",
    )
    parser.add_argument(
        "--cpu", metavar="LLVM_CPU", help="with --advise: the target's CPU (znver4, emeraldrapids, …)"
    )
    parser.add_argument("--release", help="with --advise: the IREE release (default: the published answer's)")
    REPETITIONS.add(
        parser, help="with --advise: the sitting's calls per arm and round (default: %(default)s)"
    )


def main(args: argparse.Namespace) -> int:
    from iree_matrix.execution import bundle

    where = _where(args)
    if not args.list and args.to is None:
        raise UserError("bundle: --to DIR is required (where the bundle's folder goes)")
    cpu = _cpu(args)
    if args.advise:
        release, picks = _published(args.advise, args.release)
        logger.info(f"bundle --advise {args.advise}: IREE {release}, for {cpu}: default, the naive build, "
                    f"{len(picks)} published pick(s){': ' + ', '.join(picks) if picks else ''}")  # fmt: skip
        args.model = [args.advise]  # load_plan reads the models from the command line, as advise's
        loaded = load_plan(
            args, "advise.toml", adjust=lambda m: _sitting_matrix(m, args.advise, release, picks, cpu)
        )
    else:
        loaded = load_plan(args, "bundle.toml")
    building = _build_plan(loaded)
    if args.list:
        print("\n".join(f"  {job.id}" for job in building.plan.jobs if job.stage == "compile"))
        return 0
    cache = cache_dir(args)
    results = ResultsLog(loaded.results_dir / "results.jsonl")
    code, summary = run_plan(building, RunOptions.from_args(args), cache, results, loaded.results_dir)
    if summary.interrupted:
        return code
    found, left = bundle.cells(loaded.plan, results.latest(), Store(cache / "store"), where)
    for line in left:
        print(f"not in the bundle: {line}")
    if not found:
        raise UserError("bundle: no compiled cell to carry (each is listed above with why)")
    wheels = bundle.wheels(found, where, cache)
    files = bundle.plan_files(found, wheels)
    sittings: list = []
    if args.advise:
        sittings, peer_files = bundle.sittings(
            loaded.plan, results.latest(), Store(cache / "store"), found, cpu
        )
        files.update(peer_files)
    size = bundle.size_of(files)
    print(f"bundle: {len(found)} cells, {len(wheels)} runtime wheel(s), {size / MIB:.1f} MiB -> {args.to}")
    if args.max_size is not None and size > args.max_size * MIB:
        raise UserError(f"bundle: {size / MIB:.1f} MiB is over --max-size {args.max_size:g} MiB; fewer cells")
    document = bundle.manifest(args.to.name, found, wheels, files, sittings, REPETITIONS.of(args) or 3)
    packed = bundle.write(args.to, document, files, cache)
    print(
        f"wrote {packed.directory} ({packed.bytes / MIB:.1f} MiB) and {packed.archive} "
        f"({packed.archive_bytes / MIB:.1f} MiB); bundle {packed.digest[:12]}.\n"
        f"There: python3 run.py (Python >= 3.9 and numpy). Back here: iree-matrix merge RESULTS --to DIR"
    )
    return 0


def _where(args: argparse.Namespace) -> Where:
    here = Where.here()
    pythons = tuple(dict.fromkeys(p.strip() for p in args.python if p.strip())) or here.pythons
    for python in pythons:
        if not re.fullmatch(r"3\.(9|1[0-9])", python):
            raise UserError(f"bundle --python {python!r}: a CPython 3.9 or newer, as X.Y (e.g. 3.12)")
    return Where(pythons, args.machine or here.machine)


def _build_plan(loaded: Loaded) -> Loaded:
    """The plan's exports, compiles and peers (what travels, ONNX Runtime's model among it), not
    its runs: those happen there."""
    from iree_matrix.matrix import plan

    compiles = [job.id for job in loaded.plan.jobs if job.stage == "compile"]
    if not compiles:
        raise UserError(f"bundle: {loaded.path} (with --select) plans no compile; nothing to carry")
    peers = [job.id for job in loaded.plan.jobs if job.stage == "peer"]
    return dataclasses.replace(loaded, plan=plan.select(loaded.plan, [*compiles, *peers]))


def _cpu(args: argparse.Namespace) -> str:
    cpu = (args.cpu or "").strip()
    if args.advise and not cpu:
        raise UserError(
            "bundle --advise MODEL: name the target's CPU, --cpu LLVM_CPU (znver4, emeraldrapids, x86-64-v3)"
        )
    if cpu and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", cpu):
        raise UserError(f"bundle --cpu {cpu!r}: not an LLVM CPU name (znver4, emeraldrapids, x86-64-v3, …)")
    if cpu and not args.advise:
        raise UserError(
            "bundle --cpu: for --advise; a matrix file names its CPUs in its profiles (target_cpu)"
        )
    return cpu


def _published(model: str, release: Optional[str]) -> tuple[str, list[str]]:
    """The release to advise on (the published answers' for MODEL, else the newest) and its picks."""
    from collections import Counter

    from iree_matrix.answers import advice
    from iree_matrix.core import shipped

    found = [a for a in advice.published(shipped.results_dir() / advice.DIRNAME) if a.model == model]
    chosen = release or (Counter(a.release for a in found).most_common(1)[0][0] if found else NEWEST)
    picks = sorted({a.config for a in found if a.release == chosen} - {"default", "generic"})
    return chosen, picks


def _sitting_matrix(
    matrix: spec.MatrixSpec, model: str, release: str, picks: Sequence[str], cpu: str
) -> spec.MatrixSpec:
    """advise's matrix for a sitting on another CPU: `default` and each pick compiled for the named
    LLVM CPU instead of `host` (this machine is not the target), and the naive build (no CPU), all
    by one release; the peers as the matrix file names them (ONNX Runtime's model travels)."""
    from iree_matrix.answers import search
    from iree_matrix.execution.bundle import FLEET_PREFIX
    from iree_matrix.iree.flags import COMBINE, Profile

    fleet = f"{FLEET_PREFIX}{cpu}"
    named = Profile(fleet, target_cpu=cpu, description=f"compiled for the LLVM CPU {cpu}")
    matrix = spec.with_profiles(matrix, ["generic"])
    matrix = dataclasses.replace(matrix, profiles={**matrix.profiles, fleet: named})
    cells = [dataclasses.replace(c, compiler=release, runtime=release) for c in matrix.cells]
    matrix = dataclasses.replace(matrix, cells=tuple(dict.fromkeys(cells)))
    template = matrix.cells[0]
    extra = []
    for name in [fleet, *(f"{p}{COMBINE}{fleet}" for p in picks if "avx2" not in p.split(COMBINE))]:
        config = search.parse(name)
        extra.append(dataclasses.replace(template, model=config.model(model), profile=config.profile))
    return spec.with_cells(matrix, extra)
