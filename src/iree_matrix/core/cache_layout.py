"""The cache's layout: every folder iree-matrix keeps under its cache (`--cache DIR`, else
$IREE_MATRIX_CACHE, else ~/.cache/iree-matrix), named here once. Each module that keeps something
in the cache asks `CacheLayout(cache)` where, so a folder moved or added is one edit, and
`iree-matrix cache` (envs/cache_usage.py) accounts for the folders by the same names."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional


class Under:
    """A folder (or file) of the cache, read as the layout's attribute: its path under the root."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __get__(self, layout: CacheLayout, owner: Optional[type] = None) -> Path:
        return layout.root / self.path


@dataclasses.dataclass(frozen=True)
class CacheLayout:
    root: Path

    # Stage results by key: exports, modules, their records and logs (core/model/store.py).
    store = Under("store")
    # Downloaded wheels and the pins resolved from them (matrix/wheelhouse.py).
    wheelhouse = Under("wheelhouse")
    # Environments built on this host.
    envs = Under("envs")
    # The venv backend's environments, one per set of pins (envs/venv.py).
    venvs = Under("envs/venv")
    # Debian root filesystems the docker backend's base images are made from (images/).
    images = Under("images")
    # Each job execution's full log (execution/execute.py `job_log`).
    logs = Under("logs")
    # IREE source trees a `src:<release>` runtime is built from: clones and unpacked tarballs.
    iree_src = Under("iree-src")
    # Tools fetched for the builds, e.g. PyPI's CMake (source_builds/cmake_runtime.py).
    tools = Under("tools")
    # The bare-metal runtime libraries built for Cortex-M CPUs (source_builds/cortex_m.py).
    cortex_m_runtime = Under("cortex-m-runtime")
    # `iree-matrix reproduce`'s work directories, one per job.
    reproduce = Under("reproduce")
    # The manifest of every run bundle made here, by its digest: what `merge` checks a bundle's
    # records against (execution/bundle.py).
    bundles = Under("bundles")
    # The lock one run (or `cache prune`) holds at a time (core/system/locks.py `cache_lock`).
    run_lock = Under("run.lock")
