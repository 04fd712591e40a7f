"""The typed view of a record's metrics (`Metrics`, `StageMetrics`), and how a figure read from a record
is held to what a measurement can be."""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Optional, TypeVar, Union

if TYPE_CHECKING:  # 3.11's typing (the runtime is 3.9+): what makes each subclass a dataclass to mypy
    from typing import dataclass_transform
else:
    dataclass_transform = lambda **_: lambda cls: cls  # noqa: E731

# Figures are held on read to what a measurement can be, 0 up to these bounds: another party's latency
# of -5 or 1e308 would be a negative speed-up or an overflow in a plot.
MAX_TIME = 1e9  # ms: 11.6 days; s: 31 years
MAX_BYTES = float(1 << 50)
_BOUNDED = (("_bytes", MAX_BYTES), ("_ms", MAX_TIME), ("seconds", MAX_TIME))


def figure_problem(name: str, value: Any) -> str:
    """Why a time or size metric (by its name's suffix) is refused: below 0, above its bound, NaN; or ""."""
    if (bound := next((limit for suffix, limit in _BOUNDED if name.endswith(suffix)), None)) is None:
        return ""
    for figure in _figures(value):
        if not 0 <= figure <= bound:  # NaN fails both
            return f"metric {name!r} holds {figure!r}, outside 0 … {bound:g}"
    return _spread_problem(name, value) if isinstance(value, Mapping) else ""


def _spread_problem(name: str, timed: Mapping[str, Any]) -> str:
    """A timed metric whose median lies outside its own min … max, or whose n is not its times' count."""
    low, mid, high = (number(timed.get(k)) for k in ("min", "median", "max"))
    if low is not None and mid is not None and high is not None and not low <= mid <= high:
        return f"metric {name!r}: its median {mid!r} lies outside its min … max ({low!r} … {high!r})"
    times, n = timed.get("times"), timed.get("n")
    if isinstance(times, list) and isinstance(n, int) and n != len(times):
        return f"metric {name!r}: n is {n} but it holds {len(times)} times"
    return ""


def _figures(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value
    elif isinstance(value, (Mapping, list, tuple)):
        for inner in value.values() if isinstance(value, Mapping) else value:
            yield from _figures(inner)


def number(value: Any) -> Optional[float]:
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


def metric(doc: str, default: Any = None, key: str = "") -> Any:
    """A field of a `StageMetrics` dataclass; `key`: its name in the record when that is no Python name."""
    metadata = {"doc": doc, "key": key} if key else {"doc": doc}
    if isinstance(default, (dict, list)):  # each instance its own empty one
        return dataclasses.field(default_factory=type(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _key(field: dataclasses.Field[Any]) -> str:
    return str(field.metadata.get("key") or field.name)


_M = TypeVar("_M", bound="StageMetrics")


@dataclass_transform(frozen_default=True)
class StageMetrics:
    """The base of a stage's metrics: each subclass is made a frozen dataclass. Read back, a value of
    another type than its field's reads as the field's default, never as a wrong figure."""

    stage: ClassVar[str] = ""
    # The `[benchmark]` key whose globs opt cells in to the stage; "" when it needs no opt-in.
    opt_in: ClassVar[str] = ""
    # What opting a cell in does, in a sentence: the key's documentation.
    opt_in_doc: ClassVar[str] = ""

    def __init_subclass__(cls, stage: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.stage = stage or cls.stage
        dataclasses.dataclass(frozen=True)(cls)

    @classmethod
    def read(cls: type[_M], raw: Mapping[str, Any]) -> _M:
        values = {}
        for name, (key, convert, default) in _readers(typing.cast(Any, cls)).items():
            value = convert(raw.get(key)) if key in raw else None
            values[name] = default() if value is None else value
        return cls(**values)

    def written(self) -> dict[str, Any]:
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        return {_key(f): v for f in fields if (v := getattr(self, f.name)) is not None}

    @classmethod
    def checked(cls, written: Mapping[str, Any]) -> dict[str, Any]:
        """A stage's metrics as it built them, once each key is one its dataclass declares."""
        if unknown := sorted(set(written) - set(cls.described())):
            raise ValueError(
                f"the {cls.stage} stage wrote metrics {cls.__name__} does not declare: {unknown}"
            )
        return dict(written)

    @classmethod
    def described(cls) -> dict[str, str]:
        return {_key(f): f.metadata.get("doc", "") for f in dataclasses.fields(cls)}  # type: ignore[arg-type]


class TimingContext(StageMetrics):
    """The base of a timed stage's metrics: with its own, the load it was timed under (the executor's)."""

    other_load: Optional[float] = metric("cores other programs kept busy meanwhile (the executor's)")
    load_average: Mapping[str, Any] = metric("1-minute load average at the start and the end", {})
    steal_cores: Optional[float] = metric("cores the hypervisor took meanwhile")


def _read_as(kind: Any) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is Union:  # Optional[X]
        (inner,) = [a for a in args if a is not type(None)]
        return _read_as(inner)
    if kind is float:
        return number
    if kind in (bool, str):
        return lambda v: v if isinstance(v, kind) else None
    if kind is int:
        return lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None
    if origin in (tuple, list):  # of text: each item as text; of anything else: as written
        if args[0] is str:
            return lambda v: origin(str(x) for x in v) if isinstance(v, (list, tuple)) else None
        return lambda v: origin(v) if isinstance(v, (list, tuple)) else None
    if origin is dict and args == (str, str):  # names to text (a toolchain's version lines)
        return lambda v: {str(k): str(x) for k, x in v.items()} if isinstance(v, Mapping) else None
    if origin in (Mapping, dict):
        return lambda v: v if isinstance(v, Mapping) else None
    return lambda v: v  # Any


@functools.cache
def _readers(cls: Any) -> dict[str, tuple[str, Any, Any]]:
    """Per field of a `StageMetrics` dataclass: its key in a record, its converter, its default's maker."""
    hints = typing.get_type_hints(cls)
    readers = {}
    for f in dataclasses.fields(cls):
        missing = f.default_factory is dataclasses.MISSING
        default = functools.partial(lambda d: d, f.default) if missing else f.default_factory
        readers[f.name] = (_key(f), _read_as(hints[f.name]), default)
    return readers


class Metrics:
    """A record's metrics, read as its stage's dataclass: `record.metric.of(RunMetrics).latency_median`."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}

    def of(self, kind: type[_M]) -> _M:
        return kind.read(self._raw)


def nonfinite_words(found: Mapping[str, Any]) -> str:
    """`reference_nonfinite` in words: 'output0: 1 NaN and 1 inf of 4 values; output1: 2 NaN of 8 values'."""
    parts = []
    for name, n in found.items():
        n = n if isinstance(n, Mapping) else {}
        kinds = " and ".join(f"{n.get(k)} {w}" for k, w in (("nan", "NaN"), ("inf", "inf")) if n.get(k))
        parts.append(f"{name}: {kinds} of {n.get('of')} values")
    return "; ".join(parts)
