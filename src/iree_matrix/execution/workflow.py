"""Loading a matrix into a (selected, sharded) plan, and executing it: which executor, the summary,
the manifests. Shared by `matrix`, `tune`, `search`, `advise`, `bundle`, `armv6-smoke` and `images
build`; what a run ends with (its report, its exit code) is `tasks/runs.py`'s. Both take typed
settings (`PlanSettings`, `RunOptions`), which the command line makes once (commands/options.py)."""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import shlex
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, TextIO

from iree_matrix import __version__, stages
from iree_matrix.core import console, pasted, shipped
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.input_files import directory_problem
from iree_matrix.core.model import refusals
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.results import Record, ResultsLog, Status, latest_by_job
from iree_matrix.core.system import bubblewrap, locks
from iree_matrix.envs.cache_usage import absolute, default_cache, require_usable
from iree_matrix.execution.execute import RunOptions as RunOptions
from iree_matrix.iree import hints, miscompiled, targets, versions
from iree_matrix.kernel import kernels, mechanism
from iree_matrix.matrix import export_recipes, models, plan, releases, shards, spec, spec_file, tried
from iree_matrix.matrix.settings import Layered
from iree_matrix.source_builds import cmake_runtime

logger = console.logger(__name__)

if TYPE_CHECKING:
    from iree_matrix.execution.summary import Summary
    from iree_matrix.kernel.kernels import Kernel

Rewrite = Callable[[spec.MatrixSpec], spec.MatrixSpec]

EXIT_INTERRUPTED = 130
# Beside a run's results: the cache (and store) it ran with, so `show JOB --log` finds that run's
# logs and store entries without being told (a run on --cache /tmp/c writes nothing to the default).
RUN_CACHE = "cache.json"


def remember_cache(results_dir: Path, cache: Path, store: Optional[Path] = None) -> None:
    """Record where a run starting now keeps its logs and artifacts, in its results directory."""
    from iree_matrix.core.atomic_files import write_atomically

    found = {"cache": str(cache), "store": str(store or CacheLayout(Path(cache)).store)}
    write_atomically(Path(results_dir) / RUN_CACHE, json.dumps(found, indent=1, sort_keys=True) + "\n")


def recorded_cache(results_dir: Path) -> tuple[Optional[Path], Optional[Path]]:
    """(cache, store) the last run into `results_dir` used, or (None, None) when none is recorded."""
    try:
        found = json.loads((Path(results_dir) / RUN_CACHE).read_text())
    except (OSError, ValueError):
        return None, None
    if not isinstance(found, dict) or not isinstance(found.get("cache"), str):
        return None, None
    store = found.get("store")
    return Path(found["cache"]), Path(store) if isinstance(store, str) else None


def resolver(results_dir: Path | None, refresh: bool = False) -> releases.Resolver:
    """Release selectors are resolved against the index once and kept beside the results
    (`results_dir`, else results/); `refresh`: --refresh-releases."""
    return releases.Resolver((results_dir or Path("results")) / "releases.json", refresh=refresh)


@dataclasses.dataclass(frozen=True)
class Loaded:
    """A matrix file, its matrix after the command's rewrites, its (selected) plan, and where its
    results go (`--results-dir`, else runs/<matrix file name>)."""

    path: Path
    matrix: spec.MatrixSpec
    plan: plan.Plan
    results_dir: Path
    releases: tuple[str, ...] = ()  # what the version selectors meant, for `--list`
    settings: tuple[Setting, ...] = ()  # each setting of the run and where it came from


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting of a run, and where its value came from: the command line (the option), the
    environment (the variable), the matrix file, or a default (`default`: the tool's or the command's
    own choice, left out of `--list`)."""

    name: str
    value: str
    source: str
    default: bool = False


def listed_settings(loaded: Loaded) -> str:
    """`--list`'s last lines: each setting that did not come from the defaults, and from where."""
    listed = [f"  {s.name} = {s.value} (from {s.source})" for s in loaded.settings if not s.default]
    return "\n".join(["settings (those not the defaults, and where each came from):", *listed])


