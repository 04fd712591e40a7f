"""The typed view of a result record: its labels (`Labels`, the one schema of `Record.labels`) and
the metrics the stages write (`Metrics`). Everything that reads a record reads these through
`Record.label` and `Record.metric`, never the dictionaries by string (tests/unit/test_records.py
holds src/ to that): a label renamed here is then a mypy error at every reader, a record read back
with a label the schema does not know (an old name) is a `LabelError` naming its job and the label,
and a planned job lacking one its stage requires (`REQUIRED`) is one too — not a blank table cell.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Optional, TypeVar, Union

from iree_matrix.core.model import stats


class LabelError(ValueError):
    """A record's labels do not fit `Labels`: a name it does not know, or one its stage requires missing."""


@dataclasses.dataclass(frozen=True)
class Labels:
    """What every record says about its cell (reports group and filter by these names). The plan
    makes them; `as_dict` is how they are written (empty fields are left out, so an install record
    carries only its own); `of` is how they are read back."""

    model: str = ""  # the function's unit: "whisper_tiny.encoder", or just "mobilenet_v2"
    source_model: str = ""  # the model: "whisper_tiny"
    function: str = ""
    python: str = ""
    torch: str = ""
    turbine: str = ""
    exporter: str = ""  # the exporter environment
    compiler: str = ""
    # a release, "src:<release>[+variant]" (built here), or "source build <id>" (a directory)
    runtime: str = ""
    runtime_tools: str = ""  # that directory
    runtime_source: str = ""  # runtime-build jobs: IREE's source (directory, tarball, git+URL@TAG)
    linkage: str = ""  # runtime-build jobs: static | dynamic
    device: str = ""  # run jobs on a HAL driver other than the default local-task: local-sync
    arch: str = ""  # a target's label: x86_64, aarch64-cortex-a72, armv6-arm1176jzf-s
    profile: str = ""
    form: str = ""  # compile and run jobs of MLIR bytecode: "bytecode" (text, the default, is left out);
    # export, compile and run jobs of the ONNX front door: "onnx:<opset>"
    peers: str = ""  # peer jobs: the peers asked for, comma-separated
    env: str = ""  # install jobs: the environment
    kind: str = ""  # install jobs: exporter | compiler | runtime | peer

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v}

    @classmethod
    def of(cls, labels: Mapping[str, Any], job: str = "", stage: str = "") -> Labels:
        """`labels` (a record's or a job's) as the schema; a `LabelError` naming `job` and the label
        when one is not a label, or — given the `stage` — one that every record of it carries is missing."""
        unknown = sorted(set(labels) - set(NAMES))
        if unknown:
            raise LabelError(
                f"{_who(job)}: unknown label {unknown[0]!r} (the labels are {', '.join(NAMES)}); "
                "a record written by another iree-matrix: re-run its stage or read it with that version"
            )
        view = cls(**{name: "" if value is None else str(value) for name, value in labels.items()})
        for name, text in view.as_dict().items():
            problem = label_problem(name, text)
            if problem:
                raise LabelError(f"{_who(job)}: label {name!r} {problem}")
        if stage:
            view.require(stage, job)
        return view

    def require(self, stage: str, job: str = "") -> None:
        """A `LabelError` naming the first label every `stage` record carries that this one lacks."""
        needed = REQUIRED.get(stage, ())
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            raise LabelError(
                f"{_who(job)}: no label {missing[0]!r}, which every {stage} record carries "
                f"({', '.join(needed)})"
            )

    @property
    def run_runtime(self) -> str:
        """The runtime a run used, as the tables name it: "3.9.0", "src:3.9.0+static", and
        " (local-sync)" after it for a HAL driver other than the default local-task."""
        return runtime_name(self.runtime) + (f" ({self.device})" if self.device else "")

    @property
    def unit(self) -> str:
        """The model a cell is of, as the planner named it (`source_model`, else the unit's model)."""
        return self.source_model or self.model


NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Labels))

