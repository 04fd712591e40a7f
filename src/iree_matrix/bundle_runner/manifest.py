"""The bundle's own files: its manifest (bundle.json), every file checked against SHA256SUMS, the
runtime that runs a release's cells here (a wheel for this Python and machine, else the tools built
from source), the names and paths a manifest gives (never leading out of the bundle), and the
wheel unpacked into the bundle's own folder."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from .base import MANIFEST, MANIFEST_SCHEMA, SUMS, BundleError

if TYPE_CHECKING:
    from .base import Json

# A runtime flag as IREE's tools and its Python binding's `parse_flags` take it, --name=value: a kernel's
# `run_flags`, checked by one rule where kernel.toml gives them (kernel/kernels.py), where a run is
# timed again (execution/abtest.py) and here, as a manifest carries them (the runner travels alone).
RUN_FLAG = re.compile(r"--([a-z][a-z0-9_]*)=[^\s]+")
# What each run says itself (its module, call, device and its threads, outputs, the plugin it loads),
# and a file of more flags (which would read what no check saw): never a kernel's.
RUN_FLAGS_OWNED = frozenset(
    "module function input output expected_output device task_topology_group_count executable_plugin "
    "parameters flagfile".split()
)


def run_flag_problem(flag: object) -> Optional[str]:
    """Why `flag` is no runtime flag a kernel may ask its runs to pass (None: it is one)."""
    found = RUN_FLAG.fullmatch(flag) if isinstance(flag, str) else None
    if found is None:
        return "expected an IREE runtime flag --name=value, e.g. --task_worker_stack_size=196608"
    if found.group(1) in RUN_FLAGS_OWNED:
        return f"each run gives --{found.group(1)} itself: leave it out"
    return None


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_manifest(root: Path) -> Json:
    path = root / MANIFEST
    try:
        data: object = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(
            f"{path}: not a readable bundle manifest ({exc}); is this a bundle's folder?"
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("schema") != MANIFEST_SCHEMA
        or not isinstance(data.get("cells"), list)
    ):
        raise BundleError(
            f"{path}: manifest schema {data.get('schema') if isinstance(data, dict) else '?'}, "
            f"this runner reads {MANIFEST_SCHEMA}: use the run.py that came with the bundle"
        )
    for cell in data["cells"]:
        _check_run_flags(path, cell)
    return data


def _check_run_flags(path: Path, cell: object) -> None:
    """A cell's kernel run flags, checked before anything runs by the rule iree-matrix wrote them by:
    a hand-edited `--flagfile=...` would make every tool read a file no check saw."""
    if not isinstance(cell, dict):
        raise BundleError(f"{path}: a cell {str(cell)[:80]!r} is not an object")
    job, flags = str(cell.get("job"))[:120], cell.get("run_flags") or []
    if not isinstance(flags, list):
        raise BundleError(f"{path}: cell {job}: run_flags is not a list of runtime flags --name=value")
    for flag in flags:
        if (why := run_flag_problem(flag)) is not None:
            raise BundleError(f"{path}: cell {job}: run_flags {str(flag)[:120]!r}: {why}")


def verify(root: Path) -> str:
    """Every file SHA256SUMS lists is present and unchanged; the manifest's digest."""
    sums = root / SUMS
    try:
        lines = sums.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BundleError(f"{sums}: unreadable ({exc}); copy the whole bundle again") from None
    listed = [line.split("  ", 1) for line in lines if line.strip()]
    if not listed or any(len(pair) != 2 for pair in listed):
        raise BundleError(f"{sums}: empty or malformed; copy the whole bundle again")
    for digest, name in listed:
        path = root / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise BundleError(f"{sums}: {name!r} points outside the bundle")
        if not path.is_file():
            raise BundleError(f"{name}: missing from the bundle; copy the whole bundle again")
        if sha256_of(path) != digest:
            raise BundleError(
                f"{name}: damaged (its sha256 differs from {SUMS}); copy the whole bundle again"
            )
    if MANIFEST not in {name for _, name in listed}:
        raise BundleError(f"{sums}: does not list {MANIFEST}")
    return sha256_of(root / MANIFEST)


