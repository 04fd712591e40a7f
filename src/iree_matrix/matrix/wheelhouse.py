"""The host wheelhouse: every package any environment needs, resolved and downloaded once by the
host's pip (the user's pip configuration applies), for an explicit target (Python, ABI, platform);
environments install the pinned files offline. The pins were once called the "lock": where they are
stored or hashed they keep that name (`locks/`, `lock.json`, `lock_digest`), so stores stay valid.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from iree_matrix.core import console
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import digest, file_sha256
from iree_matrix.core.system import process_output, processes
from iree_matrix.core.system.locks import file_lock
from iree_matrix.core.system.process_request import ProcessRequest

logger = console.logger(__name__)

# pip says these when the request itself cannot be satisfied: the same request fails the same way
# tomorrow, so the failure is a result. Anything else (network, disk) is retried next run.
_DEFINITE = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "ResolutionImpossible",
    "conflicting dependencies",
    "Requires-Python",
)


_MAX_EXCLUSIONS = 8


def _admits(requires_python: str, python: str) -> bool:
    """Whether a package's Requires-Python admits `python` ("3.10"), as pip compares them."""
    try:
        return Version(python) in SpecifierSet(requires_python)
    except (InvalidSpecifier, InvalidVersion):
        return True  # unreadable: pip's own check at install time has the last word


@dataclasses.dataclass(frozen=True)
class WheelPlatform:
    """What the wheels must fit: a CPython minor version on a glibc Linux architecture."""

    python: str  # "3.11"
    machine: str = "x86_64"  # wheel platform suffix: x86_64 | aarch64 | armv7l
    glibc: tuple[int, int] = (2, 36)  # bookworm's

    @property
    def abi(self) -> str:
        return "cp" + self.python.replace(".", "")

    def platforms(self) -> list[str]:
        # pip does not widen perennial manylinux tags given with --platform; list them all.
        major, minor = self.glibc
        tags = [f"manylinux_{major}_{m}_{self.machine}" for m in range(minor, 16, -1)]
        tags += [f"manylinux2014_{self.machine}"]
        if self.machine == "x86_64":
            tags += ["manylinux2010_x86_64", "manylinux1_x86_64"]
        tags += [f"linux_{self.machine}"]
        return tags

    def pip_options(self) -> list[str]:
        opts = ["--python-version", self.python, "--implementation", "cp", "--abi", self.abi]
        for tag in self.platforms():
            opts += ["--platform", tag]
        return opts + ["--only-binary=:all:"]


@dataclasses.dataclass(frozen=True)
class Package:
    name: str
    version: str
    filename: str
    sha256: str
    url: str


# The file an install stage stores its environment's pins in (its first name: stores hold it).
PINS_FILE = "lock.json"


@dataclasses.dataclass(frozen=True)
class Pins:
    """An environment's exact package set: what pip resolved for `requirements` on `target`."""

    requirements: tuple[str, ...]
    target: WheelPlatform
    packages: tuple[Package, ...]

    @property
    def digest(self) -> str:
        """Identity of the exact package set: what environment keys are made of."""
        return digest(
            {
                "target": dataclasses.asdict(self.target),
                "packages": sorted((p.name.lower(), p.version, p.sha256) for p in self.packages),
            }
        )

    def versions(self) -> dict[str, str]:
        return {p.name: p.version for p in sorted(self.packages, key=lambda p: p.name.lower())}

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Pins:
        data = json.loads(text)
        given = data["target"]
        target = WheelPlatform(given["python"], given["machine"], tuple(given["glibc"]))
        return cls(tuple(data["requirements"]), target, tuple(Package(**p) for p in data["packages"]))