@dataclasses.dataclass(frozen=True)
class PlanSettings:
    """What to plan, from the command line once: the matrix file, the models, jobs and releases of
    it, the command line's values over the file's (timeouts, IREE sources, profiles), the cache, where
    the results go, and how the plan is run (`run`)."""

    matrix: Path  # the matrix file (the command's default when none was given)
    results_dir: Path  # `--results-dir`, else runs/<matrix file name>
    cache: Path
    run: RunOptions = RunOptions()
    models: tuple[str, ...] = ()  # `--model`: only these, instead of the file's (`spec_file.parse`)
    kernels: tuple[str, ...] = ()  # `--kernel`: beside the file's
    select: tuple[str, ...] = ()
    listing: bool = False  # `--list`: plan, print, run nothing
    refresh_releases: bool = False
    # `--timeout`, stage -> seconds (`options.parse_timeouts`): over the file's [timeouts], stage by stage
    timeouts: Mapping[str, float] = dataclasses.field(default_factory=dict)
    iree_sources: tuple[str, ...] = ()  # `--iree-source`, else $IREE_MATRIX_IREE_SOURCE's
    runtime_dirs: tuple[str, ...] = ()  # ARCH=DIR
    armv6_runtime: Optional[str] = None  # `--armv6-runtime DIR`: armv6=DIR
    shard: Optional[str] = None  # K/N
    store: Optional[Path] = None  # `--store`: for --scheduler/--cluster (`run.cluster` holds it)
    profiles: tuple[str, ...] = ()  # `tune --profiles`: instead of the file's
    given: frozenset[str] = frozenset()  # the options (by name) the command line gave: provenance

    def with_retime(self, globs: Iterable[str]) -> PlanSettings:
        """The same plan, with these timed jobs measured again although stored."""
        return dataclasses.replace(self, run=dataclasses.replace(self.run, retime=tuple(globs)))

    def with_models(self, models: Iterable[str]) -> PlanSettings:
        return dataclasses.replace(self, models=tuple(models))


def load_plan(settings: PlanSettings, adjust: Optional[Rewrite] = None) -> Loaded:
    """The matrix file and its (selected) plan, the file's settings with the command line's over them
    parsed once (`merged`); `adjust` is the command's own matrix made from the parsed one (advise's
    sitting, the flag search's batches, armv6-smoke's boards on a source-built runtime)."""
    if settings.run.jobs < 1:
        raise UserError(f"--jobs {settings.run.jobs}: expected 1 or more")
    shard = shards.parse(settings.shard) if settings.shard is not None else None
    # Checked before planning, so `--list` refuses them too rather than ignoring them.
    if (where := settings.run.cluster) is not None and where.cluster is not None:
        from iree_matrix.execution.distributed import parse_cluster

        parse_cluster(where.cluster)
    elif settings.store is not None and (where is None or where.scheduler is None):
        raise UserError("--store is for --scheduler/--cluster; a run here keeps its store in CACHE/store")
    matrix_path, results_dir, cache = settings.matrix, settings.results_dir, settings.cache
    _check_cache(cache, "cache" in settings.given)
    require_usable(cache, settings.store)  # `--list` too: every compile would fail
    known = resolver(results_dir, refresh=settings.refresh_releases)
    layered = merged(Layered.read(matrix_path), settings)
    parsed = spec_file.parse(
        layered.data,
        matrix_path,
        list(settings.models),
        resolver=known,
        profiles=list(settings.profiles),
        own_file="matrix" in settings.given,
        kernels=layered.kernels,
    )
    # --timeout's limits (checked where read) over the file's, on the matrix each stage's context holds.
    parsed = dataclasses.replace(parsed, timeouts={**parsed.timeouts, **settings.timeouts})
    for name in parsed.redefined:
        logger.warning(
            f"{matrix_path} redefines the built-in profile {name!r} ([profile.{name}]): its cells "
            f"named {name!r} use the file's flags, not what the published {name!r} columns mean"
        )
    matrix = adjust(parsed) if adjust is not None else parsed
    _check_iree_sources(matrix, settings.iree_sources)
    said = provenance(settings, layered, parsed, matrix)
    lines = "\n".join(f"  {s.name}: {s.value} ({s.source})" for s in said)
    logger.debug(f"settings (where each came from):\n{lines}")
    the_plan = plan.select(stages.plan(matrix, _runtime_dirs(settings)), list(settings.select))
    if shard is not None:
        the_plan = shards.select(the_plan, shard)
    _check_retime(the_plan, settings.run.retime)
    if not settings.listing or shard is not None:
        # What the selectors meant, kept so a re-run plans the same releases; `--list --shard` keeps
        # it too, so a CI plan job can hand every shard the same release list.
        known.save()
    return Loaded(matrix_path, matrix, the_plan, results_dir, tuple(known.describe()), said)


