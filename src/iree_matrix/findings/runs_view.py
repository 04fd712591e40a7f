"""The result records as every answer reads them: releases in order, a timed figure and its noise,
latencies cross-checked between logs, and `Runs`, one profile and arch of the record index. Pure
but for `json_file`; no answer derives a figure on its own."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, TypeVar, cast

from packaging.version import InvalidVersion

from iree_matrix.core import excerpts, formats
from iree_matrix.core.model import refusals, stats
from iree_matrix.core.model.configuration import Runtime
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics.run import DISAGREES, RunMetrics
from iree_matrix.core.model.metrics_view import number
from iree_matrix.core.model.records import SOURCE_BUILD
from iree_matrix.core.model.results import Index, Record, Status, latest_by_job
from iree_matrix.iree import compile_errors, hints, versions

# A timed figure is noisy when other programs kept this many cores busy while it was taken, or when
# its repetitions spread by more than this share of the median. Defined here, used everywhere.
NOISY_LOAD = 0.25
NOISY_SPREAD = 0.20
# Two figures from different sittings on this shared machine differ by up to ~1.3x for identical
# code (lab/measurements.md): only a larger ratio is a finding.
NOISE_RATIO = 1.3
# A noisy figure is compared by its extremes, and only a change beyond what contention explains.
LOADED_RATIO = 2.0
# Module sizes are deterministic; a growth this large between releases is worth a line.
SIZE_RATIO = 1.10
INCOMPATIBLE = refusals.INCOMPATIBLE


def natural_key(text: str) -> tuple[Any, ...]:
    """Text with numbers as a person reads it: "torch2.5" before "torch2.13"."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def version_key(text: str) -> tuple[int, Any]:
    """Releases in release order ("3.10.0" after "3.9.0", the date releases such as 20240410.859
    before 2.9.0); anything else after them, naturally."""
    try:
        return (0, versions.release_order(text))
    except InvalidVersion:
        return (1, natural_key(text))


K = TypeVar("K")  # what `grouped_by` groups by: a reason, or a reason with what to do
V = TypeVar("V")


