"""Loading a matrix into a (selected, sharded) plan, and running it: which executor, the summary,
the report, and the exit policy. Shared by `matrix`, `tune`, `search`, `armv6-smoke` and `images build`."""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import os
import shlex
import shutil
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from iree_matrix import __version__, stages
from iree_matrix.commands.base import (
    EXIT_INTERRUPTED,
    absolute,
    default_cache,
    default_results_dir,
    remember_cache,
    resolver,
    write_report,
)
from iree_matrix.commands.shared_options import BACKEND, UNSANDBOXED, cache_dir
from iree_matrix.core import console, refusals, shipped
from iree_matrix.core.errors import UserError
from iree_matrix.core.results import Record, ResultsLog, Status
from iree_matrix.envs.cache_usage import require_usable
from iree_matrix.iree import hints, targets
from iree_matrix.matrix import plan, spec

logger = console.logger(__name__)

if TYPE_CHECKING:
    from iree_matrix.execution.distributed import Cluster
    from iree_matrix.execution.execute import Summary

Rewrite = Callable[[spec.MatrixSpec], spec.MatrixSpec]


@dataclasses.dataclass(frozen=True)
class Loaded:
    """A matrix file, its matrix after the command's rewrites, its (selected) plan, and where its
    results go (`--results-dir`, else runs/<matrix file name>)."""

    path: Path
    matrix: spec.MatrixSpec
    plan: plan.Plan
    results_dir: Path
    releases: tuple[str, ...] = ()  # what the version selectors meant, for `--list`


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How a plan is run, from the command line once: where, how many at once, what again, and
    what a failed cell exits with."""

    backend: str = "auto"
    jobs: int = 1
    retry_failed: bool = False
    retime: tuple[str, ...] = ()
    strict: bool = False
    cluster: Optional[Cluster] = None  # --scheduler/--cluster; None: on this machine
    wait: bool = False  # --wait: a cache another run uses is waited for
    cheaper: Optional[str] = None  # how to make it cheaper, said with its cost (default: the executor's)
    unsandboxed: bool = False  # --unsandboxed: model code may run without bubblewrap where it cannot run

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        scheduler, cluster = getattr(args, "scheduler", None), getattr(args, "cluster", None)
        where = None
        if scheduler is not None or cluster is not None:
            from iree_matrix.execution.distributed import Cluster

            where = Cluster(scheduler=scheduler, cluster=cluster, store=getattr(args, "store", None))
        return cls(
            backend=BACKEND.of(args) or "auto",
            jobs=args.jobs,
            retry_failed=args.retry_failed,
            retime=tuple(args.retime),
            strict=getattr(args, "strict", False),
            cluster=where,
            wait=getattr(args, "wait", False),
            unsandboxed=UNSANDBOXED.of(args),
        )


def load_plan(
    args: argparse.Namespace,
    default_matrix: str,
    transform: Optional[Rewrite] = None,
    adjust: Optional[Rewrite] = None,
) -> Loaded:
    """The matrix file and its (selected) plan, shared by `matrix`, `search` and `armv6-smoke`.
    `transform` rewrites the file's matrix (armv6-smoke: its boards run on a runtime built from
    source), `adjust` the matrix once its profiles are chosen (the flag search's rounds)."""
    from iree_matrix.matrix import shards

    if args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: expected 1 or more")
    shard = shards.parse(args.shard) if getattr(args, "shard", None) is not None else None
    # Checked before planning, so `--list` refuses them too rather than ignoring them.
    if getattr(args, "cluster", None) is not None:
        from iree_matrix.execution.distributed import parse_cluster

        parse_cluster(args.cluster)
    elif getattr(args, "store", None) is not None and getattr(args, "scheduler", None) is None:
        raise UserError("--store is for --scheduler/--cluster; a run here keeps its store in CACHE/store")
    matrix_path = args.matrix or shipped.matrix_dir() / default_matrix
    results_dir = default_results_dir(args.results_dir, matrix_path)  # read, never written back
    cache = cache_dir(args)
    if cache.exists() and not cache.is_dir():
        raise UserError(f"--cache {cache}: exists and is not a directory; name a directory (or a new path)")
    require_usable(cache, getattr(args, "store", None))  # `--list` too: the run would fail every compile
    releases = resolver(results_dir, refresh=args.refresh_releases)
    matrix = spec.load(matrix_path, models=args.model, resolver=releases)
    for name in matrix.redefined:
        logger.warning(
            f"{matrix_path} redefines the built-in profile {name!r} ([profile.{name}]): its cells "
            f"named {name!r} use the file's flags, not what the published {name!r} columns mean"
        )
    matrix = with_timeouts(matrix, getattr(args, "timeout", None))
    matrix = _with_iree_sources(matrix, _iree_sources_given(args.iree_source))
    if transform is not None:
        matrix = transform(matrix)
    _check_iree_sources(matrix, args.iree_source)
    if getattr(args, "profiles", None):
        matrix = spec.with_profiles(matrix, [p.strip() for p in args.profiles.split(",") if p.strip()])
    if adjust is not None:
        matrix = adjust(matrix)
    the_plan = plan.select(stages.plan(matrix, _runtime_dirs(args)), args.select)
    if shard is not None:
        the_plan = shards.select(the_plan, shard)
    _check_retime(the_plan, args.retime)
    if not args.list or shard is not None:
        # What the selectors meant, kept so a re-run plans the same releases; `--list --shard` keeps
        # it too, so a CI plan job can hand every shard the same release list.
        releases.save()
    return Loaded(matrix_path, matrix, the_plan, results_dir, tuple(releases.describe()))


# The stages whose worker imports the user's model file and calls its code (the run stage runs only
# IREE's runtime on the compiled module; the tool compares its outputs itself).
MODEL_CODE_STAGES = ("export", "peer", "flops")


def require_sandbox(jobs: Iterable[plan.Job], unsandboxed: bool) -> None:
    """Before anything runs on host venvs: a plan with model code refuses in one line where
    bubblewrap cannot run, unless `--unsandboxed` (each such stage checks again, `VenvEnvironment.run`)."""
    from iree_matrix.core import bubblewrap

    bubblewrap.allow_unsandboxed(unsandboxed)
    stage = next((j.stage for j in jobs if j.stage in MODEL_CODE_STAGES), None)
    refused = bubblewrap.refusal(stage) if stage is not None else None
    if refused is not None:
        raise UserError(refused)


def parse_timeouts(text: str) -> dict[str, float]:
    """`--timeout`'s value as stage -> seconds: "600" every stage, "export=300,run=120" those
    stages, "600,run=120" both (a named stage wins). A bad value is a one-line error saying why."""
    known = stages.names()
    out: dict[str, float] = {}
    every: Optional[float] = None
    for item in (part.strip() for part in text.split(",")):
        stage, sep, value = item.rpartition("=")
        if sep and stage not in known:
            raise UserError(f"--timeout {text!r}: unknown stage {stage!r} (known: {', '.join(known)})")
        try:
            seconds = float(value)
        except ValueError:
            seconds = float("nan")
        if not (seconds > 0 and seconds != float("inf")):
            raise UserError(
                f"--timeout {text!r}: {item!r} is not a positive number of seconds; e.g. --timeout 600 "
                "or --timeout export=300,run=120"
            )
        if sep:
            out[stage] = seconds
        else:
            every = seconds
    return {**({name: every for name in known} if every is not None else {}), **out}


def with_timeouts(matrix: spec.MatrixSpec, given: Optional[str]) -> spec.MatrixSpec:
    """`--timeout` over the matrix file's [timeouts] (stages.timeout reads them)."""
    if not given:
        return matrix
    return dataclasses.replace(matrix, timeouts={**matrix.timeouts, **parse_timeouts(given)})


def _iree_sources_given(given: Sequence[str]) -> list[str]:
    """--iree-source's values, else $IREE_MATRIX_IREE_SOURCE's (the same syntax, space-separated)."""
    from iree_matrix.source_builds.cmake_runtime import SOURCE_ENV

    return list(given) or shlex.split(os.environ.get(SOURCE_ENV, ""))


def _with_iree_sources(matrix: spec.MatrixSpec, given: Sequence[str]) -> spec.MatrixSpec:
    """`--iree-source [RELEASE=]SRC` over the matrix's `iree_source`; a local source must exist."""
    from iree_matrix.iree import versions
    from iree_matrix.source_builds import cmake_runtime

    sources = dict(matrix.iree_sources)
    for item in given:
        release, sep, source = item.partition("=")
        if not sep or not versions.is_valid(release) or release.startswith(("/", ".")):
            release, source = "*", item
        if not source.startswith("git+"):
            source = str(Path(source).expanduser().resolve())
        cmake_runtime.source_digest(source)  # a missing or malformed source: a one-line error now
        if release == "*":
            sources = {r: s for r, s in sources.items() if r == "*"}  # the one source for every release
        sources[release] = source
    return dataclasses.replace(matrix, iree_sources=sources)


def _check_iree_sources(matrix: spec.MatrixSpec, given: Sequence[str]) -> None:
    from iree_matrix.iree import versions

    if given and not any(versions.is_source_runtime(c.runtime) for c in matrix.cells):
        raise UserError(
            f"--iree-source: {matrix.path} has no runtime built from source; add one to its runtime axis, "
            'e.g. runtime = ["3.9.0", "src:3.9.0"]'
        )


def _runtime_dirs(args: argparse.Namespace) -> dict[str, str]:
    pairs = list(args.runtime_dir) + ([f"armv6={args.armv6_runtime}"] if args.armv6_runtime else [])
    dirs = {}
    for pair in pairs:
        arch, sep, directory = pair.partition("=")
        if not sep or arch not in targets.ARCHES:
            raise UserError(
                f"--runtime-dir {pair!r}: expected ARCH=DIR with ARCH one of {', '.join(targets.ARCHES)}"
            )
        path = Path(directory).expanduser().resolve()
        missing = [t for t in ("iree-run-module", "iree-benchmark-module") if not (path / t).is_file()]
        if missing:
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
    Status.OK: "done", Status.SKIP: "done (skip)", Status.FAIL: "failed", Status.TIMEOUT: "failed (timeout)",
    Status.MISMATCH: "failed (mismatch)", Status.NOT_RUN: "not run",
}  # fmt: skip


