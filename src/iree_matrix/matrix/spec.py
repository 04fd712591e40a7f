"""A matrix as frozen dataclasses (`Cell`, `Benchmark`, `MatrixSpec`) and the command line's transforms
of a parsed matrix. matrix/spec_file.py reads a matrix file into one."""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional, Union

from iree_matrix.core.errors import SpecError
from iree_matrix.core.model.configuration import Config
from iree_matrix.iree import versions
from iree_matrix.iree.flags import BUILTIN_PROFILES, Profile, combine
from iree_matrix.kernel.kernels import Kernel
from iree_matrix.matrix import schema
from iree_matrix.matrix.models import ModelError, ModelRef, resolve

# Axis name in the file (the schema's, in its order) -> field of `Cell`: the same, or its singular.
AXES = {
    axis: {"models": "model", "profiles": "profile", "forms": "form"}.get(axis, axis) for axis in schema.AXES
}
SAME = "same"
# How an export reaches the compiler: MLIR text (`model.mlir`) or bytecode (`model.mlirbc`).
TEXT, BYTECODE = "text", "bytecode"
FORMS = (TEXT, BYTECODE)  # runtime = the compiler's own version
# The ONNX front door: `onnx` (opset 17) or `onnx:N`, imported by each compiler's iree-import-onnx.
ONNX, DEFAULT_ONNX_OPSET = "onnx", 17
_ONNX_RE = re.compile(r"onnx(?::(\d{1,3}))?")


def onnx_opset(form: str) -> Optional[int]:
    if not (found := _ONNX_RE.fullmatch(form)):
        return None
    return int(found.group(1)) if found.group(1) else DEFAULT_ONNX_OPSET


# Compilers older than the exports: `linalg:<release>`, the export lowered to linalg-on-tensors by
# IREE <release> (stages/lower.py), then compiled by the cell's compiler.
_LINALG_RE = re.compile(r"linalg:(.+)")


def lowering_compiler(form: str) -> Optional[str]:
    found = _LINALG_RE.fullmatch(form)
    return found.group(1) if found else None


# IREE's CPU HAL drivers the run stage can use: local-task (a thread pool) and local-sync (one thread).
DEVICES = ("local-task", "local-sync")
DEFAULT_DEVICE = "local-task"


@dataclasses.dataclass(frozen=True, order=True)
class Cell:
    """One point of the matrix: everything that decides one run."""

    model: str
    python: str
    torch: str
    turbine: str
    compiler: str
    runtime: str
    arch: str
    profile: str
    form: str = TEXT  # the MLIR form the compiler reads: text or bytecode
    kernel: str = ""  # a kernel of the matrix's (`kernels`) swapped in by the compile, or none

    @property
    def profile_label(self) -> str:
        return Config.parse(self.profile).with_kernel(self.kernel).profile_label


@dataclasses.dataclass(frozen=True)
class Benchmark:
    repetitions: int = 5
    seed: int = 0
    # Seconds of calls a run's timed pass is given (0: none, every repetition).
    time_budget: float = 0.0
    # Whether a module run by another release's runtime than its compiler's is timed.
    time_cross_runtime: bool = True
    threads: int = 0  # every framework gets this many threads; 0: one per CPU of the host
    # The HAL drivers every module is run with, a run job each (the first is the cell's plain run).
    devices: tuple[str, ...] = (DEFAULT_DEVICE,)
    # The opt-ins (`schema.opt_ins()`) the file names, each with its globs over "<model unit>/<profile>"
    # ("mobilenet_v2/default"), in the file's order: a stage reads its own with `opts_in`.
    opt_in: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def thread_count(self) -> int:
        return self.threads or os.cpu_count() or 1

    def globs(self, key: str) -> tuple[str, ...]:
        """The globs of the opt-in `key` (`[benchmark] roofline`), () when the file names none."""
        return dict(self.opt_in).get(key, ())

    def opts_in(self, key: str, unit: str, profile: str = "default") -> bool:
        """Whether the opt-in `key` names this function (`unit`) under `profile`."""
        return any(fnmatch.fnmatchcase(f"{unit}/{profile}", glob) for glob in self.globs(key))