def _check_cache(cache: Path, given: bool) -> None:
    """A cache that is a file, under one, or a link to nothing: one line naming where it came from
    (`given`: --cache, else $IREE_MATRIX_CACHE when set), not a mkdir traceback later."""
    if blocked := directory_problem(cache):
        named = "--cache" if given or "IREE_MATRIX_CACHE" not in os.environ else "$IREE_MATRIX_CACHE"
        raise UserError(f"{named} {cache}: {blocked}; name a directory (or a new path)")


def merged(layered: Layered, settings: PlanSettings) -> Layered:
    """The matrix file's settings with the command line's (and the environment's) over them, before the one
    parse: `--iree-source` (else $IREE_MATRIX_IREE_SOURCE) over `iree_source`, `--kernel` after `kernels`."""
    if settings.kernels:  # relative to the working directory, as `--model`'s paths are
        layered = layered.with_kernels(given_kernels(settings.kernels), "--kernel")
    origin = "--iree-source" if settings.iree_sources else f"environment {cmake_runtime.SOURCE_ENV}"
    for item in _iree_sources_given(settings.iree_sources):
        release, sep, source = item.partition("=")
        if not sep or not versions.is_valid(release) or release.startswith(("/", ".")):
            release, source = "*", item
        if not source.startswith("git+"):
            source = str(Path(source).expanduser().resolve())
        cmake_runtime.source_digest(source)  # a missing or malformed source: a one-line error now
        given = layered.replacing if release == "*" else layered.over  # "*": the one source for every release
        layered = given("iree_source", {release: source}, origin)
    return layered


def given_kernels(given: Sequence[str]) -> tuple[Kernel, ...]:
    """Each `--kernel DIR` loaded before it joins the matrix file's, so a bad one is said as the option
    the user typed (`--kernel /tmp: …`), not as the matrix file's `kernels` key it was not in."""
    if any(not directory.strip() for directory in given):  # Path(""): the working directory
        raise UserError(
            "--kernel '': an empty path: name a kernel directory, e.g. --kernel kernels/depthwise3x3"
        )
    try:
        loaded = kernels.load_all([(Path(d).expanduser(), f"--kernel {d}") for d in given])
    except kernels.KernelError as exc:
        raise UserError(str(exc)) from None
    return tuple(dataclasses.replace(k, directory=k.directory.resolve()) for k in loaded.values())