def _state(record: Record) -> str:
    """A job's state in `--list`: a cross cell the runtime refused is "refused" (an answer), never
    "failed" — the word the progress line and the summary use."""
    return refusals.REFUSED if refusals.is_answer(record) else _STATES.get(record.status, "?")


def with_states(described: str, log_path: Path) -> str:
    """`--list` with each job's state from the run's own log (done / refused / failed / not run /
    pending)."""
    if not log_path.is_file():
        return described
    latest = ResultsLog(log_path).latest()
    lines = described.splitlines()
    states = [_state(latest[j]) if j in latest else "pending" for j in (ln.strip() for ln in lines[1:])]
    counts = ", ".join(f"{states.count(s)} {s}" for s in dict.fromkeys(states))
    body = [f"{line}  [{state}]" for line, state in zip(lines[1:], states)]
    return "\n".join([f"{lines[0]} ({counts}, from {log_path})", *body])


def run_plan(
    loaded: Loaded, options: RunOptions, cache: Path, results: ResultsLog, results_dir: Path
) -> tuple[int, Summary]:
    """Execute a plan, print the summary, keep manifests, write the report: (exit code, summary)."""
    from iree_matrix.envs.backends import BACKENDS, choose
    from iree_matrix.execution.execute import Executor, Options

    cache = absolute(cache)  # its tools run in other directories: never a relative path
    require_usable(cache, options.cluster.store if options.cluster is not None else None)
    backend, why = choose(options.backend, loaded.plan.jobs, loaded.matrix.interpreters)
    if backend in ("venv", "mixed"):
        from iree_matrix.matrix import interpreters

        interpreters.check_plan(loaded.plan.jobs, loaded.matrix.interpreters)
        require_sandbox(loaded.plan.jobs, options.unsandboxed)
    logger.info(f"iree-matrix {__version__}: {loaded.path}, {stages.describe(loaded.plan).splitlines()[0]}")
    logger.info(f"backend: {backend} ({why}); cache: {cache}; results: {results.path}")
    remember_cache(results_dir, cache, options.cluster.store if options.cluster is not None else None)
    executing = Options(
        jobs=options.jobs, retry_failed=options.retry_failed, retime=options.retime, wait=options.wait,
        **({"cheaper": options.cheaper} if options.cheaper else {}),
    )  # fmt: skip
    if options.cluster is not None:
        from iree_matrix.execution import distributed

        on_cluster = distributed.executor(
            options.cluster, loaded.matrix, loaded.plan, cache, results, backend, executing
        )
        summary = on_cluster.run()
        print(on_cluster.placement_line())
    else:
        here = BACKENDS[backend](cache, loaded.matrix)
        summary = Executor(
            loaded.matrix, loaded.plan, cache=cache, results=results, backend=here, options=executing
        ).run()
    _print_summary(summary, cache, results_dir)
    if summary.interrupted:  # out within 2 s: the report only if it renders at once
        if any(True for _ in results):
            _write_report_if_quick(results_dir)
        return EXIT_INTERRUPTED, summary
    _keep_manifests(summary.records.values(), results_dir / "manifests")
    if any(True for _ in results):
        write_report(results_dir, if_changed=True)
        _print_machine(results, results_dir)
    failed = summary.failures()
    if failed:
        print(
            f"{len(failed)} stage(s) failed, timed out or mismatched (recorded results, listed above); "
            + ("exit 1 (--strict)" if options.strict else "exit 0 (pass --strict to exit 1)")
        )
        return (1 if options.strict else 0), summary
    if summary.answers():
        print("no failures (the refusals above are answers; --strict exits 1 only on failures)")
    return 0, summary