# The labels the planner gives every job of a stage (tests/unit/test_records.py holds the two equal
# over the shipped matrices), so every record it writes carries them. A record read back is held
# to the names only (`of` without a stage): labels were added over time, and a log an older
# iree-matrix wrote (no source_model, no function) stays readable.
_EXPORT = ("model", "source_model", "function", "python", "torch", "turbine", "exporter")
_COMPILE = (*_EXPORT, "compiler", "arch", "profile")
# A label names a model, a release, a target, a profile: it travels in records other parties made
# (merge, shards, a published set) and ends up in file names, tables, shell lines and matrix files.
# So a name is held, wherever a record is read, to the alphabet the planner names things in and to a
# length that leaves room in a file name (255 bytes) for what is added to it. The labels that are a
# path or a list (below) may hold more, but never a control character: an ESC in a name redrew the
# terminal that printed it, a newline in one began a new line of a generated file.
NAME_CHARS = "A-Za-z0-9._+@~:/-"
MAX_NAME = 200
MAX_TEXT = 4096
_NAME = re.compile(f"[{NAME_CHARS}]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# runtime: "source build <directory's name>" for tools in a directory; runtime_tools and
# runtime_source: paths (and URLs); peers: a comma-separated list.
_TEXT_LABELS = frozenset({"runtime", "runtime_tools", "runtime_source", "peers"})


def shown(text: str, limit: int = 60) -> str:
    """`text` as a message may quote it from a record: its repr (no control character reaches the
    terminal) and at most `limit` characters of it, so one bad value is one line."""
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def _who(job: str) -> str:
    """A job id as a message names it: itself, or its repr when it holds what a terminal acts on."""
    if not job:
        return "a record"
    return shown(job) if text_problem(job) else job


def name_problem(text: str, limit: int = MAX_NAME) -> str:
    """Why `text` is not a name ("" when it is): a character outside `NAME_CHARS`, or too long."""
    if len(text) > limit:
        return f"is {len(text)} characters long (a name has at most {limit})"
    if not _NAME.fullmatch(text):
        bad = next(c for c in text if not _NAME.fullmatch(c))
        return f"is {shown(text)}, with {bad!r} (a name is made of {NAME_CHARS})"
    return ""


def text_problem(text: str, limit: int = MAX_TEXT) -> str:
    """Why `text` (read from a record, to be shown or written) is refused: a control character
    (tab and newline included: it is one value on one line), or too long ("" when neither)."""
    if len(text) > limit:
        return f"is {len(text)} characters long (at most {limit})"
    found = _CONTROL.search(text)
    if found:
        return f"is {shown(text)}, with the control character {found.group()!r}"
    return ""


def label_problem(name: str, text: str) -> str:
    """Why a label's value is refused ("" when it is not)."""
    return text_problem(text) if name in _TEXT_LABELS else name_problem(text)


REQUIRED: dict[str, tuple[str, ...]] = {
    "runtime-build": ("runtime", "arch", "runtime_source", "linkage"),
    "install": ("env", "kind", "python"),
    "export": _EXPORT,
    "compile": _COMPILE,
    "run": (*_COMPILE, "runtime"),
    "dispatches": (*_COMPILE, "runtime"),
    "peer": ("model", "source_model", "function", "python", "torch", "peers"),
}


SOURCE_BUILD = "source build"


def tools_runtime(tools: str) -> str:
    """A directory of runtime tools as a reader names that runtime: "source build <id>" (the build's
    store key for a runtime built here, `<cache>/store/runtime-build/<key>/tools`; else the directory)."""
    parts = Path(tools).parts
    if len(parts) >= 2 and parts[-1] == "tools":
        return f"{SOURCE_BUILD} {parts[-2][:8]}"
    return f"{SOURCE_BUILD} {parts[-1] if parts else tools}"


def runtime_name(label: str) -> str:
    """A runtime as a reader names it: a release ("3.9.0"), or "source build <id>" for tools in a
    directory. Records written before the plan named them so carry "dir:<path>"."""
    return tools_runtime(label[len("dir:") :]) if label.startswith("dir:") else label


# --- metrics ---------------------------------------------------------------------------------------

# Figures that readers divide, compare, plot and format: a record from another party holding a
# latency of -5 or 1e308 would be a negative speed-up, an overflow to inf or a crash in a plot. Held
# on read to what a measurement can be (a time in ms or s, a size in bytes): 0 up to these bounds.
# The published extremes are far inside them (a 52-minute latency, 237 MB of MLIR).
MAX_TIME = 1e9  # ms: 11.6 days; s: 31 years
MAX_BYTES = float(1 << 50)
_BOUNDED = (("_bytes", MAX_BYTES), ("_ms", MAX_TIME), ("seconds", MAX_TIME))


def figure_problem(name: str, value: Any) -> str:
    """Why a metric (a time or a size, by its name's suffix: `_ms`, `seconds`, `_bytes`) is refused
    ("" when it is in bounds, or not such a figure): a number in it below 0, above its bound, or NaN.
    A timed metric's dictionary (median, min, max, times, n) is held whole."""
    bound = next((limit for suffix, limit in _BOUNDED if name.endswith(suffix)), None)
    if bound is None:
        return ""
    for figure in _figures(value):
        if not 0 <= figure <= bound:  # NaN fails both
            return f"metric {name!r} holds {figure!r}, outside 0 … {bound:g}"
    return ""


def _figures(value: Any) -> Any:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _figures(inner)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from _figures(inner)


def number(value: Any) -> Optional[float]:
    """A finite float from a metric, or None (missing, a bool, text, NaN)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        figure = float(value)
    except (TypeError, ValueError):
        return None
    return figure if math.isfinite(figure) else None


@dataclasses.dataclass(frozen=True)
class Timed:
    """A timed metric: `{"median": …, "min": …, "max": …, "n": …}`, or a bare number (a median)."""

    median: Optional[float]
    low: Optional[float] = None
    high: Optional[float] = None
    n: Optional[int] = None  # repetitions; None: not recorded (a bare number, an older record)

    @classmethod
    def of(cls, value: Any) -> Optional[Timed]:
        if value is None:
            return None
        if isinstance(value, Mapping):
            count = value.get("n")
            n = count if isinstance(count, int) and not isinstance(count, bool) else None
            return cls(number(value.get("median")), number(value.get("min")), number(value.get("max")), n)
        return cls(number(value))


def metric(doc: str, default: Any = None) -> Any:
    """A field of a `StageMetrics` dataclass: what it means (`doc`, the stage's `metrics` entry) and
    its value when a record lacks it (None; a container type's empty value: `()`, `{}`)."""
    if isinstance(default, Mapping):
        return dataclasses.field(default_factory=dict, metadata={"doc": doc})
    return dataclasses.field(default=default, metadata={"doc": doc})


_M = TypeVar("_M", bound="StageMetrics")


class StageMetrics:
    """The base of a stage's metrics: a frozen dataclass whose fields (each a `metric(doc)`) are what
    its records' `metrics` hold. The stage writes one (`written`: the record's dictionary), declares
    its fields (`described`: the stage's `metrics`), and every reader reads one back from a record
    (`record.metric.of(PeakMetrics)`, `read`): each value converted by its field's type — a value of
    another type (an older record, a hand-edited log) reads as the field's default, never as a wrong
    figure. One module per stage in `core/model/metrics/` (the foundation layer, so the report reads it
    without importing the stages)."""

    stage: ClassVar[str] = ""
    # The `[benchmark]` key whose "<model>/<profile>" globs name the cells the stage measures (a
    # matrix file opts them in: `spec.Benchmark.opts_in`); "" when the stage needs no opt-in.
    opt_in: ClassVar[str] = ""
    # What opting a cell in does, in a sentence: the key's documentation, where users read it (an
    # unknown `[benchmark]` key's error lists every opt-in with it; docs/matrix-files.md says so).
    opt_in_doc: ClassVar[str] = ""

    @classmethod
    def read(cls: type[_M], raw: Mapping[str, Any]) -> _M:
        values = {}
        for name, (convert, default) in _readers(typing.cast(Any, cls)).items():
            value = convert(raw.get(name)) if name in raw else None
            values[name] = default() if value is None else value
        return cls(**values)

    def written(self) -> dict[str, Any]:
        """The record's `metrics`: every field that has a value (None is left out)."""
        return {f.name: v for f in dataclasses.fields(self) if (v := getattr(self, f.name)) is not None}  # type: ignore[arg-type]

    @classmethod
    def described(cls) -> dict[str, str]:
        """Name -> meaning of every field: the stage's `metrics` (what test_stages holds records to)."""
        return {f.name: f.metadata.get("doc", "") for f in dataclasses.fields(cls)}  # type: ignore[arg-type]


def _read_as(kind: Any) -> Any:
    """The converter of a field's type: the value as that type, or None when it is not one."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is Union:  # Optional[X]
        (inner,) = [a for a in args if a is not type(None)]
        return _read_as(inner)
    if kind is float:
        return number
    if kind is bool:
        return lambda v: v if isinstance(v, bool) else None
    if kind is int:
        return lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None
    if kind is str:
        return lambda v: v if isinstance(v, str) else None
    if origin in (tuple, list):
        return lambda v: tuple(str(x) for x in v) if isinstance(v, (list, tuple)) else None
    if origin in (Mapping, dict):
        return lambda v: v if isinstance(v, Mapping) else None
    return lambda v: v  # Any


@functools.cache
def _readers(cls: Any) -> dict[str, tuple[Any, Any]]:
    """Per field of a `StageMetrics` dataclass: its converter, and a function giving its default."""
    hints = typing.get_type_hints(cls)
    readers = {}
    for f in dataclasses.fields(cls):
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory
        else:
            default = functools.partial(lambda d: d, f.default)
        readers[f.name] = (_read_as(hints[f.name]), default)
    return readers


class Metrics:
    """What a stage measured, by name (the figures the report, the answers and `query` read): a stage
    with a `StageMetrics` dataclass is read through it (`of`); the others through the properties here."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}

    def of(self, kind: type[_M]) -> _M:
        """These metrics as a stage's dataclass (`core/model/metrics/`): `metric.of(PeakMetrics).gflops_1`."""
        return kind.read(self.raw)

    def _number(self, name: str) -> Optional[float]:
        return number(self.raw.get(name))

    def _int(self, name: str) -> Optional[int]:
        value = self.raw.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def _text(self, name: str) -> Optional[str]:
        value = self.raw.get(name)
        return value if isinstance(value, str) else None

    # timed figures (run: `latency_ms`; export: `eager_ms`), with the load they were taken under
    @property
    def latency(self) -> Optional[Timed]:
        return Timed.of(self.raw.get("latency_ms"))

    @property
    def eager(self) -> Optional[Timed]:
        return Timed.of(self.raw.get("eager_ms"))

    @property
    def latency_interval(self) -> Optional[stats.Interval]:
        """The interval of the latency's median (`stats.of_latency`), None when it cannot be had."""
        return stats.of_latency(self.raw.get("latency_ms"))

    @property
    def cpu_time(self) -> Optional[Timed]:
        """CPU time per call on one thread (run: `cpu_ms`; export: torch eager's `eager_cpu_ms`;
        peers carry theirs per peer): the figure the machine's load moves least."""
        return Timed.of(self.raw.get("cpu_ms"))

    @property
    def cpu_times(self) -> Optional[list[float]]:
        """The one-thread CPU time of each repetition, when kept (paired verdicts use them)."""
        value = self.raw.get("cpu_ms")
        times = value.get("times") if isinstance(value, Mapping) else None
        if isinstance(times, list) and times and all(number(t) is not None for t in times):
            return [float(t) for t in times]
        return None

    @property
    def cpu_interval(self) -> Optional[stats.Interval]:
        return stats.of_latency(self.raw.get("cpu_ms"))

    @property
    def eager_cpu(self) -> Optional[Timed]:
        return Timed.of(self.raw.get("eager_cpu_ms"))

    @property
    def latency_median(self) -> Optional[float]:
        return self.latency.median if self.latency is not None else None

    @property
    def eager_median(self) -> Optional[float]:
        return self.eager.median if self.eager is not None else None

    @property
    def other_load(self) -> Optional[float]:
        return self._number("other_load")

    @property
    def disagrees(self) -> Optional[str]:
        """Set by `release_verdicts.cross_checked`: a quieter figure of the same module (what, where,
        when)."""
        return self.raw.get(DISAGREES) or None

    @property
    def paired(self) -> Mapping[str, Any]:
        """Set by `answers.paired.attach`: the other arm's name -> this run's paired verdict against it."""
        value = self.raw.get(PAIRED)
        return value if isinstance(value, Mapping) else {}

    @property
    def timing(self) -> Optional[str]:
        """How a run was timed: "native", or "emulated …" (qemu); None when the record does not say."""
        value = self.raw.get("timing")
        return None if value is None else str(value)

    @property
    def emulated(self) -> bool:
        return (self.timing or "").startswith("emulated")

    @property
    def seconds(self) -> Optional[float]:
        return self._number("seconds")

    # sizes, bytes
    @property
    def module_bytes(self) -> Optional[float]:
        return self._number("module_bytes")

    @property
    def mlir_bytes(self) -> Optional[float]:
        return self._number("mlir_bytes")

    @property
    def peak_memory_bytes(self) -> Optional[float]:
        return self._number("peak_memory_bytes")

    @property
    def iree_run_module_bytes(self) -> Optional[float]:
        return self._number("iree_run_module_bytes")

    # a run's outputs against torch's
    @property
    def max_abs_err(self) -> Optional[float]:
        return self._number("max_abs_err")

    @property
    def max_rel_err(self) -> Optional[float]:
        return self._number("max_rel_err")

    @property
    def atol(self) -> Optional[float]:
        return self._number("atol")

    @property
    def rtol(self) -> Optional[float]:
        return self._number("rtol")

    # runtime-build: the tools it built, how, and what they need from the target's C library
    def tool_bytes(self, tool: str, stripped: bool = False) -> Optional[float]:
        """The size of a tool it built ("iree-run-module"), as built or stripped."""
        return self._number(f"{tool}_stripped_bytes" if stripped else f"{tool}_bytes")

    @property
    def bytes(self) -> Optional[int]:
        """A runtime build's tools on disk, together."""
        return self._int("bytes")

    @property
    def float_abi(self) -> Optional[str]:
        """An ARM build's float ABI (from its ELF attributes), None when not ARM."""
        return self._text("float_abi")

    @property
    def build_seconds(self) -> Optional[float]:
        return self._number("build_seconds")

    @property
    def needed(self) -> list[str]:
        return [str(v) for v in self.raw.get("needed") or []]

    @property
    def glibc_versions(self) -> list[str]:
        return [str(v) for v in self.raw.get("glibc_versions") or []]

    @property
    def cflags(self) -> str:
        return str(self.raw.get("cflags") or "")

    @property
    def source(self) -> str:
        return str(self.raw.get("source") or "")

    @property
    def device(self) -> str:
        value = self.raw.get("device")
        return str(value) if value else ""

    @property
    def gpu_devices(self) -> tuple[str, ...]:
        """The devices a GPU run's runtime listed, by name (run: `gpu_devices`)."""
        value = self.raw.get("gpu_devices")
        return tuple(str(v) for v in value) if isinstance(value, (list, tuple)) else ()

    # content digests (schema 2): None when unknown
    @property
    def mlir_sha256(self) -> Optional[str]:
        return self._text("mlir_sha256")

    @property
    def mlirbc_sha256(self) -> Optional[str]:
        return self._text("mlirbc_sha256")

    @property
    def onnx_sha256(self) -> Optional[str]:
        """An `onnx` form's export: its model.onnx."""
        return self._text("onnx_sha256")

    @property
    def onnx_opset(self) -> Optional[int]:
        value = self.raw.get("onnx_opset")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def module_sha256(self) -> Optional[str]:
        return self._text("module_sha256")

    @property
    def outputs_sha256(self) -> Optional[str]:
        return self._text("outputs_sha256")

    @property
    def module_parts_sha256(self) -> dict[str, str]:
        """A compile's module by part (the bytecode, each executable): empty when unknown."""
        value = self.raw.get("module_parts_sha256")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}

    @property
    def host_cpu(self) -> Optional[str]:
        """The CPU a compile for the `host` target was compiled for."""
        return self._text("host_cpu")

    @property
    def llvm_host_cpu(self) -> Optional[str]:
        """LLVM's name for that CPU, as the compiler resolved `target-cpu=host` (znver4)."""
        return self._text("llvm_host_cpu")

    @property
    def matches(self) -> bool:
        """A run's outputs match torch's within the model's tolerance."""
        return bool(self.raw.get("matches"))

    # what the peer, dispatches and op-profiling runs measured, as they stored it
    @property
    def peers(self) -> Mapping[str, Any]:
        """A peer record's result per framework ("eager", "onnxruntime", …): status, latency_ms, error."""
        value = self.raw.get("peers")
        return value if isinstance(value, Mapping) else {}

    @property
    def dispatches(self) -> list[Any]:
        """A dispatches record's executables, each timed on its own (name, median_us, …)."""
        value = self.raw.get("dispatches")
        return list(value) if isinstance(value, list) else []

    @property
    def op_profile(self) -> Optional[Mapping[str, Any]]:
        """A run's HAL profile (dispatches by time, or why there is none), when it was asked for."""
        value = self.raw.get("op_profile")
        return value if isinstance(value, Mapping) else None

    @property
    def kernel(self) -> Mapping[str, Any]:
        """A compile for an ARM target: its kernel ELF's attributes (Tag_CPU_arch, float_abi, …)."""
        value = self.raw.get("kernel")
        return value if isinstance(value, Mapping) else {}

    @property
    def dispatch_count(self) -> Optional[int]:
        """How many dispatches a compile's module has."""
        return self._int("dispatch_count")

    @property
    def benchmarked(self) -> Optional[int]:
        """A dispatches record: how many executables were timed on their own."""
        return self._int("benchmarked")

    @property
    def not_benchmarked(self) -> list[Any]:
        """A dispatches record: the executables that could not be compiled alone."""
        value = self.raw.get("not_benchmarked")
        return list(value) if isinstance(value, list) else []

    @property
    def sum_median_us(self) -> Optional[float]:
        """A dispatches record: the timed executables' medians, summed."""
        return self._number("sum_median_us")

    # instructions (stages/instructions.py): callgrind's count of one call
    @property
    def instructions(self) -> Mapping[str, Any]:
        """per_call, runs (iterations, total), counted (the function), device, tool."""
        value = self.raw.get("instructions")
        return value if isinstance(value, Mapping) else {}

    @property
    def instructions_per_call(self) -> Optional[float]:
        return number(self.instructions.get("per_call"))

    # flops and peak (stages/flops.py, stages/peak.py): `core/model/metrics/flops.py`, `.../peak.py`
    @property
    def threads(self) -> Optional[int]:
        return self._int("threads")

    @property
    def method(self) -> str:
        return self._text("method") or ""

    # a firmware run (bare metal, under qemu-system-arm): what it needs of a board
    @property
    def machine(self) -> str:
        """The qemu machine it ran on ("mps2-an386"), "" for any other run."""
        return self._text("machine") or ""

    @property
    def cpu(self) -> str:
        return self._text("cpu") or ""

    @property
    def flash_bytes(self) -> Optional[int]:
        return self._int("flash_bytes")

    @property
    def ram_bytes(self) -> Optional[int]:
        return self._int("ram_bytes")

    @property
    def machine_flash_bytes(self) -> Optional[int]:
        return self._int("machine_flash_bytes")

    @property
    def machine_ram_bytes(self) -> Optional[int]:
        return self._int("machine_ram_bytes")

    @property
    def heap_peak_bytes(self) -> Optional[int]:
        return self._int("heap_peak_bytes")

    @property
    def stack_peak_bytes(self) -> Optional[int]:
        return self._int("stack_peak_bytes")

    @property
    def heap_at_bytes(self) -> Mapping[str, Any]:
        """The heap in use at the firmware's marks ("inputs", …)."""
        value = self.raw.get("heap_at_bytes")
        return value if isinstance(value, Mapping) else {}

    @property
    def fits(self) -> Mapping[str, Any]:
        """Per board ("STM32F746 (…)"), whether the firmware fits its flash and RAM."""
        value = self.raw.get("fits")
        return value if isinstance(value, Mapping) else {}

    @property
    def toolchain(self) -> dict[str, str]:
        """A runtime build's compilers', CMake's and ninja's version lines (its key hashes them)."""
        value = self.raw.get("toolchain")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}

    @property
    def built_in(self) -> str:
        """Where a runtime build ran: "the toolchain image" or "the host's toolchain"."""
        return str(self.raw.get("built_in") or "")

    @property
    def runtime_defines(self) -> list[str]:
        """A firmware run's runtime build: the API switches read off the release's headers."""
        value = self.raw.get("runtime_build")
        defines = value.get("defines") if isinstance(value, Mapping) else None
        return [str(d) for d in defines] if isinstance(defines, list) else []

    @property
    def qemu_seconds(self) -> Optional[float]:
        return self._number("qemu_seconds")

    @property
    def importer(self) -> Optional[str]:
        """The compiler package whose importer wrote an export's bytecode."""
        return self._text("importer")

    @property
    def exit_hang(self) -> Mapping[str, Any]:
        """An export whose process did not end after writing its outputs and was killed (the export
        stands): seconds after its outputs, and idle seconds or the stage timeout; empty otherwise."""
        value = self.raw.get("exit_hang")
        return value if isinstance(value, Mapping) else {}

    @property
    def module_versions(self) -> dict[str, str]:
        """What a compile's module asks of a runtime ({"bytecode": …, "hal": …}), empty if unread."""
        value = self.raw.get("module_versions")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


DISAGREES = "disagrees"  # the metric `release_verdicts.cross_checked` adds to a run it marks
PAIRED = "paired"  # the metric `answers.paired.attach` adds to a run a compare document timed
