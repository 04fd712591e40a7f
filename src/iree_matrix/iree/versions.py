"""What each IREE / iree-turbine release is called on PyPI (`iree-base-*` from 2.9.0, date-versioned
`iree-compiler` / `iree-runtime` before) and what its tools accept: decided here, and only here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

# Re-exported: callers spell versions.Version, one import for the project's version rules.
from packaging.version import InvalidVersion as InvalidVersion
from packaging.version import Version as Version

from iree_matrix.core.model.configuration import Runtime

_DATE_VERSION_MAJOR = 20000000  # 20230209 ... : the date-versioned packages


def is_valid(value: str) -> bool:
    try:
        Version(value)
    except InvalidVersion:
        return False
    return True


def is_date_versioned(version: str) -> bool:
    return Version(version).major >= _DATE_VERSION_MAJOR


def release_order(version: str) -> tuple[bool, Version]:
    """A sort key over releases: the date releases came before 2.9.0."""
    return (not is_date_versioned(version), Version(version))


def compiler_requirement(version: str) -> str:
    return f"{'iree-compiler' if is_date_versioned(version) else 'iree-base-compiler'}=={version}"


def runtime_requirement(version: str) -> str:
    return f"{'iree-runtime' if is_date_versioned(version) else 'iree-base-runtime'}=={version}"


def stand_in_runtime(compiler: str, runtimes: Iterable[str]) -> Optional[str]:
    """The runtime for a compiler release without one of its own (3.7.1): the newest older one of the same
    major.minor line, whose module format a patch release keeps; None when the line has none."""
    if not is_valid(compiler):
        return None
    wanted = Version(compiler)
    line = [Version(r) for r in runtimes if is_valid(r)]
    line = [r for r in line if r.release[:2] == wanted.release[:2] and r < wanted and not r.is_prerelease]
    return str(max(line)) if line else None


# turbine releases below 2.3.0 are on PyPI only as `shark-turbine`.
IREE_TURBINE_FROM = Version("2.3.0")

# The IREE compiler a turbine release older than 2.9.0 wrote its MLIR with, which it does not pin (pip
# would take 2024-11's whatever the turbine): the compiler of the turbine's day (PyPI metadata):
_TURBINE_IMPORTERS = {
    "0.9.3": "20231218.742",  # shark-turbine 0.9.3 (2023-12-19): Requires-Dist iree-compiler>=20231218.742
    "0.9.4": "20240129.785",  # shark-turbine 0.9.4 (2024-02-05): >=20240129.785
    "0.9.5": "20240226.813",  # shark-turbine 0.9.5 (2024-03-01): >=20240226.813
    "0.9.6": "20240226.813",  # shark-turbine 0.9.6 (2024-03-02): >=20240226.813
    "2.3.0": "20240410.859",  # iree-turbine 2.3.0 (2024-04-27): iree-requirements.txt at v2.3.0
    "2.4.1": "20240828.999",  # iree-turbine 2.4.1 (2024-09-03): unpinned; 20240828.999 uploaded that day
    "2.5.0": "20241104.1068",  # iree-turbine 2.5.0 (2024-11-06): unpinned; the newest (the last date release)
}
# torch releases before 2.4 were built against NumPy 1 (`tensor.numpy()` fails under NumPy 2), and
# pip would take NumPy 2 beside them.
_NUMPY2_TORCH = Version("2.4.0")


def turbine_package(turbine: str) -> str:
    return "shark-turbine" if Version(turbine) < IREE_TURBINE_FROM else "iree-turbine"


def turbine_importer(turbine: str) -> Optional[str]:
    """The date-versioned iree-compiler a turbine release before 2.9.0 is pinned to (None: left to pip)."""
    wanted = Version(turbine)
    return next((c for t, c in _TURBINE_IMPORTERS.items() if Version(t) == wanted), None)


def exporter_requirements(torch: str, turbine: str) -> tuple[str, ...]:
    """torch + turbine, and the IREE compiler turbine builds the MLIR with, pinned (else next month's
    export differs)."""
    numpy = "numpy<2" if Version(torch) < _NUMPY2_TORCH else "numpy"
    reqs = [f"torch=={torch}", f"{turbine_package(turbine)}=={turbine}", numpy]
    importer = turbine_importer(turbine)
    if Version(turbine) >= Version("2.9.0"):
        reqs += [f"iree-base-compiler=={turbine}", f"iree-base-runtime=={turbine}"]
    elif importer is not None:
        reqs += [compiler_requirement(importer), runtime_requirement(importer)]
    return tuple(reqs)


# The ONNX form's `onnx` package, in the exporter environment (torch.onnx.export needs it) and in the
# compiler's (iree-import-onnx imports it), pinned like the peers' so an import depends on the compiler.
ONNX_REQUIREMENT = "onnx==1.23.2"

# Compiler packages whose Python bindings keep a process from ending after an export, unless it ends
# by os._exit (as the export workers do) or drops the export's output and runs gc.collect() first.
EXIT_HANGS = {
    "iree-base-compiler 3.3.0": "a deadlock in _mlir.so's teardown",
    "iree-base-compiler 3.4.0": "a deadlock in _mlir.so's teardown",
    "iree-base-compiler 3.6.0": "stuck in PyGILState_Ensure while MLIR's resources are destroyed",
}


# --- a runtime built from IREE's source: `src:<release>[+option...]` ------------------------------

DEFAULT_IREE_GIT = "git+https://github.com/iree-org/iree"
# Build options a source runtime may name: static linking, and size over speed (-Os).
BUILD_OPTIONS = ("static", "Os")


def is_source_runtime(value: str) -> bool:
    return Runtime.parse(value).source


def parse_source_runtime(value: str) -> tuple[str, tuple[str, ...]]:
    """`src:3.9.0+static` -> ("3.9.0", ("static",)); raises ValueError naming what is wrong."""
    runtime = Runtime.parse(value)
    release, build_options = runtime.release, runtime.variant
    if not runtime.source:
        raise ValueError('not a source runtime: expected "src:<release>", e.g. "src:3.9.0"')
    if not is_valid(release):
        expected = 'expected "src:<release>[+option]", e.g. "src:3.9.0"'
        raise ValueError(f'"{release}" is not a release: {expected}')
    if unknown := [v for v in build_options if v not in BUILD_OPTIONS]:
        raise ValueError(
            f"unknown build option {'+'.join(unknown)!r} (known: {', '.join(BUILD_OPTIONS)}; "
            'e.g. "src:3.9.0+static")'
        )
    return release, tuple(v for v in BUILD_OPTIONS if v in build_options)


def source_runtime(release: str, build_options: tuple[str, ...] = ()) -> str:
    return str(Runtime(release, True, tuple(v for v in BUILD_OPTIONS if v in build_options)))


def default_iree_source(release: str) -> str:
    """Where a source runtime comes from unless told: IREE's public repository at the release's tag."""
    return f"{DEFAULT_IREE_GIT}@v{release}"