def provenance(
    settings: PlanSettings, layered: Layered, parsed: spec.MatrixSpec, matrix: spec.MatrixSpec
) -> tuple[Setting, ...]:
    """Each setting of a run and where it came from: `layered` is what was parsed, `parsed` its
    matrix, `matrix` that after the command's own `adjust`."""
    given = settings.given
    in_file = f"matrix file {settings.matrix}"

    def said(option: str, dest: str, default: str, name: str, value: str) -> Setting:
        if dest in given:
            return Setting(name, value, option)
        return Setting(name, value, default, default=not default.startswith(("matrix file", "environment")))

    cache_env = "IREE_MATRIX_CACHE" in os.environ
    cache = "environment IREE_MATRIX_CACHE" if cache_env else "default: ~/.cache/iree-matrix"
    found = [
        said("--matrix", "matrix", "the command's own", "matrix", str(settings.matrix)),
        said("--results-dir", "results_dir", "default", "results", str(settings.results_dir)),
        said("--cache", "cache", cache, "cache", str(settings.cache)),
        said("--backend", "backend", "default", "backend", settings.run.backend),
        said("--jobs", "jobs", "default: one per CPU, at most 4", "jobs", str(settings.run.jobs)),
    ]
    models = in_file if not settings.models else "the command's own"
    if settings.models and "results_dir" not in given and "model" in given:  # not the file's run's folder
        found[1] = Setting("results", str(settings.results_dir), "--model: runs/<matrix file name>-<models>")
    named = ", ".join(sorted({c.model for c in parsed.cells}))
    found.append(said("--model", "model", models, "models", named))
    profiles = sorted({c.profile for c in matrix.cells})
    rewritten = profiles != sorted({c.profile for c in parsed.cells})
    where = "the command's own, over the matrix file's" if rewritten else in_file
    found.append(said("--profiles", "profiles", where, "profiles", ", ".join(profiles)))
    for stage, seconds in sorted(matrix.timeouts.items()):
        source = "--timeout" if stage in settings.timeouts else f"{in_file} [timeouts]"
        found.append(Setting(f"timeout of {stage}", f"{seconds:g} s", source))
    for release, source in sorted(matrix.iree_sources.items()):
        origin = layered.origins.get(f"iree_source.{release}") or f"{in_file} iree_source"
        found.append(Setting(f"IREE source of {release}", source, origin))
    for name, values in (("select", settings.select), ("retime", settings.run.retime)):
        if values:
            found.append(said(f"--{name}", name, "the command's own", name, ", ".join(values)))
    return tuple(found)


# The stages that run code a user or a received file made, in the model's sandbox: the model's
# (export, peer, flops), a kernel's C (kernel), a profile's or kernel's flags and spec (compile), a
# module's native code (run; the tool compares its outputs with torch's itself, outside).
MODEL_CODE_STAGES = ("export", "peer", "flops", "kernel", "compile", "run")


def require_sandbox(jobs: Iterable[plan.Job], unsandboxed: bool) -> None:
    """Before anything runs on host venvs: a plan with model code refuses in one line where
    bubblewrap cannot run, unless `--unsandboxed` (each such stage checks again, `VenvEnvironment.run`)."""
    bubblewrap.allow_unsandboxed(unsandboxed)
    stage = next((j.stage for j in jobs if j.stage in MODEL_CODE_STAGES), None)
    if stage is not None and (refused := bubblewrap.refusal(stage)) is not None:
        raise UserError(refused)


def _iree_sources_given(given: Sequence[str]) -> list[str]:
    """--iree-source's values, else $IREE_MATRIX_IREE_SOURCE's (the same syntax, space-separated)."""
    return list(given) or shlex.split(os.environ.get(cmake_runtime.SOURCE_ENV, ""))


def _check_iree_sources(matrix: spec.MatrixSpec, given: Sequence[str]) -> None:
    plugins = any(mechanism.of(k.mechanism).needs_iree_source for k in matrix.kernels.values())
    if given and not plugins and not any(versions.is_source_runtime(c.runtime) for c in matrix.cells):
        raise UserError(
            f"--iree-source: {matrix.path} has no runtime built from source; add one to its runtime axis, "
            'e.g. runtime = ["3.9.0", "src:3.9.0"] (or a kernel with mechanism = "plugin", built against it)'
        )


def _runtime_dirs(settings: PlanSettings) -> dict[str, str]:
    armv6 = [f"armv6={settings.armv6_runtime}"] if settings.armv6_runtime else []
    dirs = {}
    for pair in [*settings.runtime_dirs, *armv6]:
        arch, sep, directory = pair.partition("=")
        if not sep or arch not in targets.ARCHES:
            raise UserError(
                f"--runtime-dir {pair!r}: expected ARCH=DIR with ARCH one of {', '.join(targets.ARCHES)}"
            )
        path = Path(directory).expanduser().resolve()
        if missing := [t for t in ("iree-run-module", "iree-benchmark-module") if not (path / t).is_file()]:
            raise UserError(f"--runtime-dir {arch}={directory}: {', '.join(missing)} not found in {path}")
        dirs[arch] = str(path)
    return dirs


