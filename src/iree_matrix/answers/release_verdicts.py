"""The project's answers, derived from result records: which compilers' modules each runtime loads,
which release to use per model, what regressed between releases, which exporters agree.

Pure: records in, plain data out (no I/O, no clock). Every answer names the job ids of the cells
it rests on, so a reader can check it. The Markdown report, `compat.json` and `query` all use these
functions; none derives an answer on its own.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, cast

from packaging.version import InvalidVersion

from iree_matrix.answers import paired
from iree_matrix.core import excerpts, formats
from iree_matrix.core.errors import EnvironmentFault
from iree_matrix.core.model import refusals, stats
from iree_matrix.core.model.metrics_view import DISAGREES, number
from iree_matrix.core.model.records import SOURCE_BUILD
from iree_matrix.core.model.records import (
    runtime_name as runtime_name,  # re-exported: the tables name runtimes so
)
from iree_matrix.core.model.results import Index, Record, Status, latest_by_job, read_log
from iree_matrix.core.system import host
from iree_matrix.iree import compile_errors, hints, versions

# A timed figure is noisy when other programs kept this many cores busy while it was taken, or when
# its repetitions spread by more than this share of the median. Defined here, used everywhere.
NOISY_LOAD = 0.25
NOISY_SPREAD = 0.20
# Two figures from different sittings on this shared machine differ by up to ~1.3x for identical
# code (docs/measurements.md): only a larger ratio is a finding.
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


def sorted_versions(values: Iterable[str]) -> list[str]:
    return sorted(set(values), key=version_key)


# The tools' words: one definition each, re-exported for the report.
first_line, clip, refusal_reason = excerpts.first_line, excerpts.clip, refusals.reason
MAX_REASON_CHARS = refusals.MAX_REASON_CHARS


def median(value: Any) -> Optional[float]:
    """The median of a timed metric (`{"median": …, "min": …}`) or a bare number."""
    return number(value.get("median")) if isinstance(value, Mapping) else number(value)


# --- noise --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Timing:
    median: float
    low: Optional[float]
    high: Optional[float]
    other_load: Optional[float]
    # Set when another published measurement of the same module on the same host lies wholly below
    # this one's spread (`cross_checked`): what it said, where and when.
    disagrees: Optional[str] = None
    n: Optional[int] = None  # repetitions behind the median (None: not recorded)

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
    def noisy(self) -> bool:
        loaded = self.other_load is not None and self.other_load >= NOISY_LOAD
        spread = self.spread is not None and self.spread > NOISY_SPREAD
        return loaded or spread or self.disagrees is not None

    def why_noisy(self) -> str:
        reasons = []
        if self.other_load is not None and self.other_load >= NOISY_LOAD:
            reasons.append(f"other programs kept {self.other_load:.2g} cores busy")
        if self.spread is not None and self.spread > NOISY_SPREAD:
            reasons.append(f"repetitions spread {self.spread:.0%} of the median")
        if self.disagrees is not None:
            reasons.append(f"a quieter measurement of the same module gave {self.disagrees}")
        return "; ".join(reasons)


def timing(record: Optional[Record], eager: bool = False) -> Optional[Timing]:
    """The timed figure of a run (its latency) or, `eager`, of an export (torch's), with its noise facts."""
    if record is None:
        return None
    timed = record.metric.eager if eager else record.metric.latency
    if timed is None or timed.median is None:
        return None
    disagrees = None if eager else record.metric.disagrees
    return Timing(timed.median, timed.low, timed.high, record.metric.other_load, disagrees, timed.n)


# --- one figure per thing ---------------------------------------------------------------------------


def measured(record: Record) -> str:
    """When and where a timed figure was taken: "2026-11-23 09:12 UTC on AMD EPYC (x86_64)"."""
    when = (record.started or "")[:16].replace("T", " ")
    cpu = str(record.host.get("cpu") or "") if isinstance(record.host, Mapping) else ""
    machine = str(record.host.get("machine") or "") if isinstance(record.host, Mapping) else ""
    where = f"{cpu} ({machine})" if cpu and machine else cpu or machine
    return " on ".join(p for p in (f"{when} UTC" if when else "", where) if p)


def _same_module(record: Record) -> tuple[str, ...]:
    """What makes two latencies figures of one thing: the function, exporter, compiler, runtime,
    profile and target, on one host CPU (model and features)."""
    host = record.host if isinstance(record.host, Mapping) else {}
    features = ",".join(sorted(map(str, host.get("cpu_features") or ())))
    return (
        record.label.model, record.label.exporter, record.label.compiler, record.label.profile,
        record.label.arch, record.label.run_runtime, str(host.get("cpu") or ""), features,
    )  # fmt: skip


def cross_checked(records: Sequence[Record], others: Mapping[str, Sequence[Record]] = {}) -> list[Record]:
    """`records` with every latency that lies wholly above another measurement of the same module on
    the same host — in `records` or in another published log (`others`, by name) — marked noisy
    (metrics["disagrees"]: the other figure, where and when). Interference only ever adds time, so
    of two figures that do not overlap, the slower one is the one that was disturbed; after this, no
    two unmarked figures of one thing disagree beyond their spreads."""
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
            below = [(o, w) for o, w in measurements.get(_same_module(r), []) if (o.high or 0.0) < t.low]
            if below:
                _, where = min(below, key=lambda ow: ow[0].median)
                r = dataclasses.replace(r, metrics={**r.metrics, DISAGREES: where})
        out.append(r)
    return out


def read(source: Path) -> list[Record]:
    """A results log as every view reads it (report, site, answers, `query`): each record, latencies
    cross-checked against the other published logs when `source` is one of them. Each log is parsed
    once per process while it is unchanged (`results.read_log`): a report's pages share the parse."""
    from iree_matrix.core import shipped

    # `iree-matrix compare` verdicts kept beside the log decide "slower" and "fastest" (paired.py).
    records = paired.attach(list(read_log(source)), paired.read(Path(source).parent))
    try:
        published = shipped.results_dir().resolve()
    except FileNotFoundError:
        return cross_checked(records)
    if published not in Path(source).resolve().parents:
        return cross_checked(records)
    others = {
        str(log.parent.relative_to(published.parent)): list(latest_by_job(read_log(log)).values())
        for log in sorted(published.glob("**/results.jsonl"))
        if log.resolve() != Path(source).resolve()
    }
    return cross_checked(records, others)


# --- the records, indexed --------------------------------------------------------------------------


def main_arch(records: Iterable[Record]) -> str:
    """The architecture most run records are for: the answers are about one CPU at a time (the
    armv6 results directory holds armv6 runs, the release history x86_64 ones)."""
    counts = Counter(r.label.arch for r in records if r.stage == "run")
    counts.pop("", None)
    return max(counts, key=lambda a: (counts[a], a == "x86_64", a)) if counts else "x86_64"


def run_runtime(record: Record) -> str:
    """The runtime a run record used, as the tables name it (`Labels.run_runtime`)."""
    return record.label.run_runtime


def is_built_here(runtime: str) -> bool:
    """A runtime built from source: a `src:` value, or a directory of tools the user gave."""
    return runtime.startswith((SOURCE_BUILD, "src:"))


@dataclasses.dataclass(frozen=True)
class Runs:
    """One profile and one arch of the record index (`results.Index`): the newest run per cell,
    keyed (function, exporter, compiler, runtime) — the answers are about the default profile on the
    host unless asked otherwise."""

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
    def instructions(self) -> Mapping[tuple[str, str, str], Record]:
        """(function, exporter, compiler) -> its module's instructions per call on its own runtime
        (stages/instructions.py), this profile's only. Another profile's count is another program:
        IREE picks vector tiles from the target CPU's features, and IREE 3.9.0 leaves the
        x86-64-v3 (`avx2`) build of a 1500x384x1536 batch_matmul scalar where the AVX-512 build is
        vectorized (4.47 G instructions per call up to 3.7.0, 245 M from 3.12.0, while the AVX-512
        build's time stayed 9-13 ms), so it cannot stand in for the `default` build's figure."""
        counted: dict[tuple[str, str, str], Record] = {}
        for r in self.by_job.values():
            label = r.label
            if r.stage != "instructions" or r.status is not Status.OK or label.runtime != label.compiler:
                continue
            if self._here(label.profile, label.arch):
                counted[(label.model, label.exporter, label.compiler)] = r
        return counted

    def counted_profiles(self) -> list[str]:
        """The other profiles with instruction counts on this arch (`avx2`): builds whose own
        regressions the counts can decide."""
        return sorted(
            {
                r.label.profile
                for r in self.by_job.values()
                if r.stage == "instructions"
                and r.status is Status.OK
                and r.label.profile != self.profile
                and self._on_arch(r.label.arch)
            }
        )

    def cause(self, record: Record) -> Record:
        return self.index.cause(record)

    def functions(self) -> list[str]:
        return sorted({f for f, *_ in self.by_cell} | {f for f, *_ in self.compiles})

    def model_of(self, function: str) -> str:
        for (f, *_), r in [*self.by_cell.items(), *self.compiles.items()]:
            if f == function:
                return r.label.source_model or function.split(".", 1)[0]
        return function.split(".", 1)[0]

    def main_exporter(self, functions: Optional[Sequence[str]] = None) -> str:
        """The exporter most cells (of these functions) used: the matrix's reference exporter."""
        counts: dict[str, int] = {}
        for function, exporter, *_ in [*self.by_cell, *self.compiles]:
            if functions is None or function in functions:
                counts[exporter] = counts.get(exporter, 0) + 1
        return max(counts, key=lambda e: (counts[e], e)) if counts else ""

    def same(self, function: str, exporter: str, compiler: str) -> Optional[Record]:
        """The cell whose module ran on its own release's runtime — or, where the matrix gave this
        target one runtime built from source (armv6: IREE publishes none), on that runtime."""
        by_runtime = {
            rt: r for (f, e, c, rt), r in self.by_cell.items() if (f, e, c) == (function, exporter, compiler)
        }
        own = own_run(by_runtime, compiler)
        if own is not None:
            return own
        built = [
            r for (f, e, c, rt), r in self.by_cell.items()
            if (f, e, c) == (function, exporter, compiler) and is_built_here(rt) and not r.label.device
        ]  # fmt: skip
        return built[0] if len(built) == 1 else None


def own_run(by_runtime: Mapping[str, Record], compiler: str) -> Optional[Record]:
    """Of one module's runs (keyed by `run_runtime`), the one on its compiler's own release — or,
    when that release has no runtime of its own (iree-base-runtime 3.7.1 is not on PyPI, so no
    record ran it, or its install failed), the run on the newest runtime of its release line: what
    the planner runs such a compiler on (`versions.stand_in_runtime`)."""
    own = by_runtime.get(compiler)
    if own is not None and not _no_runtime(own):
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
        err = record.metric.max_abs_err
        return f"{stage}: outputs differ from torch" + (
            f" (max abs error {err:.3g})" if err is not None else ""
        )
    if record.status is Status.TIMEOUT:
        return f"{stage}: timed out"
    if record.status is Status.SKIP:
        return f"{stage}: skipped: {first_line(record.message)}"
    if stage == "compile":
        named = compile_errors.of_record(record.metrics, record.message)
        if named is not None:
            return f"compile: {excerpts.without_paths(named.text())}"
    if refusals.refused(record):
        return f"run: refused: {excerpts.without_paths(refusals.reason(record.message))}"
    cls = f"{record.error_class}: " if record.error_class else ""
    told = excerpts.without_paths(hints.telling_line(record.message, stage))  # never another machine's paths
    return f"{stage}: {cls}{told or record.status.value}"


# --- can runtime B load a module from compiler A? -------------------------------------------------


class Load(str, enum.Enum):
    LOADS = "loads"
    REFUSES = "refuses"
    UNKNOWN = "unknown"  # not run, skipped, timed out, or failed in a way that says nothing of loading


def load_of(run: Record) -> Load:
    if run.status in (Status.OK, Status.MISMATCH):
        return Load.LOADS
    if refusals.refused(run):
        return Load.REFUSES
    return Load.UNKNOWN


@dataclasses.dataclass(frozen=True)
class Pair:
    compiler: str
    runtime: str
    load: Load
    evidence: tuple[str, ...]  # job ids
    disagreement: bool = False  # functions disagree (some load, some are refused)
    reason: str = ""  # the refusal in the runtime's words, one line (first refusing cell)


def ran(record: Record) -> bool:
    """A stage that was executed and recorded an outcome: evidence. A cell never run (blocked by an
    earlier stage, not planned yet) or skipped says nothing of what it would have done."""
    return record.status not in (Status.NOT_RUN, Status.SKIP)


def pairs(runs: Runs) -> dict[tuple[str, str], Pair]:
    by_pair: dict[tuple[str, str], list[Record]] = {}
    for (_, _, compiler, runtime), r in runs.by_cell.items():
        by_pair.setdefault((compiler, runtime), []).append(r)
    out = {}
    for (compiler, runtime), records in by_pair.items():
        # Evidence is what ran; a pair none of whose cells ran rests on what stopped them.
        evidence = sorted(r.job for r in records if ran(r)) or sorted({runs.cause(r).job for r in records})
        loads = {load_of(r) for r in records} - {Load.UNKNOWN}
        refused = next((r for r in records if load_of(r) is Load.REFUSES), None)
        if loads == {Load.LOADS}:
            load = Load.LOADS
        elif loads == {Load.REFUSES}:
            load = Load.REFUSES
        elif loads:
            load = Load.REFUSES  # the module of at least one function is refused
        else:
            load = Load.UNKNOWN
        out[(compiler, runtime)] = Pair(
            compiler,
            runtime,
            load,
            tuple(evidence),
            disagreement=len(loads) > 1,
            reason=refusal_reason(refused.message) if refused is not None else "",
        )
    return out


@dataclasses.dataclass(frozen=True)
class Window:
    """Which compilers' modules one runtime loads: the range from the oldest to the newest loading
    compiler, and every observation that contradicts a contiguous range."""

    runtime: str
    loads: tuple[str, ...]
    refuses: tuple[str, ...]
    unknown: tuple[str, ...]
    contradictions: tuple[str, ...]

    @property
    def low(self) -> Optional[str]:
        return self.loads[0] if self.loads else None

    @property
    def high(self) -> Optional[str]:
        return self.loads[-1] if self.loads else None

    def text(self) -> str:
        if not self.loads:
            if not self.refuses:
                return f"runtime {self.runtime}: not measured (no run got as far as loading)"
            return f"runtime {self.runtime} loaded no module it was given"
        span = self.low if self.low == self.high else f"{self.low}–{self.high}"
        return f"runtime {self.runtime} loads modules from compilers {span}"


def windows(runs: Runs) -> list[Window]:
    found = pairs(runs)
    compilers = sorted_versions(c for c, _ in found)
    out = []
    for runtime in sorted_versions(rt for _, rt in found):
        row = {c: found[(c, runtime)] for c in compilers if (c, runtime) in found}
        loads = [c for c, p in row.items() if p.load is Load.LOADS]
        refuses = [c for c, p in row.items() if p.load is Load.REFUSES]
        unknown = [c for c, p in row.items() if p.load is Load.UNKNOWN]
        contradictions = []
        if loads:
            low, high = compilers.index(loads[0]), compilers.index(loads[-1])
            for c in refuses:
                if low < compilers.index(c) < high:
                    contradictions.append(f"compiler {c} is refused inside the window ({row[c].evidence[0]})")
        for c, p in row.items():
            if p.disagreement:
                contradictions.append(f"compiler {c}: some functions' modules load, others are refused")
        out.append(Window(runtime, tuple(loads), tuple(refuses), tuple(unknown), tuple(contradictions)))
    return out


def module_versions(runs: Runs) -> dict[str, dict[str, str]]:
    """Per compiler release, what its modules ask of a runtime (the first compile that says)."""
    out: dict[str, dict[str, str]] = {}
    for (_, _, compiler), r in sorted(runs.compiles.items()):
        versions = r.metric.module_versions
        if versions and compiler not in out:
            out[compiler] = versions
    return out


# --- which release should I use? -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FunctionTiming:
    """One function's latency per call on a release, as the answers show it."""

    function: str
    ms: float  # the median
    noisy: bool
    measured: str  # when and where (`measured`)
    why_noisy: str = ""


@dataclasses.dataclass(frozen=True)
class ReleaseResult:
    compiler: str
    passes: bool  # every function compiled, ran and matched torch (runtime = same)
    latency_ms: Optional[float]  # sum of the functions' medians (None unless all ran)
    noisy: bool
    module_bytes: Optional[int]
    evidence: tuple[str, ...]
    failed: tuple[str, ...]  # job ids of the stages that failed (the compile, not its not-run runs)
    why: tuple[str, ...] = ()  # one line per failed stage, uncut: "compile: failed to legalize …"
    # The sum of the functions' one-thread CPU time per call (None unless every run measured it):
    # what "fastest" is decided on where present, as the load moves it least.
    cpu_ms: Optional[float] = None
    # What to do about each failure a known signature matches (iree/hints.py), in `why`'s order.
    hints: tuple[str, ...] = ()
    # Not passing, yet nothing of it failed: a compile with no run recorded, a stage never run
    # (not planned on this target, or blocked by an environment that could not be installed).
    # Not evidence either way: `query` and the tables list it apart from the failures.
    not_run: bool = False
    # How the release was fed where the exporter's own MLIR did not compile or pass there: "linalg
    # lowered by 20231113.707" (`with_lowered`); "" for the exporter's MLIR itself.
    via: str = ""
    # Each function's own figure where every function passed: a prefill and a decode step are two
    # figures, not one sum, and each says when and where it was measured.
    timings: tuple[FunctionTiming, ...] = ()


@dataclasses.dataclass(frozen=True)
class Recommendation:
    model: str
    functions: tuple[str, ...]
    releases: tuple[ReleaseResult, ...]  # oldest first
    newest_passing: Optional[ReleaseResult]
    fastest: Optional[ReleaseResult]  # only when faster than the newest passing beyond noise
    fastest_ratio: Optional[float]
    smallest: Optional[ReleaseResult]
    # What "fastest" was decided on (`FASTEST_PAIRED` "on" the CPU they were timed on, or
    # `FASTEST_SITTING`), named or not; "" when
    # nothing could decide it: no paired rounds, no quiet sitting of one identity (`_fastest`).
    fastest_basis: str = ""


def release_results(runs: Runs, functions: Sequence[str], exporter: str) -> list[ReleaseResult]:
    compilers = sorted_versions(c for (f, e, c) in runs.compiles if f in functions and e == exporter)
    out = []
    for compiler in compilers:
        cells = [
            (f, runs.same(f, exporter, compiler), runs.compiles.get((f, exporter, compiler)))
            for f in functions
        ]
        passing = [run is not None and run.status is Status.OK for _, run, _ in cells]
        timings = [timing(run) for _, run, _ in cells]
        sizes = [c.metric.module_bytes if c is not None else None for _, _, c in cells]
        evidence = tuple(
            (run.job if run is not None else (c.job if c is not None else f"{f}@{compiler}"))
            for f, run, c in cells
        )
        causes = [
            runs.cause(record)
            for (_, run, c), ok in zip(cells, passing)
            if not ok and (record := run if run is not None else c) is not None
        ]
        out.append(
            ReleaseResult(
                compiler=compiler,
                passes=all(passing),
                latency_ms=_total([t.median if t else None for t in timings]) if all(passing) else None,
                noisy=any(t.noisy for t in timings if t is not None),
                module_bytes=int(total) if (total := _total(sizes)) is not None else None,
                evidence=evidence,
                failed=tuple(dict.fromkeys(r.job for r in causes))
                or tuple(e for e, ok in zip(evidence, passing) if not ok),
                why=tuple(dict.fromkeys(why(r) for r in causes)),
                cpu_ms=_total([_cpu_median(run) for _, run, _ in cells]) if all(passing) else None,
                hints=_advice(causes),
                not_run=not all(passing) and not any(failed(r) for r in causes),
                timings=_function_timings(cells) if all(passing) else (),
            )
        )
    return out


def _function_timings(
    cells: Sequence[tuple[str, Optional[Record], Optional[Record]]],
) -> tuple[FunctionTiming, ...]:
    """(function, its run, its compile) -> each timed run's figure."""
    out = []
    for function, run, _ in cells:
        t = timing(run)
        if run is not None and t is not None:
            out.append(
                FunctionTiming(function, t.median, t.noisy, measured(run), t.why_noisy() if t.noisy else "")
            )
    return tuple(out)


# stages/lower.py names a lowered export "<exporter>+linalg-iree<release>" (a `linalg:<release>` form).
LOWERED_MARK = "+linalg-iree"


def lowered_by(exporter: str, source: str) -> Optional[str]:
    """The IREE release that lowered `exporter`'s MLIR when it is `source`'s export lowered to
    linalg-on-tensors, else None."""
    prefix = source + LOWERED_MARK
    return exporter[len(prefix) :] or None if exporter.startswith(prefix) else None


def with_lowered(
    runs: Runs, functions: Sequence[str], exporter: str, results: Sequence[ReleaseResult]
) -> list[ReleaseResult]:
    """`results` (one exporter's, oldest first) with each compiler that did not pass on the
    exporter's own MLIR answered by the same export lowered to linalg, where the results hold it
    (matrix/history.toml feeds the 2023 compilers so): passing there, the release passes `via` the
    lowering; failing there too, its reasons are both forms'. A compiler only the lowered form
    reached joins the list. Oldest first, as `release_results`."""
    lowered: dict[str, list[ReleaseResult]] = {}
    exporters = {e for (f, e, _) in runs.compiles if f in functions}
    for other in sorted(exporters):
        release = lowered_by(other, exporter)
        if release is not None:
            for result in release_results(runs, functions, other):
                via = f"linalg lowered by {release}"
                lowered.setdefault(result.compiler, []).append(dataclasses.replace(result, via=via))
    out = {r.compiler: r for r in results}
    for compiler, found in lowered.items():
        own = out.get(compiler)
        if own is not None and own.passes:
            continue
        passing = next((r for r in found if r.passes), None)
        if passing is not None or own is None:
            out[compiler] = passing or found[0]
            continue
        why = tuple(f"via {r.via}: {w}" for r in found for w in r.why or ("did not pass",))
        out[compiler] = dataclasses.replace(
            own,
            failed=own.failed + tuple(job for r in found for job in r.failed),
            why=own.why + why,
            hints=tuple(dict.fromkeys(own.hints + tuple(h for r in found for h in r.hints))),
            not_run=own.not_run and all(r.not_run for r in found),
        )
    return [out[c] for c in sorted_versions(out)]


def _advice(causes: Sequence[Record]) -> tuple[str, ...]:
    """What to do about the failures, one advice per known failure (the first of each kind: an LSTM
    and a GRU are one piece of advice)."""
    found: dict[str, str] = {}
    for record in causes:
        h = hint(record)
        if h is not None:
            found.setdefault(h.name, h.advice)
    return tuple(found.values())


def failed(record: Record) -> bool:
    """A stage that ran and did not pass (a failure, a timeout, a mismatch): a cell's outcome. An
    install that failed is not one of the model's: the cells it blocked were never run; nor is a
    stage that an environment fault stopped (a damaged venv, a missing tool): the answer is not
    known until it runs in a sound one."""
    return (
        record.status in (Status.FAIL, Status.TIMEOUT, Status.MISMATCH)
        and record.stage != "install"
        and record.error_class != EnvironmentFault.CLASS
    )


def hint(record: Record) -> Optional[hints.Found]:
    """What to do about a failed stage, when a known signature matches its words (iree/hints.py)."""
    if record.status is Status.OK or record.status is Status.NOT_RUN:
        return None
    made = hints.Made(record.label.exporter, record.label.compiler)
    return hints.of_record(record.stage, record.metrics, record.message, made)


def _cpu_median(record: Optional[Record]) -> Optional[float]:
    figure = record.metric.cpu_time if record is not None else None
    return figure.median if figure is not None else None


def _total(values: Sequence[Optional[float]]) -> Optional[float]:
    """The sum, or None when any value is missing."""
    present = [v for v in values if v is not None]
    return sum(present) if len(present) == len(values) else None


def recommendations(runs: Runs, exporter: Optional[str] = None) -> list[Recommendation]:
    by_model: dict[str, list[str]] = {}
    for function in runs.functions():
        by_model.setdefault(runs.model_of(function), []).append(function)
    out = []
    for model, functions in sorted(by_model.items()):
        results = release_results(runs, functions, exporter or runs.main_exporter(functions))
        passing = [r for r in results if r.passes]
        newest = passing[-1] if passing else None
        fastest, ratio, basis = _fastest(runs, functions, exporter or runs.main_exporter(functions), passing)
        sized = [r for r in passing if r.module_bytes is not None]
        smallest = min(sized, key=lambda r: (r.module_bytes, version_key(r.compiler))) if sized else None
        out.append(
            Recommendation(model, tuple(functions), tuple(results), newest, fastest, ratio, smallest, basis)
        )
    return out


FASTEST_PAIRED = "paired rounds"
FASTEST_SITTING = "one quiet sitting's one-thread CPU time"
# Runs started within this long of each other count as one sitting (a matrix run times its cells
# one after another: the release-history runs of one model took minutes).
SITTING = 3600.0  # seconds


def _fastest(
    runs: Runs, functions: Sequence[str], exporter: str, passing: Sequence[ReleaseResult]
) -> tuple[Optional[ReleaseResult], Optional[float], str]:
    """(the release faster than the newest passing one, newest's time over its, what decided it).
    Only two kinds of evidence name it (a loaded sitting's medians named releases 1.7x
    faster, and one thread's CPU time of one module moved 10-31 % between loaded sittings):
    - paired rounds (`iree-matrix compare NEWEST OTHER`, kept beside the log): every function timed,
      none slower, one faster at least; the largest speed-up over the rounds' medians is named;
    - else one quiet sitting of one identified CPU: every function's one-thread CPU time, other
      programs under `NOISY_LOAD` cores, the runs within `SITTING`, beyond `NOISE_RATIO`.
    Without either, nothing is named and the basis is ""."""
    newest = passing[-1] if passing else None
    if newest is None:
        return None, None, ""
    best: Optional[tuple[float, ReleaseResult]] = None
    decided = ""  # where the paired rounds were timed
    for release in passing[:-1]:
        found = _paired_against(runs, functions, exporter, release, newest)
        if found is None:
            continue
        decided, speedup = found
        if speedup is not None and (best is None or speedup > best[0]):
            best = (speedup, release)
    # A release paired-faster than the one found is faster than the newest too: the chain is
    # followed (3.6.0 beat 3.7.0 4.16x, 3.7.0 beat 3.8.0 1.36x: the fastest is 3.6.0, 5.7x).
    seen = {newest.compiler}
    while best is not None and best[1].compiler not in seen:
        seen.add(best[1].compiler)
        for release in passing[:-1]:
            found = _paired_against(runs, functions, exporter, release, best[1])
            if release.compiler not in seen and found is not None and found[1] is not None:
                best = (best[0] * found[1], release)
                break
    if best is not None:
        return best[1], best[0], f"{FASTEST_PAIRED} on {decided}"
    if decided:
        return None, None, f"{FASTEST_PAIRED} on {decided}"
    sitting = _quiet_sitting(runs, newest)
    if sitting is None:
        return None, None, ""
    identity, start = sitting
    sittings = {r.compiler: _quiet_sitting(runs, r) for r in passing[:-1]}
    same = [
        r for r in passing[:-1]
        if (s := sittings[r.compiler]) is not None and s[0] == identity and abs(s[1] - start) <= SITTING
    ]  # fmt: skip
    fastest = min(same, key=lambda r: r.cpu_ms or math.inf, default=None)
    if fastest is None or not fastest.cpu_ms or not newest.cpu_ms:
        return None, None, FASTEST_SITTING if same else ""
    ratio = newest.cpu_ms / fastest.cpu_ms
    return (fastest, ratio, FASTEST_SITTING) if ratio >= NOISE_RATIO else (None, None, FASTEST_SITTING)


def _paired_against(
    runs: Runs, functions: Sequence[str], exporter: str, release: ReleaseResult, other: ReleaseResult
) -> Optional[tuple[str, Optional[float]]]:
    """(where, the speed-up of `release` over `other`) when paired rounds compared the two on every
    function, the speed-up None unless none was slower and one faster at least; None when they did
    not compare on every function (or said nothing of speed)."""
    verdicts = [paired.against(runs.same(f, exporter, release.compiler), other.compiler) for f in functions]
    found = [v for v in verdicts if v is not None and v.verdict in _DECIDED]
    if not verdicts or len(found) != len(verdicts):
        return None
    if any(v.verdict == stats.SLOWER for v in found) or not any(v.verdict == stats.FASTER for v in found):
        return found[0].where, None
    mine, theirs = _total([v.ms for v in found]), _total([v.other_ms for v in found])
    return found[0].where, theirs / mine if mine and theirs else 1.0 / max(v.ratio for v in found)


# Verdicts that decide: byte-identical modules and a too-short comparison say nothing of speed.
_DECIDED = (stats.FASTER, stats.SLOWER, stats.NO_DIFFERENCE)


def identified(record: Optional[Record]) -> Optional[str]:
    """The CPU identity a timed record names, or None when it names no family/model (a record
    written before identities were recorded: its figure belongs to no CPU a reader can name)."""
    if record is None or not record.host:
        return None
    identity = host.identity_of(record.host)
    return None if identity.startswith("legacy:") else identity


def _quiet_sitting(runs: Runs, release: ReleaseResult) -> Optional[tuple[str, float]]:
    """(identity, start time in seconds) when every run of the release measured one thread's CPU
    time on one identified CPU with other programs under NOISY_LOAD cores; else None."""
    records = [runs.by_job.get(job) for job in release.evidence]
    if not release.cpu_ms or not records or any(r is None or r.stage != "run" for r in records):
        return None
    found = [r for r in records if r is not None]
    identities = {identified(r) for r in found}
    if len(identities) != 1 or None in identities:
        return None
    if any((r.metric.other_load is None or r.metric.other_load >= NOISY_LOAD) for r in found):
        return None
    times = [_seconds(r.started) for r in found]
    if any(t is None for t in times):
        return None
    return identities.pop() or "", min(t for t in times if t is not None)


def _seconds(stamp: Optional[str]) -> Optional[float]:
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp).timestamp() if stamp else None
    except ValueError:
        return None