class Wheelhouse:
    def __init__(self, root: Path, pip: Sequence[str] = (sys.executable, "-m", "pip")) -> None:
        self.root = Path(root)
        self.files = self.root / "files"
        self.pinned = self.root / "locks"  # the folder keeps its first name (caches hold it)
        self._pip = tuple(pip)

    def pins_path(self, requirements: Sequence[str], target: WheelPlatform) -> Path:
        key = digest({"requirements": sorted(requirements), "target": dataclasses.asdict(target)})
        return self.pinned / f"{key}.json"

    def cached_pins(self, requirements: Sequence[str], target: WheelPlatform) -> Optional[Pins]:
        path = self.pins_path(requirements, target)
        try:
            return Pins.from_json(path.read_text())
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def pin(self, requirements: Sequence[str], target: WheelPlatform, *, log: Optional[Path] = None) -> Pins:
        """Resolve once (network, through the user's pip config); afterwards read the stored pins."""
        path = self.pins_path(requirements, target)
        with file_lock(path.with_suffix(".lock")):
            if (cached := self.cached_pins(requirements, target)) is not None:
                logger.debug(f"wheelhouse: {path.name}: resolved before, not asked again")
                return cached
            logger.debug(f"wheelhouse: {path.name}: resolving {' '.join(requirements)} with pip")
            pins = self._resolve(requirements, target, log)
            write_atomically(path, pins.to_json())
            return pins

    def _resolve(self, requirements: Sequence[str], target: WheelPlatform, log: Optional[Path]) -> Pins:
        """pip's answer, minus releases whose own Requires-Python excludes the target (an index without
        `data-requires-python` lets pip pick them): each excluded (`name!=version`) and resolved again."""
        excluded: list[str] = []
        for _ in range(_MAX_EXCLUSIONS):
            packages, wrong = self._resolve_once([*requirements, *excluded], target, log)
            if not wrong:
                return Pins(tuple(requirements), target, packages)
            excluded += [f"{name}!={version}" for name, version in wrong]
        raise StageFailure(
            "resolve",
            f"every release pip offered for Python {target.python} requires another Python "
            f"(excluded: {', '.join(excluded)})",
        )

    def _resolve_once(
        self, requirements: Sequence[str], target: WheelPlatform, log: Optional[Path]
    ) -> tuple[tuple[Package, ...], list[tuple[str, str]]]:
        """The packages pip resolved, and those among them whose Requires-Python excludes the target."""
        self.root.mkdir(parents=True, exist_ok=True)
        report = self.root / f"report-{os.getpid()}-{id(requirements)}.json"
        scratch = self.root / f"target-{os.getpid()}-{id(requirements)}"
        argv = [*self._pip, "install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report)]
        argv += ["--target", str(scratch), *target.pip_options(), *requirements]
        try:
            if (done := processes.run(ProcessRequest(argv, log=log, check=False))).returncode != 0:
                message = process_output.excerpt(done.output)
                definite = any(marker in done.output for marker in _DEFINITE)
                raise StageFailure("resolve", message, cacheable=definite)
            data = json.loads(report.read_text())
        finally:
            report.unlink(missing_ok=True)
            shutil.rmtree(scratch, ignore_errors=True)
        packages = []
        wrong = []
        for item in data["install"]:
            meta, url = item["metadata"], item["download_info"]["url"]
            if (requires := meta.get("requires_python")) and not _admits(requires, target.python):
                wrong.append((meta["name"], meta["version"]))
            archive = item["download_info"].get("archive_info", {})
            sha = archive.get("hashes", {}).get("sha256") or archive.get("hash", "").partition("=")[2]
            filename = urllib.parse.unquote(url.rsplit("/", 1)[-1])
            packages.append(Package(meta["name"], meta["version"], filename, sha, url))
        return tuple(sorted(packages, key=lambda p: p.name.lower())), wrong

    def fetch(self, pins: Pins, *, log: Optional[Path] = None) -> list[Path]:
        """The pinned wheel files, downloading the missing ones; every file's hash is checked."""
        self.files.mkdir(parents=True, exist_ok=True)
        with file_lock(self.root / "files.lock"):
            missing = [p for p in pins.packages if not (self.files / p.filename).is_file()]
            remote = [p for p in missing if not p.url.startswith("file:")]
            logger.debug(
                f"wheelhouse: {len(pins.packages) - len(missing)} of {len(pins.packages)} wheels present, "
                f"{len(remote)} to download"
            )
            for package in missing:
                if package.url.startswith("file:"):
                    src = Path(urllib.request.url2pathname(urllib.parse.urlparse(package.url).path))
                    tmp = self.files / (package.filename + ".part")
                    shutil.copyfile(src, tmp)
                    os.replace(tmp, self.files / package.filename)
            if remote:
                # Exact URLs with their hashes: pip downloads precisely the locked files (and
                # verifies them), through the same configuration that resolved them.
                urls = [f"{p.url.split('#')[0]}#sha256={p.sha256}" for p in remote]
                staging = self.root / f"download-{os.getpid()}"
                try:
                    argv = [*self._pip, "download", "--no-deps", "--dest", str(staging)]
                    argv += [*pins.target.pip_options(), *urls]
                    processes.run(ProcessRequest(argv, log=log, error_class="download"))
                    for package in remote:
                        os.replace(staging / package.filename, self.files / package.filename)
                except StageFailure as exc:
                    raise StageFailure("download", exc.message, cacheable=False) from None
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
            paths = []
            for package in pins.packages:
                path = self.files / package.filename
                if package.sha256 and file_sha256(path) != package.sha256:
                    path.unlink()
                    why = f"{package.filename}: sha256 differs from the pins; removed, run again"
                    raise StageFailure("download", why, cacheable=False)
                paths.append(path)
            return paths
