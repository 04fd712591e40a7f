"""Result records and the append-only JSON Lines log they are published in: one record per stage
execution, its schema versioned (`MIGRATIONS` bring older ones up; newer ones are skipped)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import enum
import fcntl
import functools
import json
import os
import shutil
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

from iree_matrix.core import console, excerpts, input_files
from iree_matrix.core.errors import StorageError, UserError
from iree_matrix.core.model import refusals
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.metrics_view import Metrics, figure_problem
from iree_matrix.core.model.records import Labels, name_problem, text_problem
from iree_matrix.core.system import locks

logger = console.logger(__name__)

SCHEMA_VERSION = 2


# MIGRATIONS[n] turns a record of schema n into one of n + 1 (a schema-1 record lacks digests: unknown).
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    0: lambda data: {**data, "schema": 1},
    1: lambda data: {**data, "schema": 2},
}


class RecordError(UserError):
    """A results log holding a line that is no record, read by a command that refuses such a log."""


class SchemaError(ValueError):
    """A record this iree-matrix cannot read as the current schema (newer, or no migration)."""


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as a record of `SCHEMA_VERSION`; a `SchemaError` when it is newer or a step is missing."""
    version = data.get("schema", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise TypeError(f"field 'schema' is {version!r}, expected a version number")
    if version > SCHEMA_VERSION:
        raise SchemaError(f"schema {version} is newer than this iree-matrix understands ({SCHEMA_VERSION})")
    while version < SCHEMA_VERSION:
        if (step := MIGRATIONS.get(version)) is None:
            raise SchemaError(
                f"schema {version} has no migration to {version + 1} (this iree-matrix reads "
                f"{SCHEMA_VERSION}); re-run the stage or use the iree-matrix that wrote it"
            )
        data = step(dict(data))
        if data.get("schema") != version + 1:
            raise SchemaError(f"the migration from schema {version} did not produce schema {version + 1}")
        version += 1
    return data


class Status(str, enum.Enum):
    OK = "ok"
    FAIL = "fail"
    MISMATCH = "mismatch"  # ran, but the outputs differ from torch beyond the model's tolerance
    TIMEOUT = "timeout"
    SKIP = "skip"  # does not apply to this cell (the reason says why)
    NOT_RUN = "not_run"  # a stage it depends on did not succeed (`blocked_by` names it)


@dataclasses.dataclass(frozen=True)
class Record:
    """What one stage did for one job. Everything the report shows comes from these fields."""

    job: str  # "compile:mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"
    stage: str  # install | export | compile | run
    cell: str  # the job id without the stage prefix
    key: str  # content hash of everything that decides the output ("" when not run)
    status: Status
    labels: Mapping[str, str]  # model, python, torch, turbine, compiler, runtime, arch, profile, env
    metrics: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    error_class: Optional[str] = None
    message: Optional[str] = None  # the tool's own words (excerpt), or the skip / not-run reason
    blocked_by: Optional[str] = None  # job id of the failed dependency, for NOT_RUN
    env: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # id, backend, lock_digest, packages
    command: tuple[str, ...] = ()
    host: HostIdentity = dataclasses.field(default_factory=HostIdentity)  # who ran it; its CPU identity
    started: Optional[str] = None  # ISO 8601, UTC
    finished: Optional[str] = None
    seconds: Optional[float] = None  # the stage's own work, None when reused or not run
    tool_version: str = ""
    schema: int = SCHEMA_VERSION

    @functools.cached_property
    def label(self) -> Labels:
        """The labels, typed (`records.Labels`): what every reader reads them through."""
        return Labels.of(self.labels, job=self.job)

    @functools.cached_property
    def metric(self) -> Metrics:
        """The metrics, read as a stage's dataclass: `record.metric.of(RunMetrics).latency_median`."""
        return Metrics(self.metrics)

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        data["command"] = list(self.command)
        data["host"] = self.host.as_dict()
        return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        """A record from its JSON form; TypeError/ValueError naming the field of a wrong type."""
        fields = {f.name for f in dataclasses.fields(cls)}
        data = migrate(dict(data))
        for name, types in _FIELD_TYPES.items():
            if name in data and not isinstance(data[name], types):
                expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
                raise TypeError(f"field {name!r} is {type(data[name]).__name__}, expected {expected}")
        if missing := [name for name in ("job", "stage", "status") if name not in data]:
            raise KeyError(missing[0])
        named = [(name, text_problem(data.get(name) or "", MAX_JOB)) for name in ("job", "cell")]
        for name, problem in [*named, ("stage", name_problem(data["stage"]))]:
            if problem:
                raise ValueError(f"field {name!r} {problem}")
        problem = next(
            (p for name, value in (data.get("metrics") or {}).items() if (p := figure_problem(name, value))),
            figure_problem("seconds", data.get("seconds")),
        )
        if problem:
            raise ValueError(problem)
        for name in ("started", "finished"):  # compared as text for "the newest": "yesterday" won
            try:  # a time as records write it (`2026-11-26T00:06:33+00:00`, datetime's isoformat)
                if data.get(name) is not None:
                    datetime.datetime.fromisoformat(data[name])
            except ValueError:
                raise ValueError(f"field {name!r} is {data[name][:40]!r}, not an ISO 8601 time") from None
        if not all(isinstance(v, str) for v in data.get("labels", {}).values()):
            raise TypeError("field 'labels' has a value that is not a string")
        kwargs = {k: v for k, v in data.items() if k in fields}
        kwargs["status"] = Status(kwargs["status"])
        kwargs["command"] = tuple(kwargs.get("command") or ())
        kwargs["host"] = HostIdentity.of(data.get("host") or {})  # a field it cannot read: unknown
        kwargs["error_class"] = refusals.read_class(
            data["stage"], data.get("error_class"), data.get("message")
        )
        if kwargs.get("message"):  # without the paths of the machine that made them
            kwargs["message"] = excerpts.without_paths(kwargs["message"])
        record = cls(**kwargs)
        _ = record.label  # the typed view, built now: a LabelError naming a label that is none
        return record


# A job id is its stage and its labels (a few of them paths): the longest published is 226 characters.
MAX_JOB = 1024

_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("job", "stage", "cell", "key", "status"), (str,)),
    **dict.fromkeys(("labels", "metrics", "env", "host"), (dict,)),
    **dict.fromkeys(("error_class", "message", "blocked_by", "started", "finished"), (str, type(None))),
    "tool_version": (str,),
    "command": (list, type(None)),
    "seconds": (int, float, type(None)),
}