# --- regressions -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Regression:
    function: str
    older: str
    newer: str
    kind: str  # "fails" | "slower" | "larger"
    detail: str
    evidence: tuple[str, str]  # job ids: older cell, newer cell
    # What decided it: "outcome" (fails), "size" (larger), "timing", "instructions" or "paired" (slower).
    signal: str = ""
    profile: str = "default"  # the build it is about: `default`, or a counted one (`avx2`)

    @property
    def subject(self) -> str:
        return subject(self.function, self.profile)


def subject(function: str, profile: str) -> str:
    """What a regression is about: the function, and the build when it is not the default one."""
    return function if profile == "default" else f"{function} (`{profile}` build)"


def slower_beyond_noise(older: Timing, newer: Timing) -> bool:
    """Two quiet figures: the newer median beyond NOISE_RATIO. With a noisy one, only a change no
    disturbance explains: the newer release's fastest repetition slower than LOADED_RATIO times
    the older one's slowest (another program on this 2-core machine can at most about double a
    time; the softmax kernel of 3.11 is 11x). Never from a figure of too few repetitions to have an
    interval (the recipe search's one-call timings, taken at load 14 in two sittings, read
    4.03x slower where one paired sitting measured 1.5-2x)."""
    if older.too_few or newer.too_few:
        return False
    if not older.noisy and not newer.noisy:
        return newer.median > older.median * NOISE_RATIO
    if older.high is None or newer.low is None:
        return False
    return newer.low > older.high * LOADED_RATIO


