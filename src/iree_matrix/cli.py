"""`iree-matrix` command line. The only place where `UserError` becomes a message and exit code."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import fnmatch
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, Optional

from iree_matrix import __version__, _files, _resources, cache_usage, plan, releases, spec, targets
from iree_matrix.commands import cache
from iree_matrix.errors import UserError
from iree_matrix.flags import SEARCH_KNOBS, TUNE_PROFILES
from iree_matrix.results import ResultsLog, Status

EXIT_INTERRUPTED = 130
COMMANDS = (cache,)  # commands as modules (commands/<name>.py)


default_cache = cache_usage.default_cache


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line like every other input error (not usage + error)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"iree-matrix: error: {message} (`{self.prog} --help` lists the options)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="iree-matrix",
        description="Which torch / iree-turbine / IREE compiler / IREE runtime combination works "
        "for my model, on which CPU, and how fast.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    verbs = parser.add_subparsers(
        dest="verb",
        required=True,
        metavar="{matrix,tune,search,armv6-smoke,report,query,show,publish,results,merge,doctor,images,cache}",
    )
    for command in COMMANDS:
        command.add_arguments(verbs.add_parser(command.NAME, help=command.HELP))

    m = verbs.add_parser("matrix", help="plan and run a matrix, then write the report")
    _matrix_options(m, "default.toml")
    _scale_options(m)

    t = verbs.add_parser(
        "tune", help="run a matrix under several compile profiles; the fastest correct one per model"
    )
    _matrix_options(t, "bench.toml")
    t.add_argument(
        "--profiles",
        default=",".join(TUNE_PROFILES),
        help=f"comma-separated profiles replacing the matrix's (default: {','.join(TUNE_PROFILES)}); "
        "built-in or the matrix's own [profile.NAME]",
    )

    se = verbs.add_parser(
        "search",
        help="flag search: each compile knob and export variant against default, then the winners combined",
    )
    _matrix_options(se, "search.toml")
    se.add_argument(
        "--knobs",
        default=",".join(SEARCH_KNOBS),
        help="comma-separated profiles tried one at a time against default "
        f"(default: {','.join(SEARCH_KNOBS)})",
    )

    a = verbs.add_parser(
        "armv6-smoke", help="Raspberry Pi Zero: hello world under qemu ARM1176, then the armv6 matrix"
    )
    _matrix_options(a, "armv6.toml")
    a.add_argument("--no-hello", action="store_true", help="skip the C hello world (needs Docker)")

    r = verbs.add_parser("report", help="render COMPATIBILITY.md from a results file (default: results/)")
    r.add_argument("--results-dir", type=Path, default=Path("results"))
    r.add_argument("--performance", action="store_true", help="also print the performance table")

    w = verbs.add_parser("show", help="one job's record in full: status, the tool's whole message, its logs")
    w.add_argument("job", help="a job id as printed (run:tiny_cnn/…), or a glob matching one job")
    w.add_argument("--results-dir", type=Path, default=Path("results"))
    w.add_argument("--cache", type=Path, default=None, help="where its logs are (default: the run's cache)")
    w.add_argument("--log", action="store_true", help="also print the job's log")

    q = verbs.add_parser(
        "query",
        help="answer one question from stored results, naming the cells it rests on "
        "(exit 0: answered, 1: not measured)",
    )
    questions = q.add_subparsers(dest="question", required=True, metavar="{load,model,export}")
    ql = questions.add_parser("load", help="can runtime R load a module built by compiler C?")
    ql.add_argument("--compiler", required=True, metavar="C")
    ql.add_argument("--runtime", required=True, metavar="R")
    qm = questions.add_parser("model", help="which compiler releases pass for a model, newest, fastest")
    qm.add_argument("name", help="a model or function name as in the report, e.g. mobilenet_v2")
    qe = questions.add_parser(
        "export", help="which compilers take the MLIR of my torch/turbine/Python, in which form"
    )
    qe.add_argument("--torch", required=True)
    qe.add_argument("--turbine", required=True)
    qe.add_argument("--python", default=None, help="e.g. 3.10 (default: every Python measured)")
    for sub in (ql, qm, qe):
        sub.add_argument("--results-dir", type=Path, default=Path("results"))
        sub.add_argument("--json", action="store_true", help="print the answer as JSON")

    p = verbs.add_parser(
        "publish", help="copy a run's records into the published results (results/) and render them"
    )
    p.add_argument("run", type=Path, help="the directory a run wrote, e.g. runs/default")
    p.add_argument(
        "--to", type=Path, default=Path("results"), help="the published directory (default: results)"
    )

    f = verbs.add_parser("results", help="edit a results log: `results forget GLOB...`")
    f.add_argument("action", choices=["forget"])
    f.add_argument("globs", nargs="+", metavar="GLOB", help="job ids or cells to remove (fnmatch globs)")
    f.add_argument("--results-dir", type=Path, required=True, help="the run directory whose log to edit")

    g = verbs.add_parser(
        "merge", help="merge the results of shards or workers into one log (duplicate-safe) and render it"
    )
    g.add_argument(
        "dirs", nargs="+", type=Path, metavar="DIR", help="run directories (or results.jsonl files)"
    )
    g.add_argument("--to", type=Path, required=True, help="where the merged results.jsonl and report go")

    i = verbs.add_parser("images", help="list, build or prune a matrix's environment images (Docker)")
    i.add_argument("action", choices=["list", "build", "prune"], nargs="?", default="list")
    i.add_argument("--matrix", type=Path, default=None)
    i.add_argument("--all", action="store_true", help="prune: every environment image, not just unused")
    _common(i)

    d = verbs.add_parser("doctor", help="what this machine lacks for each backend, and how to fix it")
    d.add_argument("--matrix", type=Path, default=None, help="check the Pythons this matrix needs")
    d.add_argument("--backend", choices=["auto", "docker", "venv"], default="auto")
    d.add_argument("--cache", type=Path, default=None)
    return parser


def _matrix_options(m: argparse.ArgumentParser, default_matrix: str) -> None:
    m.add_argument(
        "--matrix", type=Path, default=None, help=f"matrix file (default: matrix/{default_matrix})"
    )
    m.add_argument("--select", action="append", default=[], metavar="GLOB",
                   help="only jobs whose id matches (repeatable), plus what they depend on")  # fmt: skip
    m.add_argument("--list", action="store_true", help="print the plan and run nothing")
    m.add_argument(
        "--strict",
        action="store_true",
        help=(
            "exit 1 when a stage failed, timed out or mismatched; a cross cell the runtime refuses is "
            "an answer, not a failure (default: 0; the last line says)"
        ),
    )
    m.add_argument(
        "--refresh-releases",
        action="store_true",
        help='ask the package index again what selectors such as compiler = "all" mean, instead of '
        "reusing RESULTS_DIR/releases.json",
    )
    m.add_argument("--jobs", type=int, default=1, help="stages run at once (timed stages always run alone)")
    m.add_argument(
        "--backend",
        choices=["auto", "docker", "venv"],
        default="auto",
        help="where stages run: Docker images, host venvs, or auto (Docker when a daemon answers)",
    )
    m.add_argument(
        "--retry-failed", action="store_true", help="re-run stages whose stored result is a failure"
    )
    m.add_argument(
        "--retime",
        action="append",
        default=[],
        metavar="GLOB",
        help="measure the timed stages (run, export, peer, dispatches) whose job id matches again, "
        "even when stored, e.g. --retime 'run:*' (repeatable)",
    )
    m.add_argument(
        "--runtime-dir",
        action="append",
        default=[],
        metavar="ARCH=DIR",
        help="run ARCH's modules with the IREE runtime tools in DIR (iree-run-module, "
        "iree-benchmark-module) instead of a runtime wheel",
    )
    m.add_argument("--armv6-runtime", metavar="DIR", help="same as --runtime-dir armv6=DIR")
    m.add_argument(
        "--iree-source",
        action="append",
        default=[],
        metavar="[RELEASE=]SRC",
        help="IREE's source for the matrix's \"src:RELEASE\" runtimes (built here with cmake): a directory, "
        "a tarball, or git+URL@TAG; RELEASE= names one release (default: every one; without this option "
        "IREE's repository at the release's tag, or the matrix's iree_source; offline: a tarball of "
        "IREE's tree at the tag, README \"Getting IREE's source\"); default: $IREE_MATRIX_IREE_SOURCE",
    )
    m.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="REF",
        help="run these models instead of the file's: a built-in name, path/to/file.py:factory "
        "or package.module:factory (repeatable)",
    )
    _common(m)


def _scale_options(m: argparse.ArgumentParser) -> None:
    """Scale out (#17): a CI shard of the plan, or the plan on a Dask cluster."""
    m.add_argument(
        "--shard",
        metavar="K/N",
        help="run only the K-th of N independent parts of the plan (each cell's chain whole; shared "
        "prerequisites may run in several shards); `iree-matrix merge` joins the shards' results",
    )
    where = m.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run each stage as a task on this Dask scheduler's workers (tcp://host:8786); results.jsonl "
        "is written here only; the store must be shared (--store)",
    )
    where.add_argument(
        "--cluster", metavar="local:N", help="start N Dask worker processes on this machine and run on them"
    )
    m.add_argument(
        "--store",
        type=Path,
        default=None,
        help="with --scheduler/--cluster: the content-addressed store every worker reads and writes at "
        "the same path (default: CACHE/store)",
    )


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="where results.jsonl and the report go (default: runs/<matrix file name>; the published "
        "results/ are written only by `iree-matrix publish`)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="wheelhouse, environments and artifacts (default: ~/.cache/iree-matrix, or $IREE_MATRIX_CACHE)",
    )