@dataclasses.dataclass(frozen=True)
class MatrixSpec:
    path: Path
    cells: tuple[Cell, ...]
    profiles: Mapping[str, Profile]
    timeouts: Mapping[str, float]  # stage -> seconds, as [timeouts] gives them (others: the stage's own)
    benchmark: Benchmark
    description: str = ""
    images: Mapping[str, str] = dataclasses.field(default_factory=dict)  # python -> base image (docker)
    models: Mapping[str, ModelRef] = dataclasses.field(default_factory=dict)  # name -> where its code is
    weights: Mapping[str, Path] = dataclasses.field(default_factory=dict)  # model[.function] -> state dict
    peers: tuple[str, ...] = ()  # other runtimes measured beside IREE on the same inputs
    # Where a `src:<release>` runtime's source is: release ("*": every one) -> directory, tarball, git.
    iree_sources: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Built-in profiles the file redefines ([profile.default]): allowed, and said in the plan output.
    redefined: tuple[str, ...] = ()
    # `[supported_torch]`: turbine release -> torch range, replacing torch_ranges.TABLE's row.
    supported_torch: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # The Python of the compiler and runtime environments ("" : each cell's own).
    compiler_python: str = ""
    # `[interpreters]`: Python version -> the interpreter the venv backend builds its venvs with.
    interpreters: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # `[search.knobs.NAME]`: the file's own knobs (also in `profiles`), searched beside the built-in ones.
    search_knobs: tuple[str, ...] = ()
    # `[limits]`: memory ("8G", "75%", "none") and processes (tasks) of every environment command.
    limits: Mapping[str, Union[str, int]] = dataclasses.field(default_factory=dict)
    # `kernels = [...]` and `--kernel`: name -> kernel (its cells planned without and with it).
    kernels: Mapping[str, Kernel] = dataclasses.field(default_factory=dict)

    @property
    def bytecode(self) -> bool:
        """Whether any cell compiles MLIR bytecode: then every export also writes `model.mlirbc`."""
        return any(c.form == BYTECODE for c in self.cells)

    def iree_source(self, release: str) -> str:
        given = self.iree_sources.get(release) or self.iree_sources.get("*")
        return given or versions.default_iree_source(release)


def with_profiles(matrix: MatrixSpec, names: Sequence[str]) -> MatrixSpec:
    """The same matrix with its profile axis replaced by `names` (what `iree-matrix tune` does)."""
    known = {**BUILTIN_PROFILES, **matrix.profiles}
    chosen = {}
    for name in names:
        try:
            chosen[name] = combine(name, known)
        except KeyError as exc:
            raise SpecError(
                f"--profiles {','.join(names)!r}: unknown profile {exc.args[0]} (known: "
                f"{', '.join(sorted(known))}; several join with '+'; add others as [profile.NAME] "
                f"in {matrix.path})"
            ) from None
        except ValueError as exc:
            raise SpecError(
                f"--profiles {name!r}: {exc}; combine profiles that change one thing each"
            ) from None
    if not names:
        raise SpecError(f"--profiles '': unknown profile (none given) (known: {', '.join(sorted(known))})")
    cells = tuple(dict.fromkeys(dataclasses.replace(c, profile=n) for c in matrix.cells for n in names))
    return dataclasses.replace(matrix, cells=cells, profiles=chosen)


def with_cells(matrix: MatrixSpec, extra: Sequence[Cell]) -> MatrixSpec:
    """The matrix plus `extra` cells, whose profiles may be built-in, the matrix's own or '+'-combined."""
    profiles = with_profiles(matrix, [*dict.fromkeys(c.profile for c in (*matrix.cells, *extra))]).profiles
    cells = tuple(dict.fromkeys([*matrix.cells, *extra]))
    # A cell may name a model the matrix has not (advise's pick `@decomposed+loop-unrolling` is the
    # model's export variant): its reference joins the matrix's, or every stage of it fails unknown.
    models = dict(matrix.models)
    for cell in extra:
        if cell.model not in models:
            try:
                models[cell.model] = resolve(cell.model, matrix.path.parent)
            except ModelError as exc:
                raise SpecError(f"model {cell.model!r}: {exc}") from None
    return dataclasses.replace(matrix, cells=cells, profiles=profiles, models=models)
