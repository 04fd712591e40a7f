"""The runtimes a run bundle carries (execution/bundle.py packs them): IREE's runtime wheel for each (release,
Python, machine) its cells need, from the wheelhouse, and where IREE publishes none (32-bit ARM) the
command-line tools of the runtime the `runtime-build` stage built here from source, stripped."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional, Protocol

from iree_matrix.bundle_runner import tools as runner_tools
from iree_matrix.core import console
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.model.store import Entry, Store
from iree_matrix.iree import targets, versions
from iree_matrix.matrix import wheelhouse
from iree_matrix.stages.artifacts import TOOLS

logger = console.logger(__name__)


class BundleError(UserError):
    """A bundle that cannot be made as asked: one line, exit 2."""


@dataclasses.dataclass(frozen=True)
class Where:
    """The machine a bundle is for: the Pythons whose runtime wheels it carries, and the
    architecture of its CPU (a GPU target's modules run on that CPU's runtime)."""

    pythons: tuple[str, ...]
    machine: str

    @classmethod
    def here(cls) -> Where:
        import platform

        return cls((".".join(platform.python_version_tuple()[:2]),), targets.host_arch())


class _Cell(Protocol):  # execution/bundle.py's BundledRun, as far as its runtime goes
    @property
    def runtime(self) -> str: ...
    @property
    def machine(self) -> str: ...


def stored(store: Store, stage: str, record: Optional[Record]) -> Optional[Entry]:
    """The store entry of a job's latest record, when it succeeded."""
    return store.get(stage, record.key) if record is not None and record.status is Status.OK else None


@dataclasses.dataclass(frozen=True)
class Wheel:
    """IREE's runtime for one (release, Python, machine): its wheel and the wheels it needs besides
    numpy (3.13.0's imports ml_dtypes), which the target is assumed to have."""

    release: str
    distribution: str
    version: str
    python: str
    machine: str
    files: tuple[Path, ...]  # the runtime's own wheel first


def wheels(found: Sequence[_Cell], where: Where, cache: Path) -> list[Wheel]:
    """IREE's runtime wheel for every (release, Python, machine) the cells need, from the wheelhouse
    (resolved and downloaded once, as every environment's packages are)."""
    house = wheelhouse.Wheelhouse(CacheLayout(cache).wheelhouse)
    wanted = sorted({(c.runtime, c.machine) for c in found if not versions.is_source_runtime(c.runtime)})
    out: list[Wheel] = []
    for release, machine in wanted:
        requirement = versions.runtime_requirement(release)
        name = requirement.split("==")[0]
        for python in where.pythons:
            target = wheelhouse.WheelPlatform(python, machine)
            logger.info(f"bundle: {requirement} for Python {python} on {machine} (wheelhouse)")
            pins = house.pin([requirement], target)
            paths = dict(zip((_normal(p.name) for p in pins.packages), house.fetch(pins)))
            if (own := paths.pop(_normal(name), None)) is None:
                raise BundleError(f"bundle: pip resolved no {name} wheel for Python {python} on {machine}")
            paths.pop("numpy", None)
            version = next(p.version for p in pins.packages if _normal(p.name) == _normal(name))
            out.append(Wheel(release, name, version, python, machine, (own, *sorted(paths.values()))))
    return out


def _normal(name: str) -> str:
    return name.lower().replace("_", "-")


@dataclasses.dataclass(frozen=True)
class Tools:
    """IREE's runtime built here from source (the `runtime-build` stage) for one (runtime value,
    arch): its command-line tools, stripped where the toolchain's strip is here. Where IREE publishes
    no wheel (32-bit ARM) they are the runtime a bundle carries; run.py runs them as the run stage does."""

    release: str  # the runtime value: src:3.9.0+static
    machine: str  # the target arch (armv6)
    elf_machine: str  # the tools' ELF e_machine (ARM)
    build_key: str  # the runtime-build's store key
    qemu_cpu: Optional[str]  # the board's CPU as qemu-user names it, to pin where it is emulated
    files: tuple[Path, ...]  # iree-run-module, iree-benchmark-module
    stripped: bool

    @property
    def folder(self) -> str:
        return f"runtimes/{self.release.replace(':', '')}-{self.machine}"


def source_tools(
    found: Sequence[_Cell], latest: Mapping[str, Record], store: Store, cache: Path
) -> list[Tools]:
    """The source-built runtime's tools for every (runtime value, arch) the cells run on: the
    runtime-build job's store entry (built by this bundle's plan, or found stored), stripped into
    the cache (CacheLayout.bundles/runtimes) so the bundle carries what a board would."""
    from iree_matrix.source_builds import cmake_runtime

    out: list[Tools] = []
    built_here = sorted({(c.runtime, c.machine) for c in found if versions.is_source_runtime(c.runtime)})
    for release, machine in built_here:
        job = f"runtime-build:{release}/{machine}"
        record = latest.get(job)
        if (entry := stored(store, "runtime-build", record)) is None:
            said = (
                "did not run"
                if record is None
                else f"ended {record.status.value!r}: {(record.message or '').strip()[:200]}"
            )
            raise BundleError(f"bundle: {job} {said}; its cells need the runtime it builds")
        built = TOOLS.of(entry)
        tc = cmake_runtime.toolchain(machine)
        folder = CacheLayout(cache).bundles / "runtimes" / entry.record.key[:32]
        files, stripped = [], True
        for name in cmake_runtime.TOOLS:  # stripped again each time (a second): no stale copy is reused
            stripped = cmake_runtime.strip_into(built / name, folder / name, tc) and stripped
            files.append(folder / name)
        if not stripped:
            logger.warning(
                f"bundle: {cmake_runtime.strip_tool(tc)} is not on this machine: "
                f"{release}'s tools travel unstripped"
            )
        target = targets.parse(machine)
        qemu = target.arch.qemu.get(target.arch.default_cpu or "")
        tools = Tools(release, machine, elf_machine(files[0]), entry.record.key, qemu, tuple(files), stripped)
        out.append(tools)
    return out


def elf_machine(path: Path) -> str:
    """An ELF file's e_machine as the System V ABI names it (`ARM`), or `unknown`: as the runner
    names it on the machine that runs the bundle (bundle_runner/tools.py, one source)."""
    with open(path, "rb") as f:
        return runner_tools.elf_machine(f.read(20))
