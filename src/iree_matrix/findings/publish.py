"""The published results (`results/`) apart from a user's runs (`runs/<matrix>/`): `publish` is the one
step that writes a published directory, so a published table is always exactly its own log; `forget`
removes cells from a log. A publish killed halfway leaves `.publish-pending.json` (under the
directory's lock), and the next command (`pending`) finishes it."""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import json
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.core import console
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.console import Say
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.results import LOG, Record, ResultsLog
from iree_matrix.core.system import locks
from iree_matrix.findings.archive import parsed
from iree_matrix.findings.search_descent import DESCENTS

logger = console.logger(__name__)

RUNS_DIR = Path("runs")
PUBLISHED_DIR = Path("results")
RESULTS = LOG
RELEASES = "releases.json"
MANIFESTS = "manifests"


def run_dir(matrix_path: Path) -> Path:
    """Where a user's run of `matrix_path` keeps its records and report: never the published tree."""
    return RUNS_DIR / Path(matrix_path).stem


def publish(run: Path, to: Path) -> list[Path]:
    """Copy a run's records (and manifests, release list, a flag search's descents) into a published
    directory; the caller renders the documents. Returns the files written."""
    run, to = Path(run), Path(to)
    source = check(run, to)
    to.mkdir(parents=True, exist_ok=True)
    backup(to / RESULTS, source.read_bytes())
    written = [_copy_atomically(source, to / RESULTS)]
    # DESCENTS: a flag search's walks (PERFORMANCE.md's descents, advise's search picks).
    written += [
        _copy_atomically(run / name, to / name) for name in (RELEASES, DESCENTS) if (run / name).is_file()
    ]
    for manifest in sorted((run / MANIFESTS).glob("*.json")) if (run / MANIFESTS).is_dir() else []:
        (to / MANIFESTS).mkdir(exist_ok=True)
        written.append(_copy_atomically(manifest, to / MANIFESTS / manifest.name))
    return written


def check(run: Path, to: Path) -> Path:
    """What a publish refuses before it changes anything (a run directory with no records, the
    published directory itself), as a one-line error: the run's results file."""
    source = Path(run) / RESULTS
    if not source.is_file():
        raise UserError(
            f"{source}: no such results file; publish the directory a run wrote (e.g. runs/default)"
        )
    if not any(True for _ in ResultsLog(source)):
        raise UserError(f"{source}: no records to publish")
    if Path(run).resolve() == Path(to).resolve():
        raise UserError(f"publish {run} --to {to}: the run and the published directory are the same")
    return source


PENDING = ".publish-pending.json"


@dataclasses.dataclass(frozen=True)
class Pending:
    """A publish into `to` that was killed before it ended: its run, process and start."""

    to: Path
    run: Optional[Path]  # None: the mark was torn, or a merge's or forget's (`rendering`)
    pid: int
    since: float
    what: str = "publish"  # or "merge", "forget": a command whose documents were not all rendered

    def describe(self) -> str:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        if self.what != "publish":
            return f"the {self.what} into {self.to} (pid {self.pid}, started {started})"
        if self.run is None:
            return f"a publish into {self.to}"
        return f"the publish of {self.run} into {self.to} (pid {self.pid}, started {started})"


def rendering(to: Path, what: str) -> None:
    """Before a merge or forget (`what`) changes `to`'s log, under its lock: its documents are stale
    until `rendered`, and a kill in between leaves the mark for the next command to render them again
    (a kill -9 left compat.json saying "pass" where the log said "mismatch"). A publish's mark is kept."""
    if not (to / PENDING).exists():
        mark = {"what": what, "pid": os.getpid(), "since": time.time()}
        write_atomically(to / PENDING, json.dumps(mark) + "\n")


def rendered(to: Path) -> None:
    """The documents of `to` agree with its log again (`rendering`; a killed publish finished)."""
    (to / PENDING).unlink(missing_ok=True)


@contextlib.contextmanager
def publishing(run: Path, to: Path, *, wait: bool = False, say: Say = lambda s: None) -> Iterator[None]:
    """The block publishes `run` into `to`: marked pending before it starts, unmarked only when it ended
    well, under `to`'s writer lock (another writer refused in one line, or with `wait` waited for). A
    publish refused before it starts (`check`) leaves no mark for the next command to take as killed."""
    check(run, to)
    with locks.results_lock(to, wait=wait, report=say):
        mark = {"run": str(Path(run).resolve()), "pid": os.getpid(), "since": time.time()}
        write_atomically(to / PENDING, json.dumps(mark) + "\n")
        yield
        (to / PENDING).unlink(missing_ok=True)


