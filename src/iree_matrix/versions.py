"""What each IREE / iree-turbine release is called on PyPI and what its tools accept.

Facts (see ../shared/IREE-NOTES.md): from 2.9.0 the packages are `iree-base-compiler` /
`iree-base-runtime`; before that they were date-versioned `iree-compiler` / `iree-runtime`
(e.g. 20240410.865). Which flag spelling a compiler accepts is decided here, and only here.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

_DATE_VERSION_MAJOR = 20000000  # 20230209 ... : the date-versioned packages


def is_valid(value: str) -> bool:
    try:
        Version(value)
    except InvalidVersion:
        return False
    return True


def is_date_versioned(version: str) -> bool:
    return Version(version).major >= _DATE_VERSION_MAJOR


def compiler_requirement(version: str) -> str:
    name = "iree-compiler" if is_date_versioned(version) else "iree-base-compiler"
    return f"{name}=={version}"


def runtime_requirement(version: str) -> str:
    name = "iree-runtime" if is_date_versioned(version) else "iree-base-runtime"
    return f"{name}=={version}"


def exporter_requirements(torch: str, turbine: str) -> tuple[str, ...]:
    """torch + iree-turbine, and the IREE release turbine was made with.

    turbine builds the MLIR with the IREE compiler's Python bindings but does not pin that
    compiler; left alone pip takes the newest, so the same matrix would export different MLIR
    next month. From 2.9.0 turbine and iree-base-* share version numbers, so pin the pair.
    """
    reqs = [f"torch=={torch}", f"iree-turbine=={turbine}", "numpy"]
    if Version(turbine) >= Version("2.9.0"):
        reqs += [f"iree-base-compiler=={turbine}", f"iree-base-runtime=={turbine}"]
    return tuple(reqs)


# What the peers stage installs beside torch (IREE-NOTES.md: these resolve with torch 2.13.0;
# pinned so a peer's figures come from a known release).
PEER_REQUIREMENTS = (
    "onnxruntime==1.31.1",
    "onnx==1.23.2",
    "onnxscript==0.7.2",
    "litert-torch==0.10.0",
    "ai-edge-litert==2.3.0",
)