def _check_retime(the_plan: plan.Plan, globs: Sequence[str]) -> None:
    """A --retime that matches no timed job would silently re-measure nothing: say so instead."""
    timed = [job.id for job in the_plan.jobs if stages.get(job.stage).exclusive]
    for glob in globs:
        if not any(fnmatch.fnmatchcase(job_id, glob) for job_id in timed):
            raise UserError(
                f"--retime {glob!r} matches no timed job (run, export, peer, dispatches); "
                f"`--list` prints the ids (e.g. {timed[-1] if timed else '-'})"
            )


_STATES = {
    Status.OK: "done",
    Status.SKIP: "done (skip)",
    Status.FAIL: "failed",
    Status.TIMEOUT: "failed (timeout)",
    Status.MISMATCH: "failed (mismatch)",
    Status.NOT_RUN: "not run",
}


def _state(record: Record) -> str:
    """A job's state in `--list`: a cross cell the runtime refused is "refused" (an answer), never
    "failed" — the word the progress line and the summary use."""
    return refusals.REFUSED if refusals.is_answer(record) else _STATES.get(record.status, "?")


def with_states(described: str, logged: Iterable[Record], source: Path) -> str:
    """`--list` with each job's state from the run's own log (`logged`, as read from `source`: done /
    refused / failed / not run / pending)."""
    if not source.is_file():
        return described
    latest = latest_by_job(logged)
    lines = described.splitlines()
    states = [_state(latest[j]) if j in latest else "pending" for j in (ln.strip() for ln in lines[1:])]
    counts = ", ".join(f"{states.count(s)} {s}" for s in dict.fromkeys(states))
    body = [f"{line}  [{state}]" for line, state in zip(lines[1:], states)]
    return "\n".join([f"{lines[0]} ({counts}, from {source})", *body])


def execute(
    loaded: Loaded, options: RunOptions, cache: Path, results: ResultsLog, results_dir: Path, out: TextIO
) -> Summary:
    """Execute a plan, print the summary on `out`, keep the manifests (what a run ends with, its
    report and exit code, is tasks/runs.py's `run_plan`)."""
    from iree_matrix.envs.backends import BACKENDS, choose
    from iree_matrix.execution.execute import Executor

    cache = absolute(cache)  # its tools run in other directories: never a relative path
    require_usable(cache, options.cluster.store if options.cluster is not None else None)
    locks.quiet_lock_path()  # one line now, not a timed stage's recorded failure to open it
    backend, why = choose(options.backend, loaded.plan.jobs, loaded.matrix.interpreters)
    if backend in ("venv", "mixed"):
        from iree_matrix.matrix import interpreters

        interpreters.check_plan(loaded.plan.jobs, loaded.matrix.interpreters)
        require_sandbox(loaded.plan.jobs, options.unsandboxed)
    logger.info(f"iree-matrix {__version__}: {loaded.path}, {stages.describe(loaded.plan).splitlines()[0]}")
    logger.info(f"backend: {backend} ({why}); cache: {cache}; results: {results.path}")
    remember_cache(results_dir, cache, options.cluster.store if options.cluster is not None else None)
    if options.cluster is not None:
        from iree_matrix.execution import distributed

        on_cluster = distributed.executor(loaded.matrix, loaded.plan, cache, results, backend, options)
        summary = on_cluster.run()
        print(on_cluster.placement_line(), file=out)
    else:
        here = BACKENDS[backend](cache, loaded.matrix)
        summary = Executor(
            loaded.matrix, loaded.plan, cache=cache, results=results, backend=here, options=options
        ).run()
    print_summary(summary, cache, results_dir, out, where(loaded.path, results_dir, cache), results.latest())
    if not summary.interrupted:
        _keep_manifests(summary.records.values(), results_dir / "manifests")
    return summary


def _keep_manifests(records: Iterable[Record], directory: Path) -> None:
    """Each image's manifest beside the results that name it, so they travel together."""
    for record in records:
        manifest = Path(record.env.get("manifest") or "")
        if manifest.name and manifest.is_file() and not (directory / manifest.name).exists():
            directory.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, directory / manifest.name)


