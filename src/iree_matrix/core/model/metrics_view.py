"""The typed view of a record's metrics: `Metrics` (what a stage measured, by name; `Record.metric`),
the `StageMetrics` base of each stage's dataclass in `core/model/metrics/` with its `metric` fields,
and how a figure read from a record is held to what a measurement can be (`number`, `Timed`,
`figure_problem`). Apart from records.py (the labels) because the two are read by different readers:
the planner and the tables group by labels; the answers and the report read figures."""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Optional, TypeVar, Union

from iree_matrix.core.model import stats

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
        """Set by `runs_view.cross_checked`: a quieter figure of the same module (what, where,
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

    # what the model itself did, found by the export and the run (the model's answer, not IREE's)
    @property
    def changes_inputs(self) -> tuple[str, ...]:
        """An export's words per input the model changed in place ("input 0: 8 of 8 values")."""
        value = self.raw.get("changes_inputs")
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, (list, tuple)) else ()

    @property
    def reference_nonfinite(self) -> Mapping[str, Any]:
        """An export's NaN and inf counts per output of torch's own reference (`nonfinite_words`)."""
        value = self.raw.get("reference_nonfinite")
        return value if isinstance(value, Mapping) else {}

    @property
    def unchecked_values(self) -> Optional[int]:
        """A run's output values left unchecked where torch's own output is NaN or inf."""
        return self._int("unchecked_values")

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


DISAGREES = "disagrees"  # the metric `runs_view.cross_checked` adds to a run it marks
PAIRED = "paired"  # the metric `answers.paired.attach` adds to a run a compare document timed


def nonfinite_words(found: Mapping[str, Any]) -> str:
    """`reference_nonfinite` in words: 'output0: 1 NaN and 1 inf of 4 values; output1: 2 NaN of 8 values'."""
    parts = []
    for name, n in found.items():
        n = n if isinstance(n, Mapping) else {}
        kinds = " and ".join(f"{n.get(k)} {w}" for k, w in (("nan", "NaN"), ("inf", "inf")) if n.get(k))
        parts.append(f"{name}: {kinds} of {n.get('of')} values")
    return "; ".join(parts)
