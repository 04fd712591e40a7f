"""run.py's command line: check the bundle, install its runtime, run each cell in a process of its own
and record it, then the sittings; `--child` and `--worker` are the processes it starts."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fnmatch
import json
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional

from . import gap
from .base import HERE, MANIFEST, MIN_REPETITION_SECONDS, MIN_REPETITIONS, BundleError, now
from .cell import child, run_cell
from .host import identity, nvidia_gpus, slug
from .manifest import has_runtime, install, is_wheel, load_manifest, runtime_for, sha256_of, verify
from .modules import assemble
from .records import append, record, recorded, replace
from .sitting import sittings
from .tools import needs_tools, run_cell_tools, tools_of
from .worker import worker_loop

if TYPE_CHECKING:
    from .base import Json


def _hms(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _figure(result: Json) -> str:
    if not (figure := result.get("cpu_ms") or result.get("latency_ms")):
        return str(result.get("message") or result.get("status", ""))
    what = "CPU" if "cpu_ms" in result else "wall"
    err = f", max abs err {result['max_abs_err']:.2g}" if "max_abs_err" in result else ""
    return f"{figure['median']:.3g} ms {what} per call (n={figure['n']}){err}"


USAGE = "A run bundle's runner: `python3 run.py [--rounds N] [--out DIR] [--cells GLOB] [--list]`."


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--out", type=Path, help="results folder (default: results/<this CPU>-<time> in the bundle)"
    )
    parser.add_argument(
        "--repetitions",
        type=int,
        default=MIN_REPETITIONS,
        help=f"timed repetitions per cell, each >= {MIN_REPETITION_SECONDS} s "
        f"(default and least: {MIN_REPETITIONS})",
    )
    parser.add_argument("--cells", default="*", help="only the cells whose job id matches this glob")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per cell (default 900)")
    parser.add_argument(
        "--list", action="store_true", help="print the cells and this machine's identity, run nothing"
    )
    parser.add_argument("--bundle", type=Path, default=HERE, help=argparse.SUPPRESS)
    parser.add_argument(
        "--rounds",
        type=int,
        default=8,
        help="a sitting's paired rounds (a bundle made with --advise; default 8, least 6)",
    )
    parser.add_argument(
        "--gap",
        type=float,
        help="profile an answer's arm and ONNX Runtime op by op when it took more than GAP times "
        "ONNX Runtime's time (default: the bundle's, 1.2; 0 profiles every arm that can be the answer)",
    )
    parser.add_argument(
        "--allow-plugins",
        action="store_true",
        help="load the bundle's plugin kernels: native code that runs with your rights (named first)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = _parser().parse_args(argv)
    root = args.bundle.resolve()
    try:
        if args.worker:
            return worker_loop(root)
        if args.child:
            cell = next(c for c in load_manifest(root)["cells"] if c["job"] == args.child)
            print(json.dumps(run_cell(root, cell, args.repetitions), default=str), flush=True)
            return 0
        with _stoppable() as stopped_by:
            try:
                code = _run(root, args)
            except KeyboardInterrupt:  # before a cell began (checking the bundle, assembling modules)
                print("run.py: interrupted before any cell was recorded", file=sys.stderr)
                code = 130
        return 128 + stopped_by[0] if code == 130 and stopped_by else code
    except BundleError as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only --out: the records written so far are kept
        print(
            f"run.py: {exc.filename or ''}: {exc.strerror or exc}; the records written so far are kept",
            file=sys.stderr,
        )
        return 1


@contextlib.contextmanager
def _stoppable() -> Iterator[list[int]]:
    """SIGTERM and SIGHUP (a closed ssh session) stop a run as Ctrl-C does: the cell's process and the
    workers are killed and what finished is said (left alone, the cell's process ran on up to --timeout).
    Yields the signal that stopped it (run.py exits 128 + its number)."""
    stopped_by: list[int] = []

    def stop(signum: int, frame: object) -> None:
        if not stopped_by:
            stopped_by.append(signum)
        raise KeyboardInterrupt

    hangup = [signal.SIGHUP] if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN else []  # nohup: on
    before = {sig: signal.signal(sig, stop) for sig in [signal.SIGTERM, *hangup]}
    try:
        yield stopped_by
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _checked_args(args: argparse.Namespace) -> None:
    if args.repetitions < MIN_REPETITIONS:
        raise BundleError(
            f"--repetitions {args.repetitions}: at least {MIN_REPETITIONS} (fewer decide nothing)"
        )
    if not args.timeout > 0:
        raise BundleError(f"--timeout {args.timeout}: a positive number of seconds")
    if args.out is not None:  # else said after the modules were assembled, as "File exists; the
        # records written so far are kept" when none had been
        if blocked := _not_a_folder(args.out):
            raise BundleError(f"--out {args.out}: {blocked}; name a folder (made if missing)")
    if args.gap is not None and not 0 <= args.gap < float("inf"):
        raise BundleError(
            f"--gap {args.gap}: a ratio, 0 or more (0 profiles every arm that can be the answer)"
        )
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise BundleError(
            "numpy is not importable here: `python3 -m pip install numpy` (the one thing "
            "a bundle needs besides Python)"
        ) from None


def plugins_refused(root: Path, manifest: Json, cells: list[Json], allowed: bool) -> str:
    """Why the run may not load the plugin kernels its cells (a sitting's: every cell's) name, ""
    when it may: only with --allow-plugins, each named with its sha256 first (said on stderr)."""
    chosen = manifest["cells"] if manifest.get("sittings") else cells
    plugins = sorted({str(c["plugin"]) for c in chosen if c.get("plugin")})
    named = ", ".join(f"{p} (sha256 {sha256_of(root / p)})" for p in plugins)
    if plugins and allowed:
        print(f"loading the bundle's plugin kernels, native code with your rights: {named}", file=sys.stderr)
    if not plugins or allowed:
        return ""
    return (
        f"this bundle's cells load plugin kernels, native code that runs with your rights: {named}; "
        "trust them as you would a program, then pass --allow-plugins (or leave them out with --cells)"
    )


def _not_a_folder(out: Path) -> str:
    """Why `out` cannot be the results folder ("" when it can): a file there or above it."""
    for path in (out, *out.parents):
        if path.is_dir():
            return ""
        if path.exists() or path.is_symlink():
            return f"{path} is a file, not a folder" if path.is_file() else f"{path} is not a folder"
    return ""


def _host() -> Json:
    """This machine's identity with its GPUs, said in one line."""
    host = identity()
    host["gpus"] = nvidia_gpus()
    name = f"{host['cpu']}, family {host['family']} model {host['model']} stepping {host['stepping']}"
    llvm = f" (LLVM {host['llvm_cpu']})" if host.get("llvm_cpu") else ""
    gpus = "".join(
        f"; GPU {g['name']} (driver {g['driver']}, compute capability {g['compute_capability']})"
        for g in host["gpus"]
    )
    cores = f"{host['cores']} core" + ("" if host["cores"] == 1 else "s")
    print(f"this machine: {name}{llvm}, {cores}{gpus}", file=sys.stderr)
    return host


def _run(root: Path, args: argparse.Namespace) -> int:
    _checked_args(args)
    digest = verify(root)
    manifest = load_manifest(root)
    # Checked before any cell runs: once refused only after every cell had been timed (minutes to
    # hours), its sitting never held and the command to type again the same.
    if manifest.get("sittings") and args.rounds < 6:
        raise BundleError(f"--rounds {args.rounds}: at least 6 (fewer decide nothing)")
    host = _host()
    if not (cells := [c for c in manifest["cells"] if fnmatch.fnmatchcase(c["job"], args.cells)]):
        raise BundleError(
            f"--cells {args.cells!r} matches none of the bundle's {len(manifest['cells'])} cells"
        )
    if args.list:
        for cell in cells:
            print(f"{cell['job']}  [{cell['device']}]")
        return 0
    if refused := plugins_refused(root, manifest, cells, args.allow_plugins):
        raise BundleError(refused)
    t0 = time.monotonic()
    if assembled := assemble(root, manifest):
        print(
            f"{assembled} modules put together from their chunks in {time.monotonic() - t0:.1f} s, each "
            "checked by its sha256",
            file=sys.stderr,
        )
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = (args.out or root / "results" / f"{slug(host)}-{stamp}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    # What the records were made from, beside them; written by rename (a link there is replaced).
    replace(out / MANIFEST, (root / MANIFEST).read_bytes())
    replace(out / "identity.json", (json.dumps(host, indent=1, sort_keys=True) + "\n").encode())
    if _cells(root, manifest, digest, host, cells, out, args) == 130:
        return 130
    if manifest.get("sittings"):
        try:
            over = args.gap if args.gap is not None else float(manifest.get("gap", gap.GAP))
            sittings(root, manifest, digest, host, out, args.rounds, over)
        except KeyboardInterrupt:
            print(
                "interrupted in the sitting: the cells' records are kept; run again for the sitting",
                file=sys.stderr,
            )
            return 130
    print(f"Bring {out} home: iree-matrix merge {out.name} --to DIR")
    return 0


def _cells(
    root: Path,
    manifest: Json,
    digest: str,
    host: Json,
    cells: list[Json],
    out: Path,
    args: argparse.Namespace,
) -> int:
    """Each cell not yet recorded in `out` run and its record appended; 130 when interrupted."""
    results = out / "results.jsonl"
    if not any(has_runtime(manifest, c) for c in cells):
        runtime_for(manifest, cells[0]["runtime"], cells[0].get("machine", ""))  # says which it is for
    done_before = recorded(results, digest, host["identity"])
    if done_before:  # a run interrupted into this folder: what it finished is kept, not redone
        print(f"{len(done_before)} cells already recorded in {results}: not run again", file=sys.stderr)
        cells = [c for c in cells if c["job"] not in done_before]
    print(f"{len(cells)} cells; records go to {results}", file=sys.stderr)
    begun, done = time.monotonic(), 0
    counts: dict[Optional[str], int] = {}
    try:
        for cell in cells:
            started, t0 = now(), time.monotonic()
            wheel, result = _one(root, manifest, cell, args)
            seconds = time.monotonic() - t0
            append(results, record(manifest, digest, host, cell, wheel, result, started, seconds))
            done += 1
            counts[result.get("status")] = counts.get(result.get("status"), 0) + 1
            elapsed = time.monotonic() - begun
            eta = elapsed / done * (len(cells) - done)
            print(
                f"[{done}/{len(cells)} {_hms(elapsed)} ETA {_hms(eta)}] {cell['job']}: "
                f"{result.get('status')}: {_figure(result)}",
                file=sys.stderr,
                flush=True,
            )
    except KeyboardInterrupt:
        print(
            f"interrupted: {done} of {len(cells)} cells recorded in {results}; "
            f"`python3 run.py --out {out}` runs the rest",
            file=sys.stderr,
        )
        return 130
    print(f"{len(cells)} cells: {', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}.")
    return 0


def _one(root: Path, manifest: Json, cell: Json, args: argparse.Namespace) -> tuple[Json, Json]:
    """One cell's (runtime, result): by the wheel's Python binding in a process of its own, or by
    IREE's tools (built from source, or a wheel's own for raw-bits arrays)."""
    try:
        wheel = runtime_for(manifest, cell["runtime"], cell.get("machine", ""))
        runtime = install(root, wheel) if is_wheel(wheel) else None
        if runtime is not None and not needs_tools(cell):
            return wheel, child(root, cell, runtime, args.repetitions, args.timeout)
        tools = tools_of(root, wheel, runtime)
        result = run_cell_tools(root, cell, wheel, tools, args.repetitions, args.timeout)
        result["by_tools"] = True
        return wheel, result
    except BundleError as exc:
        return {}, {"status": "skip", "message": f"not run: {exc}"}