def where(matrix: Path, results_dir: Path, cache: Path) -> pasted.Where:
    """The settings of a run of `matrix` into `results_dir` on `cache` that a command it prints keeps:
    the matrix unless a shipped one (each command has its own), the cache unless the default."""
    mine = Path(matrix).resolve().parent != shipped.matrix_dir().resolve()
    kept = None if cache == default_cache() else cache
    return pasted.Where(Path(matrix) if mine else None, results_dir, kept, None if mine else Path(matrix))


def _search_offer(record: Record, references: dict[str, str], here: pasted.Where) -> str:
    """For a failure of a user's model exported the default way that no hint explains and another
    export could get past (`models.recipe_may_route`): the recipe search, as `query model` says it
    (the same line), so the run's own summary names a next step."""
    model = record.label.source_model or record.label.model
    if export_recipes.split(record.label.model)[1] or model not in references:
        return ""
    return models.search_offer(model, references, [record], here)


def print_summary(
    summary: Summary,
    cache: Path,
    results_dir: Path,
    out: TextIO,
    here: Optional[pasted.Where] = None,
    logged: Mapping[str, Record] = {},  # noqa: B006 - read only
) -> None:
    """The run's summary; `logged`: the newest record per job of the results folder's log (the runs
    before this one too), what a hint's ways are checked against (matrix/tried.py)."""
    from iree_matrix.execution.progress import first_words

    here = here or pasted.Where(None, results_dir, None if cache == default_cache() else cache)

    print(
        f"\n{len(summary.records)} jobs in {summary.seconds:.0f} s: {summary.tally()} "
        f"({summary.executed} executed, {len(summary.reused)} reused from earlier runs)",
        file=out,
    )
    if answers := summary.answers():
        print(
            f"  {len(answers)} cross cell(s) refused by the runtime: answers, not failures (see the cross)",
            file=out,
        )
    problems = summary.failures()
    advised: dict[str, str] = {}  # advice said once in full, then referred to
    references = models.references(summary.records.values())  # a user's model: FILE:FACTORY
    known = [*latest_by_job([*logged.values(), *summary.records.values()]).values()]
    for record in sorted(problems, key=lambda r: r.job):
        first = first_words(record, cache)
        print(f"  {record.status.value:<8} {record.job}\n           {record.error_class}: {first}", file=out)
        found = hints.of_record(record)  # a hint is by what failed
        if found is not None:  # what this folder shows of the ways it names (matrix/tried.py)
            todo = tried.advice(found, record, known)
            said = advised.setdefault(todo, record.job)
            print(f"           what to do: {todo if said == record.job else 'as for ' + said}", file=out)
            for line in tried.lines(found, record, known, references.get(record.label.planned_model), here):
                print(f"           {line}", file=out)
        elif record.error_class == "kernel-not-applied":  # the IR its spec had to match
            model = models.command_argument(record.label.source_model or record.label.model, references)
            profile = record.label.config.without_kernel().profile_label
            directory = record.metric.of(CompileMetrics).custom_kernel.get("directory", "DIR")
            said = pasted.invoked(kernels.ir_command(model, record.label.compiler, profile, directory))
            print(f"           what to do: see the IR its spec must match: {said}", file=out)
        elif offer := _search_offer(record, references, here):  # a user's model failing in unknown words
            said = advised.setdefault(offer, record.job)
            print(f"           what to do: {offer if said == record.job else 'as for ' + said}", file=out)
        elif (
            record.status is Status.MISMATCH
            and record.stage == "run"
            and miscompiled.bisectable(record.label)
        ):
            offer = pasted.invoked_in(miscompiled.bisect_offer(record.job, str(results_dir)))
            print(f"           what to do: {offer}", file=out)
    if problems or answers:
        shown = dataclasses.replace(here, matrix=None).line("iree-matrix show JOB")
        print(f"the whole message and the logs of one: {shown}", file=out)
    if summary.interrupted:
        print("interrupted: finished stages are saved; run the same command again to resume", file=out)
