"""`iree-matrix merge DIR... --to OUT`: the results of shards (or machines) as one log, from each
input's latest record per job. Per job: the same key and status is one result (the first to finish
kept, so the order of the inputs does not matter); the same key with another status is a conflict,
an error naming both files, and nothing is written; other keys, or a timed stage from two machines,
are all kept, oldest first, except one machine's older record of a job it ran again on changed
inputs; a `not_run` (or a GPU's "no device here" skip) gives way to the job executed elsewhere.
OUT's own log is an input (merging shard by shard equals merging at once), its unreadable lines are
kept verbatim with the previous file as results.jsonl.bak, and OUT is locked meanwhile."""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional

from iree_matrix import stages
from iree_matrix.core import console, input_files
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.console import Say
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.outcome import now
from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.core.system import locks, shared_files
from iree_matrix.findings import bundles
from iree_matrix.findings.publish import MANIFESTS, RELEASES, RESULTS, rendering
from iree_matrix.iree import devices

logger = console.logger(__name__)


NEWER_RUN = "a newer run of the same job on the same machine"


@dataclasses.dataclass(frozen=True)
class Merged:
    records: tuple[Record, ...]
    inputs: int  # records read (latest per job, per input)
    # The records dropped, by why (together `inputs - len(records)`):
    duplicates: int  # the same result as another input's (same key and status)
    remeasured: int = 0  # an older copy of a stage another input timed again under its key (--retime)
    executed_elsewhere: int = 0  # "not run" here, where another input ran the job
    superseded: int = 0  # one machine's older record of a job it ran again under a new key
    skipped: int = 0  # received lines no record was read from (each said when read): not in `inputs`

    def count(self) -> str:
        """How many records were kept of how many lines read (a merge's line): "6 records of 7 read, 1
        skipped" where a line was no record (it said "6 of 6 read" when it read 7)."""
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        return f"{len(self.records)} records of {self.inputs + self.skipped} read{skipped}"

    def dropped(self) -> str:
        """What was dropped and why, each kind counted apart in a user's words (a merge's line)."""
        kinds = [
            (self.duplicates, "duplicate", "duplicates", "(the same result in two inputs)"),
            (self.remeasured, "older measurement", "older measurements", "(timed again under the same key)"),
            (self.executed_elsewhere, "not-run record", "not-run records", "(another input ran the job)"),
            (self.superseded, "record", "records", f"superseded by {NEWER_RUN}"),
        ]
        said = [f"{n} {one if n == 1 else many} {why}" for n, one, many, why in kinds if n]
        return "dropped " + ", ".join(said) if said else "nothing dropped"


def merge_records(
    sources: Sequence[tuple[str, Sequence[Record]]],
    histories: frozenset[str] = frozenset(),
    received: Optional[str] = None,
    newest_per_machine: bool = False,
) -> Merged:
    """`sources`: (name for messages, that source's records); pure. A source in `histories` (OUT's own,
    already merged) gives its latest record per job *and key*, so results kept side by side stay kept.
    Records are ordered by when OUT received them, never by their own clocks (a machine whose clock ran
    ahead outranked every later measurement): OUT's own first, in order, then those received now
    (`received`) by their `finished` time. `newest_per_machine`: one machine's records of a job under
    other keys give way to its newest (`merge`); without it all are kept (advise/received_sittings.py)."""
    received = received or now()
    order: dict[int, tuple[int, str, str]] = {}
    per_job: dict[str, list[tuple[str, Record]]] = {}
    # Records an input itself replaced under the same key (`--retime`: a newer measurement of the
    # same stage): another input's copy of the older one gives way to the newer, not the reverse.
    superseded: set[tuple[str, str, str]] = set()
    for name, records in sources:
        latest = {r.job: r for r in records}
        superseded |= {
            (r.job, r.key, r.started or "")
            for r in records
            if r.key and latest[r.job] is not r and latest[r.job].key == r.key
        }
        given = list(({(r.job, r.key): r for r in records} if name in histories else latest).values())
        if name in histories:
            position = {id(r): i for i, r in enumerate(records)}
            order.update((id(r), (0, "", f"{position[id(r)]:012d}")) for r in given)
        else:
            order.update(
                (id(r), (1, min(r.finished or r.started or "", received), r.to_json())) for r in given
            )
        for record in given:
            per_job.setdefault(record.job, []).append((name, record))
    kept: list[Record] = []
    read = sum(map(len, per_job.values()))
    dropped = {"duplicates": 0, "remeasured": 0, "executed_elsewhere": 0, "superseded": 0}
    for job, candidates in per_job.items():
        found = _one_per_result(job, candidates, superseded, order, dropped)
        newest = _newest_per_machine(found, order) if newest_per_machine else found
        dropped["superseded"] += len(found) - len(newest)
        kept += newest
    rank = {stage: i for i, stage in enumerate(stages.names())}
    kept.sort(key=lambda r: (rank.get(r.stage, len(rank)), r.job, order[id(r)]))
    return Merged(tuple(kept), read, **dropped)


