"""The cache's layout: every folder iree-matrix keeps under its cache (`--cache DIR`, else
$IREE_MATRIX_CACHE, else ~/.cache/iree-matrix), named here once. Each module that keeps something
in the cache asks `CacheLayout(cache)` where, so a folder moved or added is one edit, and
`iree-matrix cache` (envs/cache_usage.py) accounts for the folders by the same names."""

from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class CacheLayout:
    root: Path

    @property
    def store(self) -> Path:
        """Stage results by key: exports, modules, their records and logs (core/model/store.py)."""
        return self.root / "store"

    @property
    def wheelhouse(self) -> Path:
        """Downloaded wheels and the pins resolved from them (matrix/wheelhouse.py)."""
        return self.root / "wheelhouse"

    @property
    def envs(self) -> Path:
        """Environments built on this host."""
        return self.root / "envs"

    @property
    def venvs(self) -> Path:
        """The venv backend's environments, one per set of pins (envs/venv.py)."""
        return self.envs / "venv"

    @property
    def images(self) -> Path:
        """Debian root filesystems the docker backend's base images are made from (images/)."""
        return self.root / "images"

    @property
    def logs(self) -> Path:
        """Each job execution's full log (execution/execute.py `job_log`)."""
        return self.root / "logs"

    @property
    def iree_src(self) -> Path:
        """IREE source trees a `src:<release>` runtime is built from: clones and unpacked tarballs."""
        return self.root / "iree-src"

    @property
    def tools(self) -> Path:
        """Tools fetched for the builds, e.g. PyPI's CMake (source_builds/cmake_runtime.py)."""
        return self.root / "tools"

    @property
    def cortex_m_runtime(self) -> Path:
        """The bare-metal runtime libraries built for Cortex-M CPUs (source_builds/cortex_m.py)."""
        return self.root / "cortex-m-runtime"

    @property
    def reproduce(self) -> Path:
        """`iree-matrix reproduce`'s work directories, one per job."""
        return self.root / "reproduce"

    @property
    def bundles(self) -> Path:
        """The manifest of every run bundle made here, by its digest: what `merge` checks a bundle's
        records against (execution/bundle.py)."""
        return self.root / "bundles"

    @property
    def run_lock(self) -> Path:
        """The lock one run (or `cache prune`) holds at a time (execution/execute.py `run_lock`)."""
        return self.root / "run.lock"