def counted(record: Optional[Record]) -> Optional[float]:
    """Instructions per call of an `instructions` record (stages/instructions.py), if it has them."""
    return record.metric.instructions_per_call if record is not None else None


def slower_pair(
    older: Timing, newer: Timing, older_count: Optional[float] = None, newer_count: Optional[float] = None
) -> Optional[tuple[str, str]]:
    """(detail, signal) when the newer release is slower beyond noise, else None. Two quiet timings
    decide by their medians ("timing"). Where either is noisy and both releases have a count of the
    same build, the counts decide — which the load does not move: more than NOISE_RATIO times the
    instructions is slower ("instructions"), an unchanged count is not (a timing taken beside other
    programs cannot overrule it: session 7's loaded avx2 timings were 10-40x tonight's quiet ones).
    Without counts, the loaded rule of `slower_beyond_noise` still may ("timing"). Quiet timings
    that decide carry the count ratio in their detail where both releases have one."""
    both = f"{formats.duration_ms(older.median)} → {formats.duration_ms(newer.median)}"
    times = formats.ratio(newer.median / older.median)
    quiet = not older.noisy and not newer.noisy
    if not quiet and older_count and newer_count:
        count_ratio = newer_count / older_count
        if count_ratio <= NOISE_RATIO:
            return None
        counts = f"{instructions_text(older_count)} → {instructions_text(newer_count)} per call"
        detail = f"{formats.ratio(count_ratio)} the instructions ({counts}, callgrind)"
        return f"{detail}; timings noisy: {times} ({both})", "instructions"
    if not slower_beyond_noise(older, newer):
        return None
    if not quiet:
        both += f"; noisy, but its fastest repetition is > {LOADED_RATIO:g}× the older's slowest"
    elif older_count and newer_count:
        # Quiet timings decide, but the count stays beside them: a slower time at the same count is
        # a change in how the instructions run (threads, memory, dependencies), worth reading apart.
        both += f"; {formats.ratio(newer_count / older_count)} the instructions"
    return f"{times} slower ({both})", "timing"