@contextlib.contextmanager
def pending(to: Path) -> Iterator[Optional[Pending]]:
    """A killed publish into `to`, locked for the block (which finishes it, then calls `rendered`), or
    None: no mark, or its publish still runs."""
    if not (to / PENDING).is_file():
        yield None
        return
    with contextlib.ExitStack() as held:
        running = True  # its publish is running now, unless the lock is taken here
        with contextlib.suppress(locks.ResultsBusy):
            held.enter_context(locks.results_lock(to, grace=0.0))
            running = False
        if running:
            yield None
            return
        try:
            data = json.loads((to / PENDING).read_text())
            what = str(data.get("what") or "publish")
            run = Path(data["run"]) if what == "publish" else None
            found = Pending(to, run, int(data.get("pid") or 0), float(data.get("since") or 0), what)
        except (OSError, ValueError, KeyError, TypeError):
            found = Pending(to, None, 0, 0.0)  # torn: no run to copy from, still re-rendered
        yield found


def marked(dirs: Iterable[Path]) -> list[Path]:
    """Of `dirs` and the published directories below `results/` here, those with a pending mark."""
    candidates = [*dirs, PUBLISHED_DIR]
    if PUBLISHED_DIR.is_dir():
        candidates += [d for d in PUBLISHED_DIR.iterdir() if d.is_dir()]
    return list(dict.fromkeys(Path(d).resolve() for d in candidates if (Path(d) / PENDING).is_file()))


def backup(path: Path, replacement: bytes) -> None:
    """Before `path` (a results log) is replaced by other bytes: the previous file kept as
    `results.jsonl.bak`, and a warning when jobs it had are not in the new one."""
    try:
        previous = path.read_bytes()
    except FileNotFoundError:
        return
    if previous == replacement:
        return
    kept = path.with_name(path.name + ".bak")
    write_atomically(kept, previous)
    old = {r.job for r in ResultsLog(path)}
    new = {
        json.loads(line).get("job")
        for line in replacement.decode("utf-8", "replace").splitlines()
        if line.strip().startswith("{")
    }
    if gone := old - new:
        logger.warning(
            f"{path}: {len(gone)} of its {len(old)} jobs are not in what replaces it "
            f"(e.g. {sorted(gone)[0]}); the previous file is {kept}"
        )


@dataclasses.dataclass(frozen=True)
class Forgotten:
    """What `forget` did: records removed and kept, and the globs that matched none."""

    removed: int
    kept: int
    unmatched: tuple[str, ...] = ()


def forget(
    results_dir: Path, globs: Sequence[str], *, wait: bool = False, say: Say = lambda s: None
) -> Forgotten:
    """Drop every record whose job id or cell matches a glob, the previous file kept as
    results.jsonl.bak, under the directory's writer lock from the read to the rename (a running
    matrix's appends were lost). A glob that matches nothing is said (`unmatched`); when none
    matches, nothing is written and the error says so."""
    path = Path(results_dir) / RESULTS
    if not path.is_file():
        raise UserError(f"{path}: no such results file")
    if path.is_symlink():
        raise UserError(f"{path}: a symbolic link: forget rewrites a results folder's own regular file only")
    with locks.results_lock(results_dir, wait=wait, report=say):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        records = {r.job: r for r in ResultsLog(path)}
        matched = {glob: {job for job, r in records.items() if _matches(glob, r)} for glob in globs}
        if not (doomed := set().union(*matched.values())):
            raise UserError(
                f"{path}: no record matches {', '.join(map(repr, globs))}; nothing forgotten "
                f"({len(records)} records there)"
            )
        kept = [line for line in lines if (parsed(line) or {}).get("job") not in doomed]
        # By rename: a results.jsonl.bak linked elsewhere is replaced, never written through.
        write_atomically(path.with_name(RESULTS + ".bak"), path.read_bytes())
        rendering(Path(results_dir), "forget")  # `rendered` once its documents are
        write_atomically(path, "".join(kept))
    return Forgotten(len(lines) - len(kept), len(kept), tuple(g for g, jobs in matched.items() if not jobs))


def _matches(glob: str, record: Record) -> bool:
    return fnmatch.fnmatchcase(record.job, glob) or fnmatch.fnmatchcase(record.cell, glob)


def _copy_atomically(source: Path, target: Path) -> Path:
    return write_atomically(target, source.read_bytes())