def _interruptible() -> None:
    """Ctrl-C and SIGTERM both stop a run the same careful way (children killed, finished records
    kept). Installed explicitly: a process started in the background of a non-interactive shell
    inherits SIGINT as ignored, and Python then installs no handler of its own."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)


def entry() -> NoReturn:
    """The console script. After an interrupt it leaves at once: every record is already on disk
    (fsynced), and the interpreter's own teardown takes half a second on a busy machine, a quarter of
    the 2 s an interrupted run has to end in."""
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad option (one line, printed by _Parser)
        return exc.code if isinstance(exc.code, int) else 2
    if threading.current_thread() is threading.main_thread():
        _interruptible()
    try:
        command = next((c for c in COMMANDS if c.NAME == args.verb), None)
        if command is not None:
            return command.run(args)
        if args.verb in ("matrix", "tune"):
            return cmd_matrix(args)
        if args.verb == "search":
            return cmd_search(args)
        if args.verb == "armv6-smoke":
            return cmd_armv6_smoke(args)
        if args.verb == "doctor":
            return cmd_doctor(args)
        if args.verb == "images":
            return cmd_images(args)
        if args.verb == "publish":
            return cmd_publish(args)
        if args.verb == "results":
            return cmd_results(args)
        if args.verb == "merge":
            return cmd_merge(args)
        if args.verb == "query":
            return cmd_query(args)
        if args.verb == "show":
            return cmd_show(args)
        return cmd_report(args)
    except UserError as exc:
        print(f"iree-matrix: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("iree-matrix: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `iree-matrix matrix --list | head`
        sys.stderr.close()
        return 0
    except OSError as exc:  # a disk that is full or read-only where no writer said so itself
        if not (_files.is_disk_full(exc) or exc.errno in (errno.EACCES, errno.EPERM)):
            raise
        where = Path(exc.filename).parent if exc.filename else Path.cwd()
        print(f"iree-matrix: error: {_files.storage_error(where, exc)}", file=sys.stderr)
        return 1


def _load_plan(args: argparse.Namespace, default_matrix: str, transform=None, adjust=None):
    """The matrix file and its (selected) plan, shared by `matrix`, `search` and `armv6-smoke`.
    `transform` rewrites the file's matrix (armv6-smoke: its boards run on a runtime built from
    source), `adjust` the matrix once its profiles are chosen (the flag search's rounds)."""
    from iree_matrix import shards

    if args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: expected 1 or more")
    shard = shards.parse(args.shard) if getattr(args, "shard", None) is not None else None
    # Checked before planning, so `--list` refuses them too rather than ignoring them.
    if getattr(args, "cluster", None) is not None:
        from iree_matrix.distributed import parse_cluster

        parse_cluster(args.cluster)
    elif getattr(args, "store", None) is not None and getattr(args, "scheduler", None) is None:
        raise UserError("--store is for --scheduler/--cluster; a run here keeps its store in CACHE/store")
    matrix_path = args.matrix or _resources.matrix_dir() / default_matrix
    _default_results_dir(args, matrix_path)
    cache = args.cache or default_cache()
    if cache.exists() and not cache.is_dir():
        raise UserError(f"--cache {cache}: exists and is not a directory; name a directory (or a new path)")
    resolver = _resolver(args)
    matrix = spec.load(matrix_path, models=args.model, resolver=resolver)
    for name in matrix.redefined:
        print(
            f"note: {matrix_path} redefines the built-in profile {name!r} ([profile.{name}]): its cells "
            f"named {name!r} use the file's flags, not what the published {name!r} columns mean"
        )
    given_sources = _iree_sources_given(args.iree_source)
    matrix = _with_iree_sources(matrix, given_sources)
    if transform is not None:
        matrix = transform(matrix)
    _check_iree_sources(matrix, args.iree_source)
    if getattr(args, "profiles", None):
        matrix = spec.with_profiles(matrix, [p.strip() for p in args.profiles.split(",") if p.strip()])
    if adjust is not None:
        matrix = adjust(matrix)
    the_plan = plan.select(plan.build(matrix, _runtime_dirs(args)), args.select)
    if shard is not None:
        the_plan = shards.select(the_plan, shard)
    _check_retime(the_plan, args.retime)
    if not args.list or shard is not None:
        # What the selectors meant, kept so a re-run plans the same releases; `--list --shard` keeps
        # it too, so a CI plan job can hand every shard the same release list.
        resolver.save()
    args.releases_used = resolver.describe()
    return matrix_path, matrix, the_plan


def _iree_sources_given(given: Sequence[str]) -> list[str]:
    """--iree-source's values, else $IREE_MATRIX_IREE_SOURCE's (the same syntax, space-separated)."""
    import shlex

    from iree_matrix.runtime_build import SOURCE_ENV

    return list(given) or shlex.split(os.environ.get(SOURCE_ENV, ""))


def _with_iree_sources(matrix: spec.MatrixSpec, given: Sequence[str]) -> spec.MatrixSpec:
    """`--iree-source [RELEASE=]SRC` over the matrix's `iree_source`; a local source must exist."""
    import dataclasses

    from iree_matrix import runtime_build, versions

    sources = dict(matrix.iree_sources)
    for item in given:
        release, sep, source = item.partition("=")
        if not sep or not versions.is_valid(release) or release.startswith(("/", ".")):
            release, source = "*", item
        if not source.startswith("git+"):
            source = str(Path(source).expanduser().resolve())
        runtime_build.source_digest(source)  # a missing or malformed source: a one-line error now
        if release == "*":
            sources = {r: s for r, s in sources.items() if r == "*"}  # the one source for every release
        sources[release] = source
    return dataclasses.replace(matrix, iree_sources=sources)


def _check_iree_sources(matrix: spec.MatrixSpec, given: Sequence[str]) -> None:
    from iree_matrix import versions

    if given and not any(versions.is_source_runtime(c.runtime) for c in matrix.cells):
        raise UserError(
            f"--iree-source: {matrix.path} has no runtime built from source; add one to its runtime axis, "
            'e.g. runtime = ["3.9.0", "src:3.9.0"]'
        )


def _default_results_dir(args: argparse.Namespace, matrix_path: Path) -> None:
    from iree_matrix.publish import run_dir

    if getattr(args, "results_dir", None) is None:
        args.results_dir = run_dir(matrix_path)
    if args.results_dir.exists() and not args.results_dir.is_dir():
        raise UserError(f"--results-dir {args.results_dir}: exists and is not a directory")


def _resolver(args: argparse.Namespace) -> releases.Resolver:
    """Release selectors are resolved against the index once and kept beside the results."""
    results_dir = getattr(args, "results_dir", None) or Path("results")
    return releases.Resolver(results_dir / "releases.json", refresh=getattr(args, "refresh_releases", False))


_STATES = {
    Status.OK: "done", Status.SKIP: "done (skip)", Status.FAIL: "failed", Status.TIMEOUT: "failed (timeout)",
    Status.MISMATCH: "failed (mismatch)", Status.NOT_RUN: "not run",
}  # fmt: skip


def _with_states(described: str, log_path: Path) -> str:
    """`--list` with each job's state from the run's own log (done / failed / not run / pending)."""
    if not log_path.is_file():
        return described
    latest = ResultsLog(log_path).latest()
    lines = described.splitlines()
    states = [
        _STATES.get(latest[j].status, "?") if j in latest else "pending"
        for j in (ln.strip() for ln in lines[1:])
    ]
    counts = ", ".join(f"{states.count(s)} {s}" for s in dict.fromkeys(states))
    body = [f"{line}  [{state}]" for line, state in zip(lines[1:], states)]
    return "\n".join([f"{lines[0]} ({counts}, from {log_path})", *body])


def _check_retime(the_plan: plan.Plan, globs: Sequence[str]) -> None:
    """A --retime that matches no timed job would silently re-measure nothing: say so instead."""
    from iree_matrix import stages

    timed = [job.id for job in the_plan.jobs if stages.get(job.stage).exclusive]
    for glob in globs:
        if not any(fnmatch.fnmatchcase(job_id, glob) for job_id in timed):
            raise UserError(
                f"--retime {glob!r} matches no timed job (run, export, peer, dispatches); "
                f"`--list` prints the ids (e.g. {timed[-1] if timed else '-'})"
            )


def cmd_matrix(args: argparse.Namespace) -> int:
    matrix_path, matrix, the_plan = _load_plan(args, "bench.toml" if args.verb == "tune" else "default.toml")
    if args.list:
        print(f"{matrix_path}: {len(matrix.cells)} cells")
        print(_with_states(plan.describe(the_plan), args.results_dir / "results.jsonl"))
        if args.releases_used:
            print("releases (what the version axes mean):", *args.releases_used, sep="\n")
        return 0
    cache = args.cache or default_cache()
    results = ResultsLog(args.results_dir / "results.jsonl")
    if getattr(args, "shard", None) and not the_plan.jobs:
        # More shards than chains: an empty log, so `merge` of every shard's directory still works.
        args.results_dir.mkdir(parents=True, exist_ok=True)
        results.path.touch()
        print(f"shard {args.shard}: no jobs (the plan has fewer chains than shards); wrote {results.path}")
        return 0
    code, summary = _run(matrix_path, matrix, the_plan, args, cache, results)
    if args.verb == "tune":
        from iree_matrix.report.performance import render_tune

        print("\n".join(render_tune(summary.records.values())) or "nothing to compare: one profile per model")
    return code


def cmd_search(args: argparse.Namespace) -> int:
    from iree_matrix import search
    from iree_matrix.report.performance import render_search

    knobs = [k.strip() for k in args.knobs.split(",") if k.strip() and k.strip() != search.BASELINE]
    args.profiles = ",".join([search.BASELINE, *knobs])

    def round_one(matrix: spec.MatrixSpec) -> spec.MatrixSpec:
        # An export variant is itself a knob: measured under default only in the first round.
        cells = tuple(
            c for c in matrix.cells if search.VARIANT not in c.model or c.profile == search.BASELINE
        )
        return dataclasses.replace(matrix, cells=cells)

    matrix_path, matrix, the_plan = _load_plan(args, "search.toml", adjust=round_one)
    if args.list:
        print(f"{matrix_path}: round 1, {len(matrix.cells)} cells (round 2 is planned from its results)")
        print(plan.describe(the_plan))
        return 0
    cache = args.cache or default_cache()
    results = ResultsLog(args.results_dir / "results.jsonl")
    print(f"== flag search, round 1: default and {len(knobs)} knobs one at a time, export variants")
    code, summary = _run(matrix_path, matrix, the_plan, args, cache, results)
    if code == EXIT_INTERRUPTED:  # round 1 incomplete: the same command resumes it
        return code
    table = search.effects(search.candidates(summary.records.values()))
    combos = search.combinations(table)
    if combos:
        extra = [
            dataclasses.replace(c, profile=combos[(c.model, c.compiler)])
            for c in matrix.cells
            if (c.model, c.compiler) in combos and c.profile == search.BASELINE
        ]
        print(f"== flag search, round 2: the winners combined ({', '.join(sorted(set(combos.values())))})")

        def round_two(loaded: spec.MatrixSpec) -> spec.MatrixSpec:
            return spec.with_cells(round_one(loaded), extra)

        if args.retime:  # round 1 re-measured what it had to; round 2 re-measures only its own cells
            args.retime = sorted({f"run:*/{profile}" for profile in combos.values()})
        matrix_path, matrix, the_plan = _load_plan(args, "search.toml", adjust=round_two)
        code2, summary = _run(matrix_path, matrix, the_plan, args, cache, results)
        if code2 == EXIT_INTERRUPTED:  # as in round 1: no verdicts from a half-measured round
            return code2
        code = code or code2
    else:
        print("== flag search: no two changes both beat default beyond noise; no round 2")
    print("\n".join(render_search(summary.records.values())))
    return code


def cmd_armv6_smoke(args: argparse.Namespace) -> int:
    from iree_matrix import armv6_smoke

    cache = args.cache or default_cache()
    transform = None if args.armv6_runtime else (lambda m: armv6_smoke.on_source_runtime(m, cache))
    matrix_path, matrix, the_plan = _load_plan(args, "armv6.toml", transform)
    if not args.armv6_runtime:
        # The static build is what the boards run; its dynamic twin is built too, for what it would
        # need from the board's C library (and the native build whose host tools both need).
        the_plan = armv6_smoke.with_dynamic_twins(the_plan, matrix)
    results = ResultsLog(args.results_dir / "results.jsonl")
    if args.list:
        print(plan.describe(the_plan))
        return 0
    hello = None
    if not args.no_hello:
        print("== armv6 toolchain: C hello world, static and dynamic, under qemu ARM1176")
        hello = armv6_smoke.hello(cache, results)
        print(armv6_smoke.hello_table(hello), end="\n\n")
    print(
        "== IREE's runtime from source (native for its host tools, armv6 static and dynamic; stored after "
        "the first time), then the armv6 matrix: compile for arm1176jzf-s (+vfp2), check the kernels, run"
    )
    code, summary = _run(matrix_path, matrix, the_plan, args, cache, results)
    print("\n== runtime builds")
    print(armv6_smoke.builds_table(summary.records))
    print("\n== armv6 summary")
    print(armv6_smoke.summary_table(summary.records))
    if hello is not None and hello.status is not Status.OK:
        return 1
    return code


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


def _run(matrix_path, matrix, the_plan, args, cache: Path, results: ResultsLog):
    """Execute a plan, print the summary, keep manifests, write the report: (exit code, summary)."""
    from iree_matrix.envs import BACKENDS, choose
    from iree_matrix.execute import Executor, Options

    backend, why = choose(args.backend)
    if backend == "venv":
        from iree_matrix import interpreters

        interpreters.check_plan(the_plan.jobs, matrix.interpreters)
    print(f"iree-matrix {__version__}: {matrix_path}, {plan.describe(the_plan).splitlines()[0]}")
    print(f"backend: {backend} ({why}); cache: {cache}; results: {results.path}")
    options = Options(jobs=args.jobs, retry_failed=args.retry_failed, retime=tuple(args.retime))
    if getattr(args, "scheduler", None) is not None or getattr(args, "cluster", None) is not None:
        from iree_matrix import distributed

        executor = distributed.for_cli(args, matrix, the_plan, cache, results, backend, options)
    else:
        if getattr(args, "store", None) is not None:
            raise UserError("--store is for --scheduler/--cluster; a run here keeps its store in CACHE/store")
        executor = Executor(
            matrix,
            the_plan,
            cache=cache,
            results=results,
            backend=BACKENDS[backend](cache, matrix),
            options=options,
        )
    summary = executor.run()
    if hasattr(executor, "placement"):
        print(executor.placement_line())
    _print_summary(summary, cache, args.results_dir)
    if summary.interrupted:  # out within 2 s: the report only if it renders at once
        if any(True for _ in results):
            _write_report_if_quick(args.results_dir)
        return EXIT_INTERRUPTED, summary
    _keep_manifests(summary.records.values(), args.results_dir / "manifests")
    if any(True for _ in results):
        _write_report(args.results_dir)
    failed = summary.failures()
    if failed:
        strict = getattr(args, "strict", False)
        print(
            f"{len(failed)} stage(s) failed, timed out or mismatched (recorded results, listed above); "
            + ("exit 1 (--strict)" if strict else "exit 0 (pass --strict to exit 1)")
        )
        return (1 if strict else 0), summary
    if summary.answers():
        print("no failures (the refusals above are answers; --strict exits 1 only on failures)")
    return 0, summary


def _keep_manifests(records, directory: Path) -> None:
    """Each image's manifest beside the results that name it, so they travel together."""
    for record in records:
        manifest = Path(record.env.get("manifest") or "")
        if manifest.name and manifest.is_file() and not (directory / manifest.name).exists():
            directory.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, directory / manifest.name)


