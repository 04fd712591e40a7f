"""A matrix file's run-setting tables (`[limits]`, `[timeouts]`, `[benchmark]`, `peers`, ...) checked
and read, and where an error in a matrix file is said (`Where`): one line naming file, key and value."""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Union

from iree_matrix.core.errors import SpecError
from iree_matrix.core.system import process_tree
from iree_matrix.iree import versions
from iree_matrix.matrix import peers as peer_registry
from iree_matrix.matrix import schema, torch_ranges
from iree_matrix.matrix.models import ModelRef
from iree_matrix.matrix.spec import DEVICES, Benchmark, Cell

PYTHON_RE = re.compile(r"3\.\d+")  # a Python version as matrix files name one


@dataclasses.dataclass(frozen=True)
class Where:
    path: Path

    def error(self, key: str, value: Any, why: str) -> SpecError:
        return SpecError(f"{self.path}: {key} = {value!r}: {why}")


def as_list(value: Any) -> list[str]:
    """A string or a non-empty list of strings (the schema's), as a list without repeats."""
    return list(dict.fromkeys([value] if isinstance(value, str) else value))


def parse_supported_torch(table: Any, where: Where) -> dict[str, str]:
    """`[supported_torch]`: turbine release ("3.9.0", or "3.9" for its patches) -> torch range."""
    for turbine, specifier in table.items():
        key = f"supported_torch.{turbine}"
        if not versions.is_valid(turbine):
            raise where.error(key, specifier, 'keys are iree-turbine releases such as "3.9.0" or "3.9"')
        if problem := torch_ranges.range_problem(specifier):
            raise where.error(key, specifier, problem)
    return dict(table)


def parse_compiler_python(value: str, where: Where) -> str:  # a string: the schema checked
    if value != "" and not PYTHON_RE.fullmatch(value):
        raise where.error("compiler_python", value, 'expected a Python minor version such as "3.11"')
    return value


def parse_interpreters(table: Any, where: Where) -> dict[str, str]:
    """`[interpreters]`: the interpreter for a Python version (venv backend); relative to the file."""
    _by_python(table, where, "interpreters", "3.10", "expected the path of a python executable")
    return {
        python: str((where.path.parent / interpreter).expanduser()) for python, interpreter in table.items()
    }


def parse_iree_source(value: Any, where: Where) -> dict[str, str]:
    """`iree_source = "SRC"` (every src: runtime) or `[iree_source] "3.9.0" = "SRC"`; a local path
    is relative to the matrix file."""
    table = {"*": value} if isinstance(value, str) else value
    out = {}
    for release, source in table.items():
        key = "iree_source" if release == "*" else f"iree_source.{release}"
        if release != "*" and not versions.is_valid(release):
            raise where.error(key, source, 'keys are releases such as "3.9.0"')
        if not source.strip():
            raise where.error(key, source, "expected IREE's source: a directory, a tarball, or git+URL@TAG")
        out[release] = source if source.startswith("git+") else str((where.path.parent / source).expanduser())
    return out


def parse_limits(table: Any, where: Where) -> dict[str, Union[str, int]]:
    """`[limits]`: what each environment command may use - memory = "8G" (or "75%", "none"),
    processes = 4096 (tasks: processes and threads; or "none"). docs/failures.md says how."""
    parsers = {"memory": process_tree.parse_memory, "processes": process_tree.parse_processes}
    for key, value in table.items():
        try:
            parsers[key](value)
        except (ValueError, TypeError) as exc:
            raise where.error(f"limits.{key}", value, str(exc)) from None
    return dict(table)


def parse_timeouts(table: Any, where: Where) -> dict[str, float]:
    # Which keys name a stage is the stages' to say (`stages.check`, when the matrix is planned):
    # here, only the seconds. A stage not named takes its own default (its module's `timeout`).
    for stage, seconds in table.items():
        if not 0 < seconds < math.inf:  # the schema says a number > 0: not nan nor inf either
            raise where.error(f"timeouts.{stage}", seconds, "expected a positive, finite number of seconds")
    return {stage: float(seconds) for stage, seconds in table.items()}


def parse_peers(value: Any, where: Where) -> tuple[str, ...]:
    if value == []:
        return ()
    peers = as_list(value)
    known = peer_registry.names()  # the modules of scripts/peer_frameworks/
    for peer in peers:
        if peer not in known:
            raise where.error("peers", peer, f"unknown peer (known: {', '.join(known)})")
    return tuple(p for p in known if p in peers)


def parse_images(table: Any, where: Where) -> dict[str, str]:
    """`[images]`: a base image per Python for the docker backend, instead of a Debian suite."""
    _by_python(table, where, "images", "3.12", "expected an image reference (name:tag)")
    return dict(table)


def _by_python(table: Any, where: Where, name: str, example: str, expected: str) -> None:
    """A table by Python version (`[images]`, `[interpreters]`): each key one, each value not blank."""
    for python, value in table.items():
        if not PYTHON_RE.fullmatch(python):
            raise where.error(f"{name}.{python}", value, f'keys are Python versions such as "{example}"')
        if not value.strip():
            raise where.error(f"{name}.{python}", value, expected)


def function_profiles(
    cells: Sequence[Cell], refs: Mapping[str, ModelRef], profiles: Sequence[str]
) -> list[str]:
    """Every "<function>/<profile>" an opt-in may name (`whisper_tiny.encoder/default`): the cells'
    functions under their profiles, or any profile the file knows (`tune --profiles` picks others)."""
    functions = {
        refs[c.model].function_name(f) for c in cells if c.model in refs for f in refs[c.model].functions
    }
    named = {*profiles, *(c.profile_label for c in cells)}
    return sorted(f"{function}/{profile}" for function in functions for profile in named)


def parse_benchmark(table: Any, where: Where, units: Optional[Sequence[str]] = None) -> Benchmark:
    """`[benchmark]`; with `units` (`function_profiles`), an opt-in glob that matches none of them is
    refused: `dispatches = ["nosuch/default"]` opted nothing in, without a word."""
    opt_in_keys = schema.opt_ins()
    keys = ("repetitions", "seed", "threads", "time_cross_runtime")
    values: dict[str, Any] = {k: table[k] for k in keys if k in table}
    if "time_budget" in table:
        values["time_budget"] = float(table["time_budget"])
    opt_in = []
    for key in (k for k in table if k in opt_in_keys):
        globs = as_list(table[key])
        for glob in globs:
            if "/" not in glob:
                expected = 'expected "<model>/<profile>" globs, e.g. "mobilenet_v2/default"'
                raise where.error(f"benchmark.{key}", glob, expected)
            if units is not None and not any(fnmatch.fnmatchcase(unit, glob) for unit in units):
                functions = sorted({unit.split("/")[0] for unit in units})
                shown = ", ".join(functions[:6]) + (", ..." if len(functions) > 6 else "")
                why = f"matches no <function>/<profile> of this matrix (functions: {shown}); fix or remove it"
                raise where.error(f"benchmark.{key}", glob, why)
        opt_in.append((key, tuple(globs)))
    values["opt_in"] = tuple(opt_in)
    if "devices" in table:
        devices = as_list(table["devices"])
        for device in devices:
            if device not in DEVICES:
                known = ", ".join(DEVICES)
                raise where.error("benchmark.devices", device, f"unknown HAL driver (known: {known})")
        values["devices"] = tuple(devices)
    return Benchmark(**values)
