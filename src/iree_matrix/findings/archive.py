"""Timed figures whose CPU identity was not recorded, moved out of a published set into an archive. A
`legacy:` identity ("AMD EPYC" and eight ISA flags) is a Zen 4 and a Zen 5 alike, so its milliseconds
belong to no CPU; what it answers without a clock holds on any. `split` keeps that answer published
and moves the timed metrics (a record that is only a timing leaves whole)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.console import Say
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import LOG
from iree_matrix.core.system import locks

# What a timing is, per stage: the figures and the load they were taken under (the executor's
# TIMING_CONTEXT). A peer record keeps each peer's status and errors, not its times.
TIMING_CONTEXT = ("other_load", "load_average", "steal_cores")
TIMED_METRICS: Mapping[str, tuple[str, ...]] = {
    "run": ("latency_ms", "cpu_ms", "process_cpu_ms", "op_profile", *TIMING_CONTEXT),
    "export": ("eager_ms", "eager_cpu_ms", *TIMING_CONTEXT),
    "peer": TIMING_CONTEXT,
}
PEER_TIMED = ("latency_ms", "cpu_ms", "load_average", "op_profile")
# Stages whose records are a timing and nothing else.
WHOLLY_TIMED = frozenset({"peak", "dispatches"})
RESULTS = LOG


def unidentified(data: Mapping[str, Any]) -> bool:
    """A record whose host names no CPU family/model (a `legacy:` identity)."""
    found = HostIdentity.of(data.get("host"))
    return found.known and found.legacy


def timed(data: Mapping[str, Any]) -> bool:
    """Whether a record (as its JSON) carries a timed figure."""
    metrics = data.get("metrics") or {}
    stage = str(data.get("stage"))
    if stage in WHOLLY_TIMED or any(k in metrics for k in TIMED_METRICS.get(stage, ())):
        return True
    peers = metrics.get("peers") if stage == "peer" else None
    return isinstance(peers, Mapping) and any(
        isinstance(e, Mapping) and any(k in e for k in PEER_TIMED) for e in peers.values()
    )


def split(data: Mapping[str, Any]) -> tuple[Optional[dict[str, Any]], Optional[dict[str, Any]]]:
    """(what the published log keeps, what the archive gets) of one record: (the record, None) unless it
    is an unidentified timing; else its untimed remainder (None: only a timing) and the record."""
    if not timed(data) or not unidentified(data):
        return dict(data), None
    if (stage := str(data.get("stage"))) in WHOLLY_TIMED:
        return None, dict(data)
    metrics = {k: v for k, v in (data.get("metrics") or {}).items() if k not in TIMED_METRICS.get(stage, ())}
    if isinstance(peers := metrics.get("peers"), Mapping):
        metrics["peers"] = {
            name: {k: v for k, v in entry.items() if k not in PEER_TIMED}
            if isinstance(entry, Mapping)
            else entry
            for name, entry in peers.items()
        }
    return {**data, "metrics": metrics}, dict(data)


@dataclasses.dataclass(frozen=True)
class Moved:
    records: int  # records in the published log before
    stripped: int  # kept, without their timings
    removed: int  # only a timing: now in the archive alone
    archive: Path


def _line(data: Mapping[str, Any]) -> str:
    """A record's line as the results log writes it (`Record.to_json`: sorted keys, no spaces)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str) + "\n"


def parsed(line: str) -> Optional[dict[str, Any]]:
    """A results log's line as its record's JSON object, None where it is not one."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def archive_timings(
    results_dir: Path, archive_dir: Path, *, wait: bool = False, say: Say = lambda s: None
) -> Moved:
    """Move the unidentified timings of `results_dir`'s log to `archive_dir`'s (each record once), under
    both directories' writer locks, taken in one order so two such moves never wait for each other."""
    source = Path(results_dir) / RESULTS
    if not source.is_file():
        raise UserError(f"{source}: no such results file (pass the published set's directory)")
    target = Path(archive_dir) / RESULTS
    if target.resolve() == source.resolve():
        raise UserError(f"--to {archive_dir}: the archive must be another directory than {results_dir}")
    with contextlib.ExitStack() as held:
        for directory in sorted({source.parent.resolve(), target.parent.resolve()}):
            held.enter_context(locks.results_lock(directory, wait=wait, report=say))
        return _move(source, target)


def _move(source: Path, target: Path) -> Moved:
    lines = source.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    # (line, what the log keeps, what the archive gets): moved None for a line it cannot parse, or a
    # record with nothing to move
    read = [(line if line.endswith("\n") else line + "\n", parsed(line)) for line in lines]
    rows = [(line, *(split(data) if data is not None else (None, None))) for line, data in read]
    kept = [
        _line(rest) if moved is not None and rest is not None else line
        for line, rest, moved in rows
        if rest is not None or moved is None
    ]
    archived = [line for line, _, moved in rows if moved is not None]
    stripped = sum(1 for _, rest, moved in rows if rest is not None and moved is not None)
    if archived:
        previous = target.read_text(encoding="utf-8") if target.is_file() else ""
        already = set(previous.splitlines(keepends=True))
        new = [line for line in archived if line not in already]
        write_atomically(target, previous + "".join(new))  # the archive first: nothing is lost between
        write_atomically(source, "".join(kept))
    return Moved(len(rows), stripped, len(archived) - stripped, target)