def _print_summary(summary, cache: Optional[Path] = None, results_dir: Optional[Path] = None) -> None:
    from iree_matrix.progress import headline

    print(
        f"\n{len(summary.records)} jobs in {summary.seconds:.0f} s: {summary.tally()} "
        f"({summary.executed} executed, {len(summary.reused)} reused from earlier runs)"
    )
    answers = summary.answers()
    if answers:
        print(f"  {len(answers)} cross cell(s) refused by the runtime: answers, not failures (see the cross)")
    problems = summary.failures()
    for record in sorted(problems, key=lambda r: r.job):
        first = headline(record.message, cache)
        print(f"  {record.status.value:<8} {record.job}\n           {record.error_class}: {first}")
    if (problems or answers) and results_dir is not None:
        where = f" --results-dir {results_dir}" + (f" --cache {cache}" if cache != default_cache() else "")
        print(f"the whole message and the logs of one: iree-matrix show JOB{where}")
    if summary.interrupted:
        print("interrupted: finished stages are saved; run the same command again to resume")


def _write_report(results_dir: Path, say: Callable[[str], None] = print) -> Path:
    from iree_matrix import answers, compat
    from iree_matrix.report import site, write_compatibility

    source = results_dir / "results.jsonl"
    out = write_compatibility(source, results_dir / "COMPATIBILITY.md")
    say(f"report: {out}")
    say(f"answers: {compat.write(answers.read(source), results_dir / compat.FILENAME, source)}")
    say(f"site: {site.write(source, results_dir / site.SITE_DIR)}")
    from iree_matrix._files import write_atomically
    from iree_matrix.report import boards

    if boards.has_boards(ResultsLog(source)):
        text = boards.render_markdown(ResultsLog(source), str(source))
        say(f"boards: {write_atomically(results_dir / boards.FILENAME, text)}")
    return out


