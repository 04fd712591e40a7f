"""`iree-matrix show JOB`: one job's record in full, with where its logs are."""

from __future__ import annotations

import argparse
import fnmatch
import json
import shlex
from pathlib import Path

from iree_matrix.commands.base import default_cache, recorded_cache
from iree_matrix.commands.shared_options import CACHE, RESULTS_DIR
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.results import ResultsLog

NAME = "show"
HELP = "one job's record in full: status, the tool's whole message, its logs; --commands: what it ran"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", help="a job id as printed (run:tiny_cnn/…), or a glob matching one job")
    RESULTS_DIR.add(parser, default=Path("results"), help="the results set it is in (default: results)")
    CACHE.add(parser, help="where its logs are (default: the run's cache)")
    parser.add_argument("--log", action="store_true", help="also print the job's log")
    parser.add_argument(
        "--commands",
        action="store_true",
        help="print only the command lines the job's cell ran, from the export on, as shell: the "
        "recorded ones (export, iree-compile, iree-run-module with QEMU_CPU), a runtime built here "
        "(cmake) and a firmware (arm-none-eabi-gcc, qemu-system-arm) as this iree-matrix runs them",
    )


def main(args: argparse.Namespace) -> int:
    from iree_matrix.core.store import Store
    from iree_matrix.execution.execute import job_log

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
    recorded, store = recorded_cache(args.results_dir)  # the cache the run itself used
    cache = args.cache or recorded or default_cache()
    if args.cache is not None or store is None:
        store = CacheLayout(cache).store
    if args.commands:
        from iree_matrix.report import recipes

        print(recipes.cell_commands(record, tuple(ResultsLog(path)), store, cache))
        return 0
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
        [job_log(cache, record.job, record.started)] if record.started else []
    )
    if record.key:
        logs.append(Store(store).entry_path(record.stage, record.key) / "log.txt")
    present = [log for log in logs if log.is_file() and log.stat().st_size]
    print(f"  sections drawn from {record.stage} records: " + (section_titles(record.stage) or "none"))
    print("  logs: " + (", ".join(str(log) for log in present) or f"none under {cache}"))
    if record.message:
        print("\n" + record.message.rstrip())
    if args.log and present:
        print(f"\n--- {present[-1]}\n" + present[-1].read_text(errors="replace").rstrip())
    return 0


def section_titles(stage: str) -> str:
    """The report's sections that read `stage`'s records: each document's, its own and the stages'."""
    from iree_matrix.report import compatibility, performance

    found = [*compatibility.sections(), *performance.sections()]
    return "; ".join(f"{s.document.value} § {s.title}" for s in found if stage in s.stages)