def more_instructions(older: Optional[Record], newer: Optional[Record]) -> Optional[tuple[str, str]]:
    """(detail, "instructions") when an untimed build's count grew more than NOISE_RATIO times: a
    count needs no quiet machine, so it decides without a timing."""
    a, b = counted(older), counted(newer)
    if not a or not b or b <= a * NOISE_RATIO:
        return None
    counts = f"{instructions_text(a)} → {instructions_text(b)} per call"
    return f"{formats.ratio(b / a)} the instructions ({counts}, callgrind); not timed", "instructions"


def instructions_text(count: float) -> str:
    """An instruction count as a reader takes it in: 767.7 k, 12.3 M, 4.56 G."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count:.0f}"


def regressions(runs: Runs, exporter: Optional[str] = None) -> list[Regression]:
    """Between consecutive compiler releases (each run by its own runtime): a function that passed
    and now fails; a latency up beyond noise (`slower_pair`); a module > 10 % larger — of the
    runs' profile, then of each build whose instructions were counted (`Runs.counted_profiles`),
    for the functions counted: there the counts decide what noisy timings cannot."""
    out = _profile_regressions(runs, exporter)
    for profile in runs.counted_profiles():
        other = Runs(runs.index, profile, runs.arch)
        counted = {function for (function, _, _) in other.instructions}
        out += [
            dataclasses.replace(r, profile=profile)
            for r in _profile_regressions(other, exporter)
            if r.function in counted
        ]
    return out


def _profile_regressions(runs: Runs, exporter: Optional[str] = None) -> list[Regression]:
    """`regressions` of one profile. A release run on a stand-in runtime (3.7.1 on 3.7.0) is left
    out like one with no runtime: its figure comes from the cross, not from its own release's runtime."""
    out = []
    for function in runs.functions():
        reference = exporter or runs.main_exporter([function])
        compilers = [
            c
            for c in sorted_versions(c for (f, e, c) in runs.compiles if f == function and e == reference)
            if not _no_runtime(run := runs.same(function, reference, c))
            and not (run is not None and stand_in_of(run))
        ]
        out += _function_regressions(runs, function, reference, compilers)
    return out