# An interrupted run exits within 2 s (README): the report, site and answers are rendered only if they
# take less than this, in a thread left behind otherwise (every file is written atomically).
QUICK_REPORT_SECONDS = 0.5


def _write_report_if_quick(results_dir: Path, budget: float = QUICK_REPORT_SECONDS) -> bool:
    said: list[str] = []
    done = threading.Event()

    def render() -> None:
        _write_report(results_dir, said.append)
        done.set()

    threading.Thread(target=render, name="report", daemon=True).start()
    if done.wait(budget):
        print("\n".join(said))
        return True
    print(
        f"report not rendered (interrupted); render it with: iree-matrix report --results-dir {results_dir}"
    )
    return False


def cmd_doctor(args: argparse.Namespace) -> int:
    from iree_matrix import daemon, doctor

    matrix = spec.load(args.matrix or _resources.matrix_dir() / "default.toml", resolver=_resolver(args))
    pythons = sorted({cell.python for cell in matrix.cells})
    checks = doctor.run_checks(args.cache or default_cache(), pythons)
    print(f"iree-matrix {__version__} doctor ({doctor.env_summary()})")
    print(doctor.render(checks))
    backend = args.backend if args.backend != "auto" else ("docker" if daemon.state().ok else "venv")
    return doctor.exit_code(checks, backend)