def _one_per_result(
    job: str,
    candidates: Sequence[tuple[str, Record]],
    superseded: set[tuple[str, str, str]],
    order: Mapping[int, tuple[int, str, str]],
    dropped: dict[str, int],
) -> list[Record]:
    """One record per result of `job` among the inputs' (name, record) `candidates` (see
    merge_records), counting in `dropped` each record left out, by why."""
    # A `not_run` record, or a GPU run skipped for want of a device, gives way to the same job
    # executed elsewhere (a machine with the device).
    executed = [(n, r) for n, r in candidates if not _unanswered(r)]
    dropped["executed_elsewhere"] += len(candidates) - len(executed) if executed else 0
    chosen: dict[tuple[Optional[str], ...], tuple[str, Record]] = {}
    for name, record in executed or candidates:
        if _same(record) not in chosen:  # (the same object read twice is a duplicate too)
            chosen[_same(record)] = (name, record)
            continue
        other_name, other = chosen[_same(record)]
        if other.status is not record.status:
            raise UserError(
                f"merge: conflicting results for {job} under the same key {record.key[:12]}: "
                f"'{other.status.value}' in {other_name}, '{record.status.value}' in {name}; "
                f"drop the wrong one (iree-matrix results forget '{job}' --results-dir DIR) or re-run "
                "that shard, then merge again"
            )
        replaced = (other.job, other.key, other.started or "") in superseded
        also = (record.job, record.key, record.started or "") in superseded
        dropped["remeasured" if replaced != also else "duplicates"] += 1
        if replaced and not also or (replaced == also and order[id(record)] < order[id(other)]):
            chosen[_same(record)] = (name, record)
    return [record for _, record in chosen.values()]


def _newest_per_machine(records: list[Record], order: Mapping[int, tuple[int, str, str]]) -> list[Record]:
    """One job's records less those of a machine with a newer record of the job under another key (the
    job ran again on changed inputs). Newest is `order`'s, when OUT received it, never a record's own
    clock (a reused stored result keeps the time it was first made). Records that name no machine
    (before `host.instance`), or were not executed, are all kept."""
    newest: dict[tuple[str, str], Record] = {}
    for record in records:
        if (machine := _machine(record)) is None:
            continue
        if (held := newest.get(machine)) is None or order[id(record)] > order[id(held)]:
            newest[machine] = record
    return [r for r in records if (m := _machine(r)) is None or newest[m] is r]


def _machine(record: Record) -> Optional[tuple[str, str]]:
    """The machine that executed `record` (its CPU identity and instance), None when unknown."""
    if not record.key or _unanswered(record) or not record.host.instance:
        return None
    return (record.host.identity, record.host.instance)


def _unanswered(record: Record) -> bool:
    """The record says only that the job could not be tried here (see merge_records)."""
    return record.status is Status.NOT_RUN or (
        record.status is Status.SKIP and devices.device_missing(record.message)
    )


def _same(record: Record) -> tuple[Optional[str], ...]:
    """What makes two records of one job the same result."""
    if record.status is Status.NOT_RUN:
        return ("not_run", record.blocked_by, record.message)
    if not record.key:  # its key could not be computed (the failure is the record): by status
        return ("", record.status.value, record.error_class)
    # timed: two machines of one CPU identity, one key, two measurements ("" from before instances were kept)
    return (record.key, record.host.instance or "") if _timed(record.stage) else (record.key,)


def _timed(stage: str) -> bool:
    try:
        return bool(stages.get(stage).exclusive)
    except (KeyError, ValueError):
        return False


