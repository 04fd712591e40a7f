"""What the cache holds, how much disk each part takes, and how to reclaim it (`doctor`, `cache prune`);
the Docker images' size is Docker's own accounting."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Optional, Union

from iree_matrix.core import formats
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.system import containers
from iree_matrix.images.common import BASE_REPO, ENV_REPO

# The cache's parts, by their `CacheLayout` names: (what it holds, what removing it costs the next run).
PARTS = {
    "logs": ("job logs of earlier executions", "nothing: each stored result keeps its own log"),
    "wheelhouse": ("downloaded wheels", "downloads again when an environment is built"),
    "envs": ("host venvs (--backend venv)", "rebuilds them from the wheelhouse"),
    "images": ("Debian root filesystems for the base images", "debootstraps a base image again"),
    "store": ("stage results: exports, modules, their logs", "re-runs every stage (records are kept)"),
}
# What `cache prune` removes when no part is named: nothing a run needs stage work to make again.
CHEAP = ("logs", "wheelhouse")


@dataclasses.dataclass(frozen=True)
class Part:
    name: str
    path: Path
    bytes: int
    holds: str
    cost: str


# Characters IREE's compiler cannot take in the cache's path or $TMPDIR: it runs its linker through
# `sh` with the path unquoted, and every llvm-cpu compile failed (measured with IREE 3.13.0).
SHELL_UNSAFE = frozenset(" \t\n\r\v\f$'\"`\\;&|<>()")


def absolute(path: Union[str, Path]) -> Path:
    """A path as the user gave it, made absolute (`~` expanded): a stage's tools run in other directories."""
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def default_cache() -> Path:
    """Shared by every checkout on this machine: wheels, pins, environments and artifacts."""
    if "IREE_MATRIX_CACHE" in os.environ:
        named = os.environ["IREE_MATRIX_CACHE"]
        if not named.strip():  # abspath("") is the working directory: `cache prune` removed ./logs
            raise UserError(
                f"$IREE_MATRIX_CACHE is set but empty ({named!r}), which would make the current directory "
                "the cache (`cache prune` would remove its logs/, images/, ...); unset it for the default "
                "~/.cache/iree-matrix, or set it to a directory"
            )
        return absolute(named)
    return absolute(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "iree-matrix")


def unsafe_characters(path: Union[str, Path]) -> str:
    """The characters of `path` IREE's tools cannot take (SHELL_UNSAFE), as a message names them."""
    found = sorted({c for c in os.fspath(path) if c in SHELL_UNSAFE})
    return ", ".join("a space" if c == " " else repr(c) for c in found)


def require_usable(cache: Path, store: Optional[Path] = None) -> None:
    """Refuse, before anything runs, a cache (or `--store`, or $TMPDIR) IREE's compiler cannot work
    under: every compile in it would fail to link and be recorded as IREE's answer."""
    import tempfile

    if "IREE_MATRIX_CACHE" in os.environ and absolute(os.environ["IREE_MATRIX_CACHE"]) == cache:
        named = "$IREE_MATRIX_CACHE"
    else:
        named = "--cache" if cache != default_cache() else "the default cache"
    fix = "point IREE_MATRIX_CACHE (or --cache) at a DIR" if named.startswith("$") else "pass --cache DIR"
    linker = "it runs its linker from the cache's environments through sh, unquoted"
    tmp = "its linker's files go there, named to sh unquoted"
    checked = [
        (named, cache, linker, fix),
        ("--store", store, linker, "pass --store DIR"),
        ("TMPDIR", tempfile.gettempdir(), tmp, "set TMPDIR to a directory"),
    ]
    for name, path, why, fix in checked:
        if path is not None and (bad := unsafe_characters(path)):
            raise UserError(
                f"{name} {str(path)!r}: has {bad}, which IREE's compiler cannot take ({why}: every compile "
                f"would fail to link); {fix} without spaces or shell characters"
            )


def du(path: Path) -> int:
    """Bytes a directory takes on disk (blocks, as `du` counts them; each hard link once)."""
    total, seen = 0, set()
    for root, _, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def usage(cache: Path) -> list[Part]:
    layout = CacheLayout(Path(cache))
    folders = {name: Path(getattr(layout, name)) for name in PARTS}
    return [
        Part(name, folders[name], du(folders[name]), holds, cost)
        for name, (holds, cost) in PARTS.items()
        if folders[name].is_dir()
    ]


def docker_images() -> Optional[tuple[int, int]]:
    """(number, bytes) of this tool's images in Docker's storage, shared layers counted once; None
    without a daemon."""
    if (images := containers.disk_usage()) is None:
        return None
    ours = [i for i in images if str(i.get("Repository", "")).startswith((ENV_REPO, BASE_REPO))]
    shared = max((_bytes(i.get("SharedSize", "0B")) for i in ours), default=0)
    return len(ours), shared + sum(_bytes(i.get("UniqueSize", "0B")) for i in ours)


_UNITS = {"B": 1, "KB": 1e3, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}


def _bytes(text: str) -> int:
    found = re.fullmatch(r"\s*([\d.]+)\s*([kKMGT]?B)\s*", str(text))
    return int(float(found[1]) * _UNITS[found[2]]) if found else 0


def summary(cache: Path) -> str:
    """One line for `doctor`: the cache's parts and the Docker images."""
    parts = usage(cache)
    total = sum(p.bytes for p in parts)
    listed = ", ".join(f"{p.name} {formats.size(p.bytes)}" for p in parts if p.bytes) or "empty"
    images = docker_images()
    docker = f"; Docker images: {images[0]}, {formats.size(images[1])}" if images else ""
    return f"{formats.size(total)} in {cache} ({listed}){docker}"


def prune(cache: Path, names: Sequence[str] = CHEAP) -> list[tuple[str, int]]:
    """Remove the named parts of the cache: (name, bytes freed) each. A run holds the cache's lock;
    the caller takes it first."""
    if unknown := [n for n in names if n not in PARTS]:
        raise ValueError(f"unknown cache part(s) {', '.join(unknown)} (parts: {', '.join(PARTS)})")
    freed = []
    for part in usage(cache):
        if part.name in names:
            shutil.rmtree(part.path, ignore_errors=True)
            freed.append((part.name, part.bytes))
    return freed


def names(given: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(given))
    return list(PARTS) if "all" in chosen else chosen or list(CHEAP)
