"""`iree-matrix show JOB`: one job's record in full, with where its logs are."""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shlex
from pathlib import Path
from typing import Optional

from iree_matrix.commands.option_types import taking
from iree_matrix.commands.options import CACHE, COMMANDS, JOB, JOBS_RESULTS, LOG
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.results import Record, latest_by_job, no_log
from iree_matrix.envs.cache_usage import default_cache
from iree_matrix.execution.workflow import recorded_cache

NAME = "show"
HELP = "one job's record in full: status, the tool's whole message, its logs; --commands: what it ran"
add_arguments = taking(
    JOB, JOBS_RESULTS, CACHE.but(help="where its logs are (default: the run's cache)"), LOG, COMMANDS
)


def main(args: argparse.Namespace) -> int:
    results_dir = JOBS_RESULTS.of(args) or Path("results")
    return run(JOB.of(args), results_dir, CACHE.of(args), log=LOG.of(args), commands=COMMANDS.of(args))


def run(
    job: str, results_dir: Path, given_cache: Optional[Path], log: bool = False, commands: bool = False
) -> int:
    """Print the record of `job` in `results_dir`'s log, with its logs (`log`: the newest in full), or
    (`commands`) the command lines its cell ran."""
    from iree_matrix.findings import results_folder

    results = results_folder.load(results_dir, None)
    path = results.source
    if not path.is_file():
        raise UserError(no_log(path, "runs/default"))
    record = _one(latest_by_job(results.logged), job, path)
    recorded, store = recorded_cache(results_dir)  # the cache the run itself used
    cache = given_cache or recorded or default_cache()
    if given_cache is not None or store is None:
        store = CacheLayout(cache).store
    if commands:
        from iree_matrix.stages import shell_commands

        print(shell_commands.cell_commands(record, results.logged, store, cache))
        return 0
    _print(record, cache, store, log)
    return 0


def _one(latest: dict[str, Record], job: str, path: Path) -> Record:
    """The one job `job` names (its id, or a glob matching one), else a one-line error."""
    matches = [j for j in latest if j == job] or sorted(j for j in latest if fnmatch.fnmatchcase(j, job))
    if len(matches) != 1:
        near = sorted(j for j in latest if job.split(":")[-1].split("/")[0] in j)[:5]
        what = "no job" if not matches else f"{len(matches)} jobs"
        hint = f"; e.g. {', '.join(near)}" if near and not matches else ""
        listing = f": {', '.join(matches[:5])}{' …' if len(matches) > 5 else ''}" if matches else hint
        raise UserError(f"{path}: {what} matching {job!r}{listing}")
    return latest[matches[0]]


def _print(record: Record, cache: Path, store: Path, with_log: bool) -> None:
    from iree_matrix.core.model.store import Store
    from iree_matrix.execution.execute import job_log

    print(
        f"{record.job}\n  status: {record.status.value}"
        + (f" ({record.error_class})" if record.error_class else "")
    )
    if record.blocked_by:
        print(f"  blocked by: {record.blocked_by}  (iree-matrix show {shlex.quote(record.blocked_by)})")
    for name in ("key", "started", "finished", "seconds"):
        if getattr(record, name):
            print(f"  {name}: {getattr(record, name)}")
    if record.env:
        print(f"  env: {record.env.get('id', '')} ({record.env.get('backend', '')})")
    if record.command:
        print(f"  command: {shlex.join(record.command)}")  # safe to paste: a record's words never expand
    for name, value in sorted(record.metrics.items()):
        print(f"  {name}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")
    logs = [job_log(cache, record.job)] + (
        [job_log(cache, record.job, record.started)] if _plain(record.started) else []
    )
    # A received record's key chooses no host file: its key and stage must each name one folder.
    if all(_ONE_PART.fullmatch(part or "") for part in (record.key, record.stage)):
        logs.append(Store(store).entry_path(record.stage, record.key) / "log.txt")
    present = [log for log in logs if log.is_file() and log.stat().st_size]
    print(f"  sections drawn from {record.stage} records: " + (section_titles(record.stage) or "none"))
    print("  logs: " + (", ".join(str(log) for log in present) or f"none under {cache}"))
    if record.message:
        print("\n" + record.message.rstrip())
    if with_log and present:
        print(f"\n--- {present[-1]}\n" + present[-1].read_text(errors="replace").rstrip())


# One folder (a store key, a stage): no "/", no leading dot ("..").
_ONE_PART = re.compile(r"[A-Za-z0-9_+@~-][A-Za-z0-9._+@~-]{0,199}")


def _plain(started: Optional[str]) -> bool:
    """A record's `started` that may name its log's file (`job_log`): a time, no folder or "..": a
    received record's fields never choose which host file `show --log` prints."""
    return bool(started) and "/" not in (started or "") and not (started or "").startswith(".")


def section_titles(stage: str) -> str:
    """The report's sections that read `stage`'s records: each document's, its own and the stages'."""
    from iree_matrix.report import compatibility, performance

    found = [*compatibility.sections(), *performance.sections()]
    return "; ".join(f"{s.document.value} § {s.title}" for s in found if stage in s.stages)
