"""What `advise` will time (iree-matrix advise MODEL): the release and the picks, from the published
answers and the flag searches' results (a user's model: the picks most reference functions took),
the fleet's CPUs, another release's pick as the release's evidence; and advise's matrix (matrix/
advise.toml rewritten to build them all)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.answers import search
from iree_matrix.core.errors import SpecError, UserError
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import log_path
from iree_matrix.iree.flags import Profile
from iree_matrix.matrix import spec
from iree_matrix.matrix.kernels import Kernel

NEWEST = "3.13.0"  # the release asked when nothing is published for the model
MAX_USER_PICKS = 3  # a user's model tries the picks published for the most reference functions
FLEET_PREFIX = "cpu-"


@dataclasses.dataclass(frozen=True)
class Settings:
    """advise's own settings (what it builds is `PlanSettings`): the sitting's rounds and calls, the
    proof, and what to advise on instead of the published answer."""

    rounds: int = 8  # paired rounds
    repetitions: int = 3  # timed calls per arm and round
    no_proof: bool = False  # no proof of the picks: a quick sitting, an answer unproved
    no_gap: bool = False  # no profile of an answer that trails the best peer: its gap not explained
    proof_steps: int = 3  # at most this many steps of each proof's local search
    release: Optional[str] = None  # the IREE release (default: the published answer's)
    picks: Optional[str] = None  # comma-separated configurations instead of the published picks
    fleet: tuple[str, ...] = ()  # LLVM CPUs the answer is also compiled for


@dataclasses.dataclass(frozen=True)
class SittingPlan:
    """What the sitting will time: the release, and per configuration where it comes from."""

    release: str
    picks: Mapping[str, str]  # configuration -> its source
    fleet: tuple[str, ...]
    # Another release's published pick, timed in the same sitting: the evidence for the release
    # (release, configuration, source).
    rivals: tuple[tuple[str, str, str], ...] = ()
    # Whether the matrix's kernels (`--kernel`) are swapped into `default` and each pick: one more
    # arm each (`kernel_names`); a proof's neighbours and a profiled run are built without them.
    kernels: bool = True


# --------------------------------------------------------------------------- which picks


@dataclasses.dataclass(frozen=True)
class SearchPick:
    unit: str  # "mobilenet_v2", "whisper_tiny.encoder"
    compiler: str
    config: str
    cpu_ms: Optional[float]  # the result's one-thread CPU ms in the search's last sitting
    source: str


def search_picks(root: Path) -> list[SearchPick]:
    """The flag searches' results in the published sets whose timings name their CPU identity (a
    set whose records do not is left out: its picks were made on a CPU no one can name)."""
    from iree_matrix.answers import identities, results_folder

    found = []
    for path in sorted(root.glob("*/search.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        log = log_path(path.parent)
        records = results_folder.read(log) if log.is_file() else []
        identity = identities.main_identity(records) or ""
        if not identity or identity.startswith("legacy:"):
            continue
        runs = {r.job: r for r in records if r.stage == "run"}
        for d in data.get("descents") or ():
            unit, compiler, result = str(d.get("unit")), str(d.get("compiler")), str(d.get("result"))
            cpu = None
            for job, r in runs.items():
                if (
                    f"/iree{compiler}/" in job
                    and job.endswith(f"/{result}")
                    and job.startswith(f"run:{unit}/")
                ):
                    timed = r.metric.of(RunMetrics).cpu_time
                    cpu = timed.median if timed is not None else cpu
            label = identities.label(records, identity)
            found.append(
                SearchPick(unit, compiler, result, cpu, f"flag search on {label} ({path.parent.name})")
            )
    return found


def choose(
    settings: Settings, model: str, published: Sequence[Any], searched: Sequence[SearchPick]
) -> SittingPlan:
    from iree_matrix.iree import versions

    if settings.release is not None and not versions.is_valid(settings.release):
        raise UserError(
            f"--release {settings.release!r}: not an IREE release (e.g. 3.13.0, 3.9.0, 20240410.859)"
        )
    mine = [a for a in published if a.model == model]
    units = {s.unit for s in searched if s.unit == model or s.unit.startswith(model + ".")}
    release = settings.release or _release(mine, [s for s in searched if s.unit in units])
    picks: dict[str, str] = {}
    if settings.picks:
        picks = {p.strip(): "--picks" for p in settings.picks.split(",") if p.strip()}
    else:
        for a in mine:
            if a.release == release:
                for config in (a.config, *a.picks_tried):
                    picks.setdefault(config, f"published answer on {a.identity.short}")
        for s in searched:
            if s.unit in units and s.compiler == release:
                picks.setdefault(s.config, s.source)
        if not units and not mine:  # a user's model: the picks most reference functions took
            picks.update(_user_picks(release, published, searched))
    picks.pop("default", None)
    picks.pop("generic", None)
    fleet = tuple(dict.fromkeys(c.strip() for c in settings.fleet if c.strip()))
    for cpu in fleet:
        if not all(ch.isalnum() or ch in "-_." for ch in cpu):
            raise UserError(f"--fleet {cpu!r}: not an LLVM CPU name (x86-64-v3, x86-64-v4, znver4, …)")
    rivals: dict[tuple[str, str], str] = {}  # (release, configuration) -> its source
    if not settings.picks:
        for s in searched:
            if s.unit in units and s.compiler != release and s.config not in ("default", "generic"):
                rivals.setdefault((s.compiler, s.config), s.source)
    return SittingPlan(release, picks, fleet, tuple((r, c, src) for (r, c), src in sorted(rivals.items())))


def _user_picks(release: str, published: Sequence[Any], searched: Sequence[SearchPick]) -> dict[str, str]:
    """The picks a user's model is timed with: the configurations most reference functions took on
    `release`, their published answers' first (each won a paired sitting against `default`), then
    the flag searches' results (an installed iree-matrix ships the answers; a checkout the searches
    too). At most MAX_USER_PICKS; a reference model's export variant (`@decomposed`) is its own
    file, which a user's model has not."""
    from collections import Counter

    answered = Counter(a.config for a in published if a.release == release and a.config != "default")
    found = Counter(s.config for s in searched if s.compiler == release)
    picks: dict[str, str] = {}
    for counted, source in (
        (answered, "a published answer of the reference models"),
        (found, "a flag-search pick of the reference models"),
    ):
        for config, n in counted.most_common():
            if len(picks) < MAX_USER_PICKS and not search.parse(config).variant:
                picks.setdefault(config, f"{source} ({n} function(s); none is published for this model)")
    return picks


