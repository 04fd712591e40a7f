"""The records a run writes: one per cell in iree-matrix's record schema (carrying the bundle's
digest and the runtime that ran it), appended and fsync'd as each cell ends, never through a link;
and which cells an interrupted run into the same folder already recorded."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .base import RECORD_SCHEMA, BundleError, now
from .manifest import is_wheel

if TYPE_CHECKING:
    from .base import Json


def runtime_env(runtime: Json, by_tools: bool) -> Json:
    """What a record says of the runtime that ran the cell: the wheel (by its Python binding, or by
    its own tools for raw-bits arrays), or the tools built from source that the bundle carries."""
    if not runtime:
        return {}
    if is_wheel(runtime):
        return {
            "runtime": "wheel's tools" if by_tools else "wheel",
            "runtime_wheel": (runtime.get("wheels") or [""])[0].rsplit("/", 1)[-1],
            "runtime_wheel_sha256": runtime.get("sha256", ""),
        }
    return {
        "runtime": "source-built tools",
        "runtime_release": runtime.get("release", ""),
        "runtime_build_key": runtime.get("build_key", ""),
        "runtime_tools_sha256": dict(runtime.get("tools_sha256") or {}),
        "runtime_elf_machine": runtime.get("elf_machine", ""),
    }


def record(
    manifest: Json,
    digest: str,
    host: Json,
    cell: Json,
    wheel: Json,
    result: Json,
    started: str,
    seconds: float,
) -> Json:
    """One record of iree-matrix's schema for a cell's result (`wheel`: the runtime that ran it)."""
    status = result.get("status", "fail")
    key_parts = [
        cell["module_sha256"],
        cell.get("io_sha256", ""),
        wheel.get("sha256", ""),
        cell["device"],
        host["identity"],
    ]
    metrics = {k: v for k, v in result.items() if k not in ("status", "message", "error_class", "by_tools")}
    metrics.update(module_sha256=cell["module_sha256"], module_bytes=cell["module_bytes"])
    packages = (
        {wheel.get("distribution", "iree-base-runtime"): wheel.get("version", "")} if is_wheel(wheel) else {}
    )
    return {
        "schema": RECORD_SCHEMA,
        "job": cell["job"],
        "stage": "run",
        "cell": cell["job"].split(":", 1)[1],
        "key": hashlib.sha256("\0".join(key_parts).encode()).hexdigest(),
        "status": status,
        "labels": cell["labels"],
        "metrics": metrics,
        "error_class": result.get("error_class"),
        "message": result.get("message"),
        "blocked_by": None,
        "env": {
            "backend": "bundle",
            "id": f"bundle-{digest[:12]}",
            "bundle_sha256": digest,
            "bundle_name": manifest.get("name", ""),
            **runtime_env(wheel, bool(result.get("by_tools"))),
            "packages": {**packages, "numpy": _numpy_version()},
            "python": platform.python_version(),
        },
        "command": [],
        "host": host,
        "started": started,
        "finished": now(),
        "seconds": round(seconds, 3),
        "tool_version": manifest.get("tool_version", ""),
    }


def _numpy_version() -> str:
    try:
        import numpy

        return str(numpy.__version__)
    except ImportError:
        return ""


def replace(path: Path, data: bytes) -> None:
    """`path` written whole, by rename: never through a link put there."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def append(path: Path, data: Json) -> None:
    line = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str) + "\n"
    try:  # never through a link: the records go into this folder's own file
        fd = os.open(str(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise BundleError(
            f"{path}: cannot append a record ({exc.strerror}); is it a symbolic link?"
        ) from None
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def recorded(path: Path, digest: str, identity_: str) -> set[str]:
    """The jobs `path` already holds a record of, from this bundle on this CPU identity."""
    return {
        data["job"] for data in of_bundle(path, digest) if data.get("host", {}).get("identity") == identity_
    }


def of_bundle(path: Path, digest: str) -> Iterator[Json]:
    """The records in `path` (none where it cannot be read) made from the bundle `digest`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    for line in lines:
        try:
            data = json.loads(line)
        except ValueError:
            continue  # a torn last line (power loss): that cell runs again
        if data.get("env", {}).get("bundle_sha256") == digest:
            yield data