def cmd_images(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from iree_matrix import image_inventory

    matrix_path = args.matrix or _resources.matrix_dir() / "default.toml"
    _default_results_dir(args, matrix_path)
    matrix = spec.load(matrix_path, resolver=_resolver(args))
    cache = args.cache or default_cache()
    if args.action == "build":
        args.backend, args.jobs, args.retry_failed, args.retime = "docker", 1, False, []
        the_plan = plan.select(plan.build(matrix), ["install:*"])
        results = ResultsLog(args.results_dir / "results.jsonl")
        return _run(matrix_path, matrix, the_plan, args, cache, results)[0]
    the_plan = plan.build(matrix)
    if args.action == "prune":
        removed = image_inventory.prune(matrix, the_plan, cache, everything=args.all)
        print("\n".join(f"removed {tag}" for tag in removed) or "nothing to remove")
        return 0
    rows = image_inventory.inventory(matrix, the_plan, cache)
    table = [(r.env, r.state, r.tag, f"{r.size_mb:.0f} MB" if r.size_mb else "", r.detail) for r in rows]
    print(tabulate(table, headers=["environment", "state", "image", "size", "detail"]))
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from iree_matrix.publish import publish

    written = publish(args.run, args.to)
    print(
        f"published {args.run} -> {args.to}: "
        + ", ".join(str(p) for p in written[:3])
        + (" …" if len(written) > 3 else "")
    )
    args.results_dir, args.performance = args.to, _has_performance(args.to)
    return cmd_report(args)


def _has_performance(results_dir: Path) -> bool:
    return any(r.stage in ("peer", "dispatches") for r in ResultsLog(results_dir / "results.jsonl"))


def cmd_results(args: argparse.Namespace) -> int:
    from iree_matrix.publish import forget

    removed, kept = forget(args.results_dir, args.globs)
    print(
        f"{args.results_dir}/results.jsonl: removed {removed} records, kept {kept} "
        "(the previous file is results.jsonl.bak)"
    )
    _write_report(args.results_dir)
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from iree_matrix.merge import merge

    merged = merge(args.dirs, args.to)
    print(
        f"merged {len(args.dirs)} result logs into {args.to / 'results.jsonl'}: "
        f"{len(merged.records)} records ({merged.inputs} read, {merged.duplicates} duplicates dropped)"
    )
    if merged.records:
        _write_report(args.to)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    import json

    from iree_matrix import answers, query

    path = args.results_dir / "results.jsonl"
    if not path.is_file():
        raise UserError(f"{path}: no such results file (pass --results-dir, e.g. results or runs/default)")
    records = answers.read(path)
    if args.question == "load":
        answer = query.load(records, args.compiler, args.runtime)
    elif args.question == "export":
        answer = query.export(records, args.torch, args.turbine, args.python)
    else:
        answer = query.model(records, args.name)
    print(json.dumps(answer.as_json(), indent=1) if args.json else answer.text())
    return 0 if answer.measured else 1


def cmd_show(args: argparse.Namespace) -> int:
    import json

    from iree_matrix.execute import job_log
    from iree_matrix.store import Store

    path = args.results_dir / "results.jsonl"
    if not path.is_file():
        raise UserError(f"{path}: no such results file (pass --results-dir, e.g. runs/default)")
    latest = ResultsLog(path).latest()
    matches = [job for job in latest if job == args.job] or sorted(
        job for job in latest if fnmatch.fnmatchcase(job, args.job)
    )
    if len(matches) != 1:
        near = sorted(j for j in latest if args.job.split(":")[-1].split("/")[0] in j)[:5]
        what = "no job" if not matches else f"{len(matches)} jobs"
        hint = f"; e.g. {', '.join(near)}" if near and not matches else ""
        listing = f": {', '.join(matches[:5])}{' …' if len(matches) > 5 else ''}" if matches else hint
        raise UserError(f"{path}: {what} matching {args.job!r}{listing}")
    record = latest[matches[0]]
    cache = args.cache or default_cache()
    print(
        f"{record.job}\n  status: {record.status.value}"
        + (f" ({record.error_class})" if record.error_class else "")
    )
    if record.blocked_by:
        print(f"  blocked by: {record.blocked_by}  (iree-matrix show '{record.blocked_by}')")
    for name in ("key", "started", "finished", "seconds"):
        if getattr(record, name):
            print(f"  {name}: {getattr(record, name)}")
    if record.env:
        print(f"  env: {record.env.get('id', '')} ({record.env.get('backend', '')})")
    if record.command:
        print(f"  command: {' '.join(record.command)}")
    for name, value in sorted(record.metrics.items()):
        print(f"  {name}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")
    logs = [job_log(cache, record.job)] + (
        [job_log(cache, record.job, record.started)] if record.started else []
    )
    if record.key:
        logs.append(Store(cache / "store").entry_path(record.stage, record.key) / "log.txt")
    present = [log for log in logs if log.is_file() and log.stat().st_size]
    print("  logs: " + (", ".join(str(log) for log in present) or f"none under {cache}"))
    if record.message:
        print("\n" + record.message.rstrip())
    if args.log and present:
        print(f"\n--- {present[-1]}\n" + present[-1].read_text(errors="replace").rstrip())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    _write_report(args.results_dir)
    if args.performance:
        from iree_matrix.report.performance import write_performance

        out = args.results_dir / "PERFORMANCE.md"
        lines = write_performance(args.results_dir / "results.jsonl", out)
        print(
            "\n".join(lines) + f"\nreport: {out}" if lines else "no performance results yet: `nox -s bench`"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