_TORN = "a torn last line (a write that never finished)"

LOG = "results.jsonl"


def log_path(folder: Path) -> Path:
    return Path(folder) / LOG


def folder_log(folder: Path) -> ResultsLog:
    return ResultsLog(log_path(folder))


def logs_under(root: Path, folders: str = "**") -> list[Path]:
    """The logs of the results folders under `root` that the glob `folders` matches, sorted."""
    return sorted(Path(root).glob(f"{folders}/{LOG}"))


# A record no pipeline stage writes: `armv6-smoke`'s hello-world check, logged beside the armv6 cells.
HELLO_STAGE = "toolchain"
RECORD_ONLY_STAGES = frozenset({HELLO_STAGE})

_WARNED: set[tuple[str, str]] = set()


def warn_once(where: str, what: str) -> None:
    """`where: what` as a warning, once per process: a report reads a log several times."""
    if (where, what) not in _WARNED:
        _WARNED.add((where, what))
        logger.warning(f"{where}: {what}")


class ResultsLog:
    """`results/results.jsonl`: every record ever published, newest last."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, record: Record) -> None:
        """One record, at the end, the file opened under the writer lock: a rewrite's rename would lose it."""
        with locks.results_lock(self.path.parent, wait=True, report=logger.info):
            self._append(record)

    def _append(self, record: Record) -> None:
        line = (record.to_json() + "\n").encode()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
        except IsADirectoryError:
            raise StorageError(f"{self.path}: {_not_a_log(stat.S_IFDIR)}") from None
        try:
            # A FIFO or /dev/null in the log's place takes every record and keeps none: refused.
            if (problem := _not_a_log(os.fstat(fd).st_mode)) is not None:
                raise StorageError(f"{self.path}: {problem}; no record was written")
            fcntl.flock(fd, fcntl.LOCK_EX)
            if (size := os.fstat(fd).st_size) and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # end a torn last line so this record does not join it
            try:
                left = memoryview(line)
                while left:  # a nearly full disk takes part of a write without an error: go on
                    left = left[os.write(fd, left) :]
                os.fsync(fd)
            except OSError as exc:
                os.ftruncate(fd, size)  # a partial record would be torn; the lines before it stay
                raise StorageError(
                    f"{self.path}: cannot append a record ({exc.strerror}): it needs {len(line)} bytes, "
                    f"{shutil.disk_usage(self.path.parent).free} are free; free some space and re-run "
                    "(finished records are kept)"
                ) from None
        finally:
            os.close(fd)

    def __iter__(self) -> Iterator[Record]:
        yield from (record for _, record in self._lines() if record is not None)

    def unreadable(self) -> list[str]:
        """The lines no record can be read from, verbatim: what a rewrite of the log must keep."""
        return [
            line if line.endswith("\n") else line + "\n" for line, record in self._lines() if record is None
        ]

    def _lines(self) -> Iterator[tuple[str, Optional[Record]]]:
        """Every non-empty line and the record read from it (None, with a warning, if none)."""
        for lineno, line, record, problem in self._read():
            if record is None:
                what = "ignoring a torn last line" if problem == _TORN else f"{problem}, skipped"
                warn_once(f"{self.path}:{lineno}", what)
            yield line, record

    def checked(self) -> list[Record]:
        """Every record, or a `RecordError` naming the first unreadable line (it could hide one)."""
        records = []
        for lineno, _, record, problem in self._read():
            if record is None:
                raise RecordError(
                    f"{self.path}:{lineno}: {problem}; nothing was run (this command reads only a log "
                    "whose every line is a record: remove that line, or re-run its stage)"
                )
            records.append(record)
        return records

    def _read(self) -> Iterator[tuple[int, str, Optional[Record], str]]:
        if not self.path.exists():
            return
        # Opened without blocking and checked on the descriptor: a FIFO or /dev/zero is no log.
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise RecordError(f"{self.path}: cannot read the results log ({exc.strerror})") from None
        if (problem := _not_a_log(os.fstat(fd).st_mode)) is not None:
            os.close(fd)
            raise RecordError(f"{self.path}: {problem}")
        with open(fd, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                if not line.endswith("\n"):
                    yield lineno, line, None, _TORN
                    return
                yield (lineno, line, *self._parse(line.strip()))

    @staticmethod
    def _parse(line: str) -> tuple[Optional[Record], str]:
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            return None, "not JSON"
        except RecursionError:  # a line of 100,000 brackets
            return None, "nested too deep to be a record"
        try:
            if not isinstance(data, dict):
                raise TypeError(f"not a record object ({type(data).__name__})")
            return Record.from_dict(data), ""
        except SchemaError as exc:
            return None, str(exc)
        except (KeyError, ValueError, TypeError) as exc:
            return None, f"malformed record ({type(exc).__name__}: {exc})"

    def latest(self) -> dict[str, Record]:
        return latest_by_job(self)


# Each log's records, parsed once while the file stays the same: path -> (its identity, records).
_PARSED: dict[Path, tuple[tuple[int, int, int, int], tuple[Record, ...]]] = {}


def _not_a_log(mode: int) -> Optional[str]:
    """Why a file of this mode is no results log (None: it is a regular file)."""
    if stat.S_ISREG(mode):
        return None
    return (
        f"{input_files.not_regular(mode)}; a results log is the regular file a run appends its records "
        "to: remove it, or pass --results-dir a run's folder (e.g. runs/default)"
    )


def no_log(path: Path, example: str) -> str:
    """The line for a command that needs the results log `path` and finds none."""
    with contextlib.suppress(OSError):  # none there: said as none
        if problem := _not_a_log(os.stat(path).st_mode):
            return f"{path}: {problem}"
    return f"{path}: no such results file (pass --results-dir, e.g. {example})"


def read_log(path: Path) -> tuple[Record, ...]:
    """Every readable record of a results log, parsed once per process while the file is unchanged."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ()
    identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    where = Path(path).resolve()
    if (found := _PARSED.get(where)) is not None and found[0] == identity:
        return found[1]
    records = tuple(ResultsLog(path))
    _PARSED[where] = (identity, records)
    return records


def latest_by_job(records: Iterable[Record]) -> dict[str, Record]:
    return {record.job: record for record in records}


def dep_of(record: Record, latest: Mapping[str, Record], stage: str) -> Optional[Record]:
    """The record of `stage` this record's cell was made from: the longest such cell prefixing it."""
    if record.stage == stage:
        return record
    found = [r for r in latest.values() if r.stage == stage and (record.cell + "/").startswith(r.cell + "/")]
    return max(found, key=lambda r: len(r.cell), default=None)


class ExportKey(NamedTuple):
    model: str
    exporter: str


class CompileKey(NamedTuple):
    model: str
    exporter: str
    profile: str
    arch: str
    compiler: str


class RunKey(NamedTuple):
    model: str
    exporter: str
    profile: str
    arch: str
    compiler: str
    runtime: str  # as the tables name it (`Labels.run_runtime`)

    @property
    def compiled(self) -> CompileKey:
        return CompileKey(self.model, self.exporter, self.profile, self.arch, self.compiler)


def export_key(record: Record) -> ExportKey:
    return ExportKey(record.label.model, record.label.exporter)


def compile_key(record: Record) -> CompileKey:
    label = record.label
    return CompileKey(label.model, label.exporter, label.profile, label.arch, label.compiler)


@dataclasses.dataclass(frozen=True)
class Index:
    """The one index of a results log: the newest record per job, by labels and by cell. Of two jobs
    with the same labels, the one that finished last is current."""

    by_job: Mapping[str, Record]
    exports: Mapping[ExportKey, Record]
    compiles: Mapping[CompileKey, Record]
    runs: Mapping[RunKey, Record]
    installs: tuple[Record, ...]
    bytecode: Mapping[CompileKey, Record] = dataclasses.field(default_factory=dict)
    # Every stage's records by cell (the job id without the stage): any stage, bytecode forms too.
    by_stage: Mapping[str, Mapping[str, Record]] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, records: Iterable[Record]) -> Index:
        latest = latest_by_job(records)
        exports: dict[ExportKey, Record] = {}
        compiles: dict[CompileKey, Record] = {}
        runs: dict[RunKey, Record] = {}
        bytecode: dict[CompileKey, Record] = {}
        installs = []
        by_stage: dict[str, dict[str, Record]] = {}
        for record in latest.values():
            by_stage.setdefault(record.stage, {})[record.cell] = record
            of_text = record.label.form != "bytecode"  # of the MLIR bytecode: its compiles alone, apart
            if record.stage == "install" and of_text:
                installs.append(record)
            elif record.stage == "export" and of_text:
                _put(exports, export_key(record), record)
            elif record.stage == "compile":
                _put(compiles if of_text else bytecode, compile_key(record), record)
            elif record.stage == "run" and of_text:
                _put(runs, RunKey(*compile_key(record), record.label.run_runtime), record)
        return cls(latest, exports, compiles, runs, tuple(installs), bytecode, by_stage)

    def stage(self, name: str) -> Mapping[str, Record]:
        return self.by_stage.get(name, {})

    def get(self, stage: str, cell: str) -> Optional[Record]:
        return self.stage(stage).get(cell)

    def cause(self, record: Record) -> Record:
        """The record that says why a cell did not pass: the stage that failed, not the run it blocked."""
        return self._walk(record)[0]

    def root_blocker(self, record: Record) -> str:
        """The job id a not-run record waits on at the root; "" when it names none."""
        return self._walk(record)[1] if record.blocked_by else ""

    def _walk(self, record: Record) -> tuple[Record, str]:
        """Along `blocked_by` while not run: the last record the log holds and the job id the walk ends at."""
        seen, job = {record.job}, record.job
        while record.status is Status.NOT_RUN and record.blocked_by and record.blocked_by not in seen:
            job = record.blocked_by
            if (upstream := self.by_job.get(job)) is None:
                break
            seen.add(job)
            record = upstream
        return record, job


def _put(table: dict[Any, Record], key: Any, record: Record) -> None:
    if (old := table.get(key)) is None or (record.finished or "") >= (old.finished or ""):
        table[key] = record