def merge(
    dirs: Sequence[Path],
    to: Path,
    manifests: Optional[bundles.Manifests] = None,
    *,
    wait: bool = False,
    say: Say = logger.info,
) -> Merged:
    """Merge the results of `dirs` (run directories, or results.jsonl files) into `to`, a bundle's
    folder checked against the bundle it came from (`manifests`: the bundles this machine made) before
    anything is written. Another writer of `to` is refused in one line, or with `wait` waited for."""
    to = Path(to)
    if to.exists() and not to.is_dir():
        raise UserError(f"merge --to {to}: exists and is not a directory")
    inputs = [Path(d) if Path(d).suffix == ".jsonl" else Path(d) / RESULTS for d in dirs]
    if missing := [str(p) for p in inputs if not p.is_file()]:
        raise UserError(f"merge: no results file at {', '.join(missing)} (name the directories shards wrote)")
    # A received folder is data: its log is read as the regular file it must be, never through a link
    # (one linked elsewhere was read, and OUT's own linked one had its target overwritten).
    if linked := [str(p) for p in [*inputs, to / RESULTS] if p.is_symlink()]:
        raise UserError(
            f"merge: {', '.join(linked)} is a symbolic link: a results folder's results.jsonl is read and "
            "written only as a regular file in it; name the file it points to instead"
        )
    known = manifests or bundles.Manifests(Path("/nonexistent"))
    checked = {p.resolve(): bundles.read(p, known) for p in inputs if bundles.is_bundle_results(p)}
    for path in inputs:  # the others' records that say a bundle ran them; OUT's own were when merged
        if path.resolve() not in checked and path.resolve() != (to / RESULTS).resolve():
            bundles.vouched(path, ResultsLog(path), known)  # read again under OUT's lock, as it then is
    with locks.results_lock(to, wait=wait, report=say):  # OUT's log read and written by one writer at a time
        return _merge_into(inputs, to, checked)


def _merge_into(inputs: list[Path], to: Path, checked: Mapping[Path, Sequence[Record]] = {}) -> Merged:  # noqa: B006
    target = to / RESULTS
    seen = {p.resolve() for p in inputs}
    if target.is_file() and target.resolve() not in seen:
        inputs.insert(0, target)
    own = frozenset(str(p) for p in inputs if p.resolve() == target.resolve())
    read = [
        (str(p), list(checked[p.resolve()]) if p.resolve() in checked else list(ResultsLog(p)))
        for p in inputs
    ]
    received = now()
    ahead = [
        r.job for name, records in read if name not in own for r in records if (r.finished or "") > received
    ]
    if ahead:  # ordered as received now (`merge_records`), but said: a clock ahead, or a forged date
        logger.warning(
            f"merge: {len(ahead)} received record(s) dated after now ({received}), e.g. {ahead[0][:120]!r}: "
            "ordered as received now, never ahead of the records already here"
        )
    merged = merge_records(read, histories=own, newest_per_machine=True, received=received)
    skipped = sum(len(ResultsLog(p).unreadable()) for p in inputs if str(p) not in own)
    merged = dataclasses.replace(merged, skipped=skipped)
    to.mkdir(parents=True, exist_ok=True)
    # What this iree-matrix cannot read in OUT's own log (a newer schema, a garbage line) is kept
    # verbatim, first, with the previous file beside it: a merge never loses a record.
    kept = ResultsLog(target).unreadable() if target.is_file() else []
    if target.is_file():  # by rename: a results.jsonl.bak linked elsewhere is replaced, never written through
        write_atomically(target.with_name(RESULTS + ".bak"), target.read_bytes())
    if kept:
        logger.warning(
            f"{target}: kept {len(kept)} lines it cannot read, unchanged (the previous file is {RESULTS}.bak)"
        )
    rendering(to, "merge")  # `rendered` once its documents are (commands/merge.py)
    write_atomically(target, "".join(kept) + "".join(r.to_json() + "\n" for r in merged.records))
    for directory in (p.parent for p in inputs):  # each document OUT lacks, as the first input has it
        manifests = directory / MANIFESTS
        listed = manifests.is_dir() and not manifests.is_symlink() and directory.resolve() != to.resolve()
        for source in [directory / RELEASES, *(sorted(manifests.glob("*.json")) if listed else ())]:
            target = to / source.relative_to(directory)
            if not os.path.lexists(target) and (text := _received(source)) is not None:
                write_atomically(target, text)
    return merged


# A received document (releases.json, a manifest) is at most this large.
_RECEIVED_LIMIT = 64 << 20


def _received(path: Path) -> Optional[bytes]:
    """A document of a received results folder, read only as the regular file it must be, never through
    a link (a shard's manifest linked to a root-only file was published); None, said, otherwise."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning(f"{path}: {exc.strerror}: left out")
        return None
    if not stat.S_ISREG(found.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(found.st_mode) else "not a regular file"
        logger.warning(f"{path}: {kind}: a results folder's documents are regular files in it; left out")
        return None
    # A hard link to a root-only file is a regular file too. The folders above are the user's to
    # choose, as the merged folder's are (a root's own shards in /root merge into results/).
    if (unshared := shared_files.problem(path, folders=False)) is not None:
        logger.warning(f"{unshared}; left out")
        return None
    try:
        return input_files.read_bounded(path, _RECEIVED_LIMIT)
    except input_files.InputFileError as exc:
        logger.warning(f"{path}: {exc.reason}: left out")
        return None