def _keep_manifests(records: Iterable[Record], directory: Path) -> None:
    """Each image's manifest beside the results that name it, so they travel together."""
    for record in records:
        manifest = Path(record.env.get("manifest") or "")
        if manifest.name and manifest.is_file() and not (directory / manifest.name).exists():
            directory.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, directory / manifest.name)


def _print_summary(summary: Summary, cache: Path, results_dir: Path) -> None:
    from iree_matrix.execution.progress import first_words

    print(
        f"\n{len(summary.records)} jobs in {summary.seconds:.0f} s: {summary.tally()} "
        f"({summary.executed} executed, {len(summary.reused)} reused from earlier runs)"
    )
    answers = summary.answers()
    if answers:
        print(f"  {len(answers)} cross cell(s) refused by the runtime: answers, not failures (see the cross)")
    problems = summary.failures()
    advised: dict[str, str] = {}  # advice said once in full, then referred to
    for record in sorted(problems, key=lambda r: r.job):
        first = first_words(record, cache)
        print(f"  {record.status.value:<8} {record.job}\n           {record.error_class}: {first}")
        made = hints.Made(record.label.exporter, record.label.compiler)  # a hint is by what failed
        found = hints.of_record(record.stage, record.metrics, record.message, made)
        if found is not None:
            said = advised.setdefault(found.advice, record.job)
            print(f"           what to do: {found.advice if said == record.job else 'as for ' + said}")
    if problems or answers:
        where = f" --results-dir {results_dir}" + (f" --cache {cache}" if cache != default_cache() else "")
        print(f"the whole message and the logs of one: iree-matrix show JOB{where}")
    if summary.interrupted:
        print("interrupted: finished stages are saved; run the same command again to resume")


def _print_machine(results: ResultsLog, results_dir: Path) -> None:
    """How IREE compares with torch eager and the peers on this machine, one line per function: the
    rows of the report's 'Your machine' section (report/machine.py), so the two never disagree."""
    from iree_matrix.report import machine

    lines = machine.console_lines(results.latest().values(), str(results_dir / "COMPATIBILITY.md"))
    if lines:
        print("\n".join(lines))


# An interrupted run exits within 2 s (README): the report, site and answers are rendered only if they
# take less than this, in a thread left behind otherwise (every file is written atomically).
QUICK_REPORT_SECONDS = 0.5


def _write_report_if_quick(results_dir: Path, budget: float = QUICK_REPORT_SECONDS) -> bool:
    said: list[str] = []
    done = threading.Event()

    def render() -> None:
        write_report(results_dir, said.append)
        done.set()

    threading.Thread(target=render, name="report", daemon=True).start()
    if done.wait(budget):
        print("\n".join(said))
        return True
    logger.warning(
        f"report not rendered (interrupted); render it with: iree-matrix report --results-dir {results_dir}"
    )
    return False