def grouped_by(pairs: Iterable[tuple[K, V]]) -> dict[K, list[V]]:
    """(key, value) pairs as each key's values, in the order first met: (reason, release) pairs as
    each reason's releases."""
    out: dict[K, list[V]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def sorted_versions(values: Iterable[str]) -> list[str]:
    return sorted(set(values), key=version_key)


# The tools' words: one definition each, re-exported for the report.
first_line, clip, refusal_reason = excerpts.first_line, excerpts.clip, refusals.reason
MAX_REASON_CHARS = refusals.MAX_REASON_CHARS


def json_file(path: Path) -> Any:
    """A JSON file's data, or None where it cannot be read or parsed (each caller says what it skips)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def median(value: Any) -> Optional[float]:
    """The median of a timed metric (`{"median": …, "min": …}`) or a bare number."""
    return number(value.get("median")) if isinstance(value, Mapping) else number(value)


# --- noise --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Timing:
    """A timed figure (a run's latency, one thread's CPU time per call): its median, its repetitions'
    range, and what makes it noisy."""

    median: float
    low: Optional[float] = None
    high: Optional[float] = None
    other_load: Optional[float] = None
    # Set when another published measurement of the same module on the same host lies wholly below
    # this one's spread (`cross_checked`): what it said, where and when.
    disagrees: Optional[str] = None
    n: Optional[int] = None  # repetitions behind the median (None: not recorded)
    budgeted: bool = False  # a time budget decided `n` (`RunMetrics.budgeted_n`): the text says how many

    @classmethod
    def of(cls, value: Any) -> Optional[Timing]:
        """From a timed metric ({"median", "min", "max", "n"}); None without a positive median."""
        if not isinstance(value, Mapping) or (median := number(value.get("median"))) is None or median <= 0:
            return None
        n = number(value.get("n"))
        return cls(median, number(value.get("min")), number(value.get("max")), n=int(n) if n else None)

    @property
    def too_few(self) -> bool:
        """Fewer repetitions than any interval needs (`stats.MIN_REPETITIONS`): no verdict from it."""
        return self.n is not None and self.n < stats.MIN_REPETITIONS

    @property
    def spread(self) -> Optional[float]:
        if self.low is None or self.high is None or self.median <= 0:
            return None
        return (self.high - self.low) / self.median

    @property
    def disturbed(self) -> bool:
        return self.spread is not None and self.spread > NOISY_SPREAD

    @property
    def noisy(self) -> bool:
        return bool(self.why_noisy())

    def why_noisy(self) -> str:
        reasons = []
        if self.other_load is not None and self.other_load >= NOISY_LOAD:
            reasons.append(f"other programs kept {self.other_load:.2g} cores busy")
        if self.disturbed:
            reasons.append(f"repetitions spread {self.spread:.0%} of the median")
        if self.disagrees is not None:
            reasons.append(f"a quieter measurement of the same module gave {self.disagrees}")
        return "; ".join(reasons)

    def text(self) -> str:
        """'12.6 ms', or '12.6 ms ⚠️ spread 61183 %' when its repetitions disagree."""
        said = formats.duration_ms(self.median) + (f" (n={self.n})" if self.budgeted and self.n else "")
        return said + (f" ⚠️ spread {self.spread:.0%}" if self.disturbed else "")


def timing(record: Optional[Record], eager: bool = False) -> Optional[Timing]:
    """The timed figure of a run (its latency) or, `eager`, of an export (torch's), with its noise facts."""
    if record is None:
        return None
    measured = record.metric.of(ExportMetrics) if eager else record.metric.of(RunMetrics)
    timed = measured.eager if isinstance(measured, ExportMetrics) else measured.latency
    if timed is None or timed.median is None:
        return None
    disagrees = None if isinstance(measured, ExportMetrics) else measured.disagrees or None
    return Timing(timed.median, timed.low, timed.high, measured.other_load, disagrees, timed.n)


# --- one figure per thing ---------------------------------------------------------------------------


def measured(record: Record) -> str:
    """When and where a timed figure was taken: "2026-11-23 09:12 UTC on AMD EPYC (x86_64)"."""
    when = (record.started or "")[:16].replace("T", " ")
    return " on ".join(p for p in (f"{when} UTC" if when else "", record.host.where) if p)


def _same_module(record: Record) -> tuple[str, ...]:
    """What makes two latencies figures of one thing: the function, exporter, compiler, runtime,
    profile and target, on one host CPU (model and features)."""
    label = record.label
    named = (label.model, label.exporter, label.compiler, label.profile, label.arch, label.run_runtime)
    return (*named, record.host.cpu or "", ",".join(sorted(record.host.cpu_features or ())))


def cross_checked(records: Sequence[Record], others: Mapping[str, Sequence[Record]] = {}) -> list[Record]:
    """`records` with every latency that lies wholly above another measurement of the same module on the
    same host (here or in another published log, `others`) marked noisy (metrics["disagrees"]):
    interference only ever adds time, so of two that do not overlap, the slower one was disturbed."""
    measurements: dict[tuple[str, ...], list[tuple[Timing, str]]] = {}
    latest = list(latest_by_job(records).values())  # a re-measured job's old figure is history
    for name, group in [("", latest), *others.items()]:
        for r in group:
            t = timing(r) if r.stage == "run" and r.status is Status.OK else None
            if t is not None and t.low is not None and t.high is not None:
                where = f"{formats.duration_ms(t.median)} ({name + ', ' if name else ''}{measured(r)})"
                measurements.setdefault(_same_module(r), []).append((t, where))
    out = []
    for r in records:
        t = timing(r) if r.stage == "run" and r.status is Status.OK else None
        if t is not None and t.low is not None:
            if below := [(o, w) for o, w in measurements.get(_same_module(r), []) if (o.high or 0.0) < t.low]:
                _, where = min(below, key=lambda ow: ow[0].median)
                r = dataclasses.replace(r, metrics={**r.metrics, DISAGREES: where})
        out.append(r)
    return out


# --- the records, indexed --------------------------------------------------------------------------


def measured_runs(records: Iterable[Record]) -> list[Record]:
    """The runs whose timings the tables compare: passed, native (not under qemu), each module on
    its own release's runtime."""
    return [
        r
        for r in records
        if r.stage == "run"
        and r.status is Status.OK
        and not r.metric.of(RunMetrics).emulated
        and r.label.own_runtime
    ]


def main_arch(records: Iterable[Record]) -> str:
    """The architecture most run records are for: the answers are about one CPU at a time (the
    armv6 results directory holds armv6 runs, the release history x86_64 ones)."""
    counts = Counter(r.label.arch for r in records if r.stage == "run" and r.label.arch)
    return max(counts, key=lambda a: (counts[a], a == "x86_64", a)) if counts else "x86_64"


def is_built_here(runtime: str) -> bool:
    """A runtime built from source: a `src:` value, or a directory of tools the user gave."""
    return runtime.startswith(SOURCE_BUILD) or Runtime.parse(runtime).source


@dataclasses.dataclass(frozen=True)
class Runs:
    """One profile and one arch of the record index (`results.Index`): the newest run per cell, keyed
    (function, exporter, compiler, runtime); `default` on the host unless asked otherwise."""

    index: Index
    profile: str = "default"
    arch: Optional[str] = None  # None: x86_64 (or a record that names none)

    @classmethod
    def of(cls, records: Iterable[Record], profile: str = "default", arch: Optional[str] = None) -> Runs:
        return cls(records if isinstance(records, Index) else Index.of(records), profile, arch)

    def _here(self, profile: str, arch: str) -> bool:
        return profile == self.profile and self._on_arch(arch)

    def _on_arch(self, arch: str) -> bool:
        return arch in (("x86_64", "") if self.arch is None else (self.arch,))

    @functools.cached_property
    def by_cell(self) -> Mapping[tuple[str, str, str, str], Record]:
        return {(m, e, c, rt): r for (m, e, p, a, c, rt), r in self.index.runs.items() if self._here(p, a)}

    @functools.cached_property
    def compiles(self) -> Mapping[tuple[str, str, str], Record]:  # (function, exporter, compiler)
        return {(m, e, c): r for (m, e, p, a, c), r in self.index.compiles.items() if self._here(p, a)}

    @property
    def exports(self) -> Mapping[tuple[str, str], Record]:  # (function, exporter)
        return cast("Mapping[tuple[str, str], Record]", self.index.exports)  # an ExportKey is that pair

    @property
    def by_job(self) -> Mapping[str, Record]:  # every record, by job id
        return self.index.by_job

    @functools.cached_property
    def _counts(self) -> list[Record]:
        """The instruction counts taken on this arch, of every profile."""
        return [
            r
            for r in self.by_job.values()
            if r.stage == "instructions" and r.status is Status.OK and self._on_arch(r.label.arch)
        ]

    @functools.cached_property
    def instructions(self) -> Mapping[tuple[str, str, str], Record]:
        """(function, exporter, compiler) -> its module's instructions per call on its own runtime, this
        profile's only: another profile's count is another program (3.9.0's `avx2` batch_matmul is scalar
        where the AVX-512 build is vectorized), so it cannot stand in for the `default` build's figure."""
        return {
            (r.label.model, r.label.exporter, r.label.compiler): r
            for r in self._counts
            if r.label.own_runtime and r.label.profile == self.profile
        }

    def counted_profiles(self) -> list[str]:
        """The other profiles with instruction counts on this arch (`avx2`): builds whose own
        regressions the counts can decide."""
        return sorted({r.label.profile for r in self._counts} - {self.profile})

    def functions(self) -> list[str]:
        return sorted({f for f, *_ in self.by_cell} | {f for f, *_ in self.compiles})

    def model_of(self, function: str) -> str:
        cells = [*self.by_cell.items(), *self.compiles.items()]
        found = next((r.label.source_model for (f, *_), r in cells if f == function), "")
        return found or function.split(".", 1)[0]

    def main_exporter(self, functions: Optional[Sequence[str]] = None) -> str:
        """The exporter most cells (of these functions) used: the matrix's reference exporter."""
        cells = [*self.by_cell, *self.compiles]
        counts = Counter(
            exporter for function, exporter, *_ in cells if functions is None or function in functions
        )
        return max(counts, key=lambda e: (counts[e], e)) if counts else ""

    def same(self, function: str, exporter: str, compiler: str) -> Optional[Record]:
        """The cell whose module ran on its own release's runtime — or, where the matrix gave this
        target one runtime built from source (armv6: IREE publishes none), on that runtime."""
        by_runtime = {
            rt: r for (f, e, c, rt), r in self.by_cell.items() if (f, e, c) == (function, exporter, compiler)
        }
        built = [r for rt, r in by_runtime.items() if is_built_here(rt) and not r.label.device]
        return own_run(by_runtime, compiler) or (built[0] if len(built) == 1 else None)


def own_run(by_runtime: Mapping[str, Record], compiler: str) -> Optional[Record]:
    """Of one module's runs (keyed by `run_runtime`), the one on its compiler's own release, else (a
    release with no runtime of its own, 3.7.1) the one on the runtime the planner stands in with."""
    if (own := by_runtime.get(compiler)) is not None and not no_runtime(own):
        return own
    stand_in = versions.stand_in_runtime(compiler, [rt for rt in by_runtime if versions.is_valid(rt)])
    return by_runtime[stand_in] if stand_in is not None else own


def stand_in_of(run: Record) -> Optional[str]:
    """The runtime a run stood in with for its compiler's missing release ("3.7.0"), or None."""
    compiler, runtime = run.label.compiler, run.label.runtime
    if runtime == compiler or not versions.is_valid(runtime) or not versions.is_valid(compiler):
        return None
    return runtime if versions.stand_in_runtime(compiler, [runtime]) == runtime else None


def why(record: Record) -> str:
    """Why a stage did not pass, in the tool's words, uncut: a compile's first error and the op it
    names, a runtime's refusal, a mismatch's error, else the first error line of its message."""
    stage = record.stage
    if record.status is Status.OK:  # the cell's last record passed: what should follow it is missing
        return f"{stage} passed, but no run of its module is recorded"
    if record.status is Status.MISMATCH:
        err = record.metric.of(RunMetrics).max_abs_err
        return f"{stage}: outputs differ from torch" + (
            f" (max abs error {err:.3g})" if err is not None else ""
        )
    if record.status is Status.TIMEOUT:
        return f"{stage}: timed out"
    if record.status is Status.SKIP:
        return f"{stage}: skipped: {first_line(record.message)}"
    if stage == "compile" and (named := compile_errors.of_record(record.metrics, record.message)) is not None:
        return f"compile: {excerpts.without_paths(named.text())}"
    if refusals.refused(record):
        return f"run: refused: {excerpts.without_paths(refusals.reason(record.message))}"
    cls = f"{record.error_class}: " if record.error_class else ""
    told = excerpts.without_paths(hints.telling_line(record.message, stage))  # never another machine's paths
    return f"{stage}: {cls}{told or record.status.value}"


def identified(record: Optional[Record]) -> Optional[str]:
    """The CPU identity a timed record names, or None when it names no family/model (a record
    written before identities were recorded: its figure belongs to no CPU a reader can name)."""
    return None if record is None or not record.host.known or record.host.legacy else record.host.identity


def no_runtime(run: Optional[Record]) -> bool:
    """A compiler release whose own runtime could not be installed (3.7.1 has no runtime release):
    no evidence either way, so consecutive releases skip it."""
    return run is not None and run.status is Status.NOT_RUN and (run.blocked_by or "").startswith("install:")