def _python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def wheel_for(manifest: Json, release: str) -> Json:
    """The runtime the bundle carries for this Python and machine (a wheel resolved for X.Y)."""
    machine = platform.machine()
    found: list[Json] = [
        w for w in manifest.get("runtimes", []) if w.get("release") == release and is_wheel(w)
    ]
    for wheel in found:
        if wheel.get("python") == _python() and wheel.get("machine") == machine:
            return wheel
    have = ", ".join(f"Python {w.get('python')} on {w.get('machine')}" for w in found) or "none"
    raise BundleError(
        f"the bundle carries IREE {release}'s runtime for {have}, not for Python {platform.python_version()} "
        f"on {machine}: run it with that Python, or make the bundle with `iree-matrix bundle ... "
        f"--python {_python()}`"
    )


def is_wheel(runtime: Json) -> bool:
    return bool(runtime.get("kind", "wheel") == "wheel")


def runtime_for(manifest: Json, release: str, machine: str = "") -> Json:
    """The runtime that runs `release`'s cells (of `machine`, the target's arch) here: its wheel for this
    Python and machine, else the source-built tools the bundle carries (no 32-bit ARM wheel exists)."""
    try:
        return wheel_for(manifest, release)
    except BundleError:
        runtimes: list[Json] = manifest.get("runtimes", [])
        for r in runtimes:
            if r.get("release") == release and not is_wheel(r) and machine in ("", r.get("machine")):
                return r
        raise


def has_runtime(manifest: Json, cell: Json) -> bool:
    try:
        runtime_for(manifest, cell["runtime"], cell.get("machine", ""))
    except BundleError:
        return False
    return True


# What a manifest's names that become a file's name must be (a release, a Python, a machine): one
# path component, never "..", "/" or a control character.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+@-]{0,127}")


def named(value: object, what: str) -> str:
    """`value`, a manifest's name that becomes part of a file's name; BundleError when it is not one."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise BundleError(
            f"{MANIFEST}: its {what} {str(value)[:80]!r} is not a name (letters, digits, . _ + @ -)"
        )
    return value


def within(root: Path, relative: object) -> Path:
    """The file a manifest names (relative to the bundle's folder `root`), which must be inside it:
    a manifest whose paths lead out (`../../x`, `/etc/x`, a link out) is refused, never followed."""
    if not isinstance(relative, str) or not relative or "\0" in relative:
        raise BundleError(f"{MANIFEST}: names a file {str(relative)[:80]!r} that is no path in the bundle")
    path = Path(relative)
    if path.is_absolute() or ".." in path.parts:
        raise BundleError(f"{MANIFEST}: names {relative[:80]!r}, outside the bundle")
    found = root / path
    base = os.path.realpath(root)
    if os.path.commonpath([base, os.path.realpath(found)]) != base:
        raise BundleError(f"{MANIFEST}: {relative[:80]!r} leads outside the bundle (a symbolic link)")
    return found


def install(root: Path, wheel: Json) -> Path:
    """The runtime's wheels unpacked under the bundle's .runtime/ (else a temporary folder), as `pip install
    --target` would, without pip or a network; its folder named from the manifest's names, each checked
    (`named`: a release `../../../canary/EVIL` once unpacked outside the bundle)."""
    digest = str(wheel.get("sha256", ""))
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise BundleError(f"{MANIFEST}: a runtime's sha256 {digest[:80]!r} is no sha256")
    name = "-".join(
        [
            named(wheel.get("release"), "runtime release"),
            "py" + named(wheel.get("python"), "runtime Python"),
            named(wheel.get("machine"), "runtime machine"),
            digest[:12],
        ]
    )
    for base in (root / ".runtime", Path(tempfile.gettempdir()) / "iree-matrix-bundle-runtime"):
        target = base / name
        if (target / ".complete").is_file():
            return target
        try:
            base.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=base, prefix=".unpacking-"))
        except OSError:
            continue
        for path in wheel["wheels"]:
            with zipfile.ZipFile(within(root, path)) as archive:
                for info in archive.infolist():
                    out = Path(archive.extract(info, staging))
                    if (mode := (info.external_attr >> 16) & 0o777) and not info.is_dir():
                        os.chmod(out, mode)
        (staging / ".complete").write_text(wheel["sha256"] + "\n")
        try:
            os.rename(staging, target)
        except OSError:  # another runner unpacked it first
            shutil.rmtree(staging, ignore_errors=True)
        return target
    raise BundleError(f"nowhere to unpack IREE's runtime: {root} and {tempfile.gettempdir()} are read-only")