def _no_runtime(run: Optional[Record]) -> bool:
    """A compiler release whose own runtime could not be installed (3.7.1 has no runtime release):
    no evidence either way, so consecutive releases skip it."""
    return run is not None and run.status is Status.NOT_RUN and (run.blocked_by or "").startswith("install:")


def _function_regressions(runs: Runs, function: str, exporter: str, compilers: list[str]) -> list[Regression]:
    out = []
    for older, newer in zip(compilers, compilers[1:]):
        a, b = runs.same(function, exporter, older), runs.same(function, exporter, newer)
        ca, cb = (
            runs.compiles.get((function, exporter, older)),
            runs.compiles.get((function, exporter, newer)),
        )
        ok_a = a is not None and a.status is Status.OK
        ok_b = b is not None and b.status is Status.OK
        first, second = a or ca, b or cb
        evidence = (first.job if first is not None else "", second.job if second is not None else "")
        # A cell never run (not planned: an untimed counted build, a run still to come) is no evidence.
        if ok_a and b is not None and not ok_b and b.status is not Status.SKIP:
            what = b.status.value + (f" ({b.error_class})" if b.error_class else "")
            if b is not None and b.status is Status.NOT_RUN and cb is not None and cb.status is not Status.OK:
                what = f"compile {cb.status.value} ({cb.error_class or ''})".replace(" ()", "")
            detail = f"passed in {older}, {what} in {newer}"
            out.append(Regression(function, older, newer, "fails", detail, evidence, "outcome"))
            continue
        ia, ib = (runs.instructions.get((function, exporter, v)) for v in (older, newer))
        verdict = paired.against(b, older) if ok_a and ok_b else None
        if verdict is not None and verdict.verdict in _DECIDED:
            # Paired rounds decide (`iree-matrix compare OLDER NEWER` beside the log): "slower" is a
            # regression, anything else is none, whatever the two medians said.
            if verdict.verdict == stats.SLOWER:
                detail = f"{formats.ratio(verdict.ratio)} slower ({verdict.describe()})"
                out.append(Regression(function, older, newer, "slower", detail, evidence, "paired"))
            slower = None
        else:
            # Two medians decide only as figures of one named CPU: a timing of a record that names no
            # family/model is no evidence (a count needs none, `more_instructions`).
            same_cpu = ok_a and ok_b and identified(a) is not None and identified(a) == identified(b)
            ta, tb = (timing(a), timing(b)) if same_cpu else (None, None)
            slower = slower_pair(ta, tb, counted(ia), counted(ib)) if ta and tb else more_instructions(ia, ib)
        if slower is not None:
            detail, signal = slower
            if signal == "instructions" and ia is not None and ib is not None:
                evidence = (ia.job, ib.job)
            out.append(Regression(function, older, newer, "slower", detail, evidence, signal))
        sa = ca.metric.module_bytes if ca is not None and ca.status is Status.OK else None
        sb = cb.metric.module_bytes if cb is not None and cb.status is Status.OK else None
        if sa and sb and sb > sa * SIZE_RATIO:
            detail = f"module {formats.ratio(sb / sa)} larger ({formats.size(sa)} → {formats.size(sb)})"
            jobs = (ca.job if ca else "", cb.job if cb else "")
            out.append(Regression(function, older, newer, "larger", detail, jobs, "size"))
    return out


# --- exporters ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SameMLIR:
    function: str
    sha256: str
    exporters: tuple[str, ...]


def identical_exports(runs: Runs) -> list[SameMLIR]:
    """Per function, the exporters whose MLIR is byte-identical (by the export's content digest)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for (function, exporter), r in runs.exports.items():
        sha = r.metric.mlir_sha256
        if r.status is Status.OK and sha:
            groups.setdefault((function, sha), []).append(exporter)
    return [
        SameMLIR(function, sha, tuple(sorted(exporters, key=natural_key)))
        for (function, sha), exporters in sorted(groups.items())
    ]