def _release(mine: Sequence[Any], searched: Sequence[SearchPick]) -> str:
    """The published answer's release; else the release whose search results were fastest in the
    search's own last sitting (one identity's); else the newest."""
    if mine:
        return str(mine[0].release)
    by_release: dict[str, float] = {}
    for s in searched:
        if s.cpu_ms is None:
            continue
        by_release[s.compiler] = by_release.get(s.compiler, 0.0) + float(s.cpu_ms)
    return min(by_release, key=by_release.__getitem__) if by_release else NEWEST


# --------------------------------------------------------------------------- the matrix


def adjusted(matrix: spec.MatrixSpec, model: str, plan: SittingPlan) -> spec.MatrixSpec:
    """advise's matrix for `plan`: one release's cells under default and the naive build, the picks,
    the fleet's and the other release's builds added, and with `plan.kernels` each kernel meant for
    the model swapped into default and each pick (not into the naive build, a fleet's or the other
    release's)."""
    cpus = {
        f"{FLEET_PREFIX}{cpu}": Profile(
            f"{FLEET_PREFIX}{cpu}", target_cpu=cpu, description=f"compiled for the LLVM CPU {cpu}"
        )
        for cpu in plan.fleet
    }
    matrix = spec.with_profiles(matrix, ["default", "generic"])
    # The matrix file planned every cell with each kernel too: advise chooses its kernel cells below.
    matrix = dataclasses.replace(matrix, cells=tuple(c for c in matrix.cells if not c.kernel))
    # After with_profiles, which keeps only the profiles it chose: the fleet's CPUs join them.
    matrix = dataclasses.replace(matrix, profiles={**matrix.profiles, **cpus})
    cells = [dataclasses.replace(c, compiler=plan.release, runtime=plan.release) for c in matrix.cells]
    matrix = dataclasses.replace(matrix, cells=tuple(dict.fromkeys(cells)))
    template = matrix.cells[0]
    extra = []
    for name in [*plan.picks, *(name for name, _ in fleet_names(plan))]:
        config = search.parse(name)
        extra.append(dataclasses.replace(template, model=config.model(model), profile=config.profile))
    for _, kernel, base in kernel_names(matrix.kernels, model, plan):
        config = search.parse(base)
        extra.append(
            dataclasses.replace(template, model=config.model(model), profile=config.profile, kernel=kernel)
        )
    for release, name, _ in plan.rivals:
        config = search.parse(name)
        extra.append(dataclasses.replace(template, model=config.model(model), profile=config.profile,
                                         compiler=release, runtime=release))  # fmt: skip
    try:
        return spec.with_cells(matrix, extra)
    except SpecError as exc:  # a configuration --picks named that is no profile or combination
        raise UserError(
            f"advise: {str(exc).replace('--profiles', '--picks (with default, generic)', 1)}"
        ) from None


def kernel_names(kernels: Mapping[str, Kernel], model: str, plan: SittingPlan) -> list[tuple[str, str, str]]:
    """(arm name, kernel, the configuration it is swapped into) for each kernel of the matrix meant
    for `model` and each of `default` and the picks: "im2col+k:depthwise3x3"."""
    from iree_matrix.matrix.kernels import profile_label

    if not plan.kernels:
        return []
    return [
        (profile_label(base, name), name, base)
        for name, kernel in kernels.items()
        if kernel.for_model(model)
        for base in ["default", *plan.picks]
    ]


def fleet_names(plan: SittingPlan) -> list[tuple[str, str]]:
    """(configuration, the configuration it is built from) for each fleet CPU: every pick and
    default (the sitting decides which one is the answer) with the named CPU in place of `host` —
    a pick that already names a CPU (`avx2`) cannot take another."""
    from iree_matrix.iree.flags import COMBINE

    names = []
    for cpu in plan.fleet:
        for pick in [*plan.picks, "default"]:
            if "avx2" in pick.split(COMBINE):
                continue
            fleet = f"{FLEET_PREFIX}{cpu}"
            names.append((f"{pick}{COMBINE}{fleet}" if pick != "default" else fleet, pick))
    return names
