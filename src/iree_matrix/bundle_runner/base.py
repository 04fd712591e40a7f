"""What every module of the runner shares: the bundle's file names and schemas, the one error it
reports, and the few helpers each part calls (a result's summary, an exception in the runtime's
words, a cell's array descriptions, this runner's own command line in a new process)."""

from __future__ import annotations

import datetime
import statistics
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from numpy.typing import NDArray

    # Only the type checker sees these (annotations stay strings), so a bundle's Python 3.9 never meets them.
    Json = dict[str, Any]
    Array = NDArray[Any]

PACKAGE = Path(__file__).resolve().parent
# Where the runner was unpacked: the bundle's folder (run.py and this package beside bundle.json).
HERE = PACKAGE.parent

MANIFEST = "bundle.json"
SUMS = "SHA256SUMS"
RECORD_SCHEMA = 2  # iree-matrix's core/model/results.py SCHEMA_VERSION when this runner was written
MANIFEST_SCHEMA = 1
# Google Benchmark's default min time per repetition, which iree-benchmark-module keeps: a
# repetition here lasts at least this long too, so short calls are averaged over many.
MIN_REPETITION_SECONDS = 0.5
MIN_REPETITIONS = 5  # fewer decide nothing in iree-matrix's paired tests (core/model/stats.py)
INTERESTING_FLAGS = tuple("avx avx2 avx512f avx512bw avx512vl avx512_vnni fma sse4_2 neon asimd".split())
GPU_KINDS = {"cuda": "CUDA", "vulkan": "Vulkan", "hip": "HIP"}


def rotating_rounds(
    function: str, timed: list[Json], rounds: int, ask: Callable[[Json], Json], say: Callable[[str], None]
) -> None:
    """`rounds` rounds over `timed` in rotating order, reversed every other round: each arm's median of
    the calls `ask` times appended to its "ms" (or its error kept); sittings differ in whom they ask."""
    for index in range(rounds):
        order = timed[index % len(timed) :] + timed[: index % len(timed)] if timed else []
        for arm in order if index % 2 == 0 else order[::-1]:
            if (answer := ask(arm))["ok"]:
                arm["ms"].append(statistics.median(answer["ms"]))
            else:
                arm["error"] = answer["error"]
        say(f"{function}: round {index + 1} of {rounds}")


class BundleError(Exception):
    """A problem with the bundle or the command line: one line, exit 2."""


def summary(values: list[float], of: str = "") -> Json:
    """Median and spread of `values`, each kept (for the median's interval, stats.py), and what they
    are `of` where said."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
        "times": values,
        **({"of": of} if of else {}),
    }


def clip(exc: object, limit: int = 600) -> str:
    """An exception in the runtime's words, with what it chained ("Could not create device.
    Exception for last tried follows." says nothing without the exception it follows)."""
    parts: list[str] = []
    seen: object = exc
    while seen is not None and len(parts) < 4:
        parts.append(str(seen))
        seen = (seen.__cause__ or seen.__context__) if isinstance(seen, BaseException) else None
    text = " ".join("; ".join(p for p in parts if p).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def descriptions(cell: Json, which: str) -> list[Json]:
    """The export's description of the cell's inputs or outputs (dtype, shape, `saved_as` for raw bits)."""
    return list((cell.get("arrays") or {}).get(which) or [])


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# A new process of this runner (a cell's child, a sitting's timing worker) imports the package from where it
# lies, by path: in a bundle that is beside run.py, inside iree-matrix it is iree_matrix/bundle_runner, whose
# parent folder must not go on sys.path (its `iree/` would hide IREE's own `iree.runtime`).
_BOOT = (
    "import importlib.util, sys; p = sys.argv.pop(1); "
    "s = importlib.util.spec_from_file_location('bundle_runner', p + '/__init__.py', "
    "submodule_search_locations=[p]); m = importlib.util.module_from_spec(s); "
    "sys.modules['bundle_runner'] = m; s.loader.exec_module(m); "
    "from bundle_runner.cli import main; sys.exit(main())"
)


def command(*args: str) -> list[str]:
    """`python -c BOOT PACKAGE ARGS`: this runner's command line `ARGS` in a new process."""
    return [sys.executable, "-c", _BOOT, str(PACKAGE), *args]
