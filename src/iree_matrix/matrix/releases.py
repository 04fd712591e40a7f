"""Which releases a matrix axis means (`"all"`, `"history"`, `">=3.0"`, versions): resolved once by the
host's pip and kept in `<results-dir>/releases.json` until `--refresh-releases`; "all" is every final
`iree-base-*` release, "history" the date-versioned `iree-compiler` / `iree-runtime` ones first."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.outcome import now
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.iree import versions

ALL = "all"
HISTORY = "history"  # compiler / runtime: the date-versioned releases, then "all"
SELECTORS = (ALL, HISTORY)
SCHEMA = 1
# Axis -> the package whose releases it names. Date-versioned `iree-compiler` releases (before 2.9)
# are not in "all": they are a different package; "history", a date specifier or their version names them.
PACKAGES = {
    "compiler": "iree-base-compiler",
    "runtime": "iree-base-runtime",
    "turbine": "iree-turbine",
    "torch": "torch",
}
# The date-versioned packages (20240410.865: before 2.9.0) a compiler or runtime version may name.
DATE_PACKAGES = {"compiler": "iree-compiler", "runtime": "iree-runtime"}
_AVAILABLE = re.compile(r"^Available versions:\s*(.*)$", re.MULTILINE)


class ReleaseError(UserError):
    """A selector or version the index cannot answer."""


@dataclasses.dataclass(frozen=True)
class Releases:
    package: str
    versions: tuple[str, ...]  # every final release, oldest first
    queried: str  # when the index was asked (ISO 8601, UTC)
    source: str = "index"  # "index", or the releases.json it was read from

    def matching(self, selector: str) -> list[str]:
        if selector == ALL:
            return list(self.versions)
        spec = SpecifierSet(selector)
        return [v for v in self.versions if Version(v) in spec]

    def canonical(self, version: str) -> Optional[str]:
        """The index's spelling of `version` (`3.9` -> `3.9.0`), or None if it has no such release."""
        wanted = Version(version)
        return next((v for v in self.versions if Version(v) == wanted), None)

    def nearest(self, version: str, n: int = 3) -> list[str]:
        wanted = Version(version)
        older = [v for v in self.versions if Version(v) < wanted][-n:]
        newer = [v for v in self.versions if Version(v) > wanted][:n]
        return older + newer


def is_selector(value: str) -> bool:
    if value in SELECTORS:
        return True
    if not value or value[0] not in "<>=!~":
        return False
    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        return False
    return True


def selector_problem(value: str) -> Optional[str]:
    """Why `value` is neither a version nor a selector (None if it is one)."""
    if is_selector(value):
        return None
    try:
        Version(value)
        return None
    except InvalidVersion:
        return (
            f'not a version (PEP 440, e.g. "3.9.0") nor a selector ("{ALL}", "{HISTORY}", ">=3.0", '
            '">=3.0,<3.10")'
        )


def names_date_versions(selector: str) -> bool:
    """Whether a specifier names only date versions: it then selects among the date-versioned packages."""
    if selector in SELECTORS:
        return False
    named = [spec.version.rstrip(".*") for spec in SpecifierSet(selector)]
    return bool(named) and all(versions.is_valid(v) and versions.is_date_versioned(v) for v in named)


def final_releases(texts: Sequence[str]) -> tuple[str, ...]:
    keep: dict[Any, str] = {}
    for text in texts:
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if version.is_prerelease or version.is_devrelease or version.local:
            continue
        keep.setdefault(version, text)
    return tuple(keep[v] for v in sorted(keep))


def query_pip(package: str, python: str, pip: Sequence[str] = (sys.executable, "-m", "pip")) -> Releases:
    """`pip index versions` for the matrix's Python on this platform, with the user's pip config."""
    argv = [*pip, "index", "versions", package, "--python-version", python, "--disable-pip-version-check"]
    done = processes.run(ProcessRequest(argv, log=None, check=False, timeout=180))
    found = _AVAILABLE.search(done.stdout)
    if done.returncode != 0 or not found:
        last = (done.output.strip().splitlines() or ["(no output)"])[-1]
        raise ReleaseError(f"cannot list the releases of {package} on the package index: {last}")
    return Releases(package, final_releases([v.strip() for v in found.group(1).split(",")]), now())


class Resolver:
    """Answers `versions(axis, value)` for spec.py, from `releases.json` or the index."""

    def __init__(
        self,
        path: Optional[Path],
        python: str = "3.11",
        *,
        refresh: bool = False,
        query: Optional[Callable[[str, str], Releases]] = None,
        host_python: str = f"{sys.version_info[0]}.{sys.version_info[1]}",
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.pythons: tuple[str, ...] = (python,)
        self.host_python = host_python  # asked, when a release is missing, whether the Python is why
        self.refresh = refresh
        self._query = query
        self._stored = {} if refresh else _read(self.path)
        self.used: dict[str, Releases] = {}
        # compiler release -> the runtime its modules run on when `runtime = "same"` has no release
        self.stand_ins: dict[str, str] = {}

    def releases(self, axis: str) -> Releases:
        return self._package(PACKAGES[axis])

    def _package(self, package: str) -> Releases:
        if package not in self.used:
            stored = self._stored.get(package)
            query = self._query or query_pip  # looked up late: tests replace it
            self.used[package] = stored if stored is not None else self._union(query, package)
        return self.used[package]

    def _union(self, query: Callable[[str, str], Releases], package: str) -> Releases:
        """Every release with a wheel for any of the matrix's Pythons (a missing wheel: a result)."""
        found = [query(package, python) for python in self.pythons]
        return Releases(package, final_releases([v for r in found for v in r.versions]), found[0].queried)

    def versions(self, axis: str, value: str) -> list[str]:
        if axis not in PACKAGES:
            return [value]
        if is_selector(value):
            return self._selected(axis, value)
        package = PACKAGES[axis]
        if versions.is_date_versioned(value):  # iree-compiler/iree-runtime 20240410.865: another package
            if axis not in DATE_PACKAGES:
                return [value]
            package = DATE_PACKAGES[axis]
        if axis == "turbine":  # turbine 0.9.x: shark-turbine, before the rename
            package = versions.turbine_package(value)
        try:
            releases = self._package(package)
        except ReleaseError:
            return [value]  # offline: a plain version is taken as written; pip will say if it exists
        if (canonical := releases.canonical(value)) is None:
            self._check_python(axis, package, value)
            near = ", ".join(releases.nearest(value)) or "none"
            raise ReleaseError(
                f"{axis} = {value!r}: {package} has no release {value} on the index "
                f"(nearest: {near}; {_span(releases.versions)} in all)"
            )
        return [canonical]

    def _selected(self, axis: str, value: str) -> list[str]:
        """The releases a selector means, oldest first (the date releases before 2.9.0)."""
        if value == HISTORY and axis not in DATE_PACKAGES:
            raise ReleaseError(
                f'{axis} = "{HISTORY}": only compiler and runtime have date-versioned releases; '
                f'use "{ALL}" or a specifier for {axis}'
            )
        packages = [PACKAGES[axis]]
        if value == HISTORY:
            packages = [DATE_PACKAGES[axis], PACKAGES[axis]]
        elif axis in DATE_PACKAGES and names_date_versions(value):
            packages = [DATE_PACKAGES[axis]]
        found: list[str] = []
        for package in packages:
            try:
                found += self._package(package).matching(ALL if value == HISTORY else value)
            except ReleaseError as exc:
                raise ReleaseError(f"{axis} = {value!r}: {exc}") from None
        if not found:
            known = "; ".join(f"{p}: {_span(self._package(p).versions)}" for p in packages)
            raise ReleaseError(
                f"{axis} = {value!r} matches no release of {' or '.join(packages)} (known: {known})"
            )
        return sorted(found, key=versions.release_order)

    def _check_python(self, axis: str, package: str, value: str) -> None:
        """A release the index has for this machine's Python but not the matrix's: name the Python."""
        if self.host_python in self.pythons:
            return
        query = self._query or query_pip
        try:
            found = query(package, self.host_python).canonical(value)
        except ReleaseError:
            return
        if found is not None:
            pythons = self.pythons[0] if len(self.pythons) == 1 else list(self.pythons)
            raise ReleaseError(
                f"python = {pythons!r}: {package} {found} ({axis}) has no wheel for Python "
                f"{', '.join(self.pythons)} on the index, but has one for Python {self.host_python}; "
                "name a Python its releases are built for"
            )

    def own_runtime(self, compiler: str) -> str:
        """The runtime `runtime = "same"` means for `compiler`: its own release, else its line's newest."""
        if not versions.is_valid(compiler) or versions.is_date_versioned(compiler):
            return compiler
        try:
            runtimes = self.releases("runtime")
        except ReleaseError:
            return compiler  # offline: pip will say whether it exists
        if runtimes.canonical(compiler) is not None:
            return compiler
        if (stand_in := versions.stand_in_runtime(compiler, runtimes.versions)) is None:
            return compiler  # nothing of its line: the install fails with pip's words, a result
        self.stand_ins[compiler] = stand_in
        return stand_in

    def save(self) -> None:
        if self.path is None or not self.used:
            return
        data = {
            "schema": SCHEMA,
            "packages": {
                **_raw(self.path),
                **{
                    r.package: {"versions": list(r.versions), "queried": r.queried}
                    for r in self.used.values()
                },
            },
        }
        write_atomically(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")

    def describe(self) -> list[str]:
        lines = []
        for r in self.used.values():
            where = f"from {self.path}" if r.source != "index" else "asked the index"
            lines.append(f"  {r.package}: {_span(r.versions)} ({where}, queried {r.queried})")
        for compiler, runtime in sorted(self.stand_ins.items(), key=lambda item: Version(item[0])):
            lines.append(
                f"  compiler {compiler}: {PACKAGES['runtime']} has no release {compiler}; "
                f'runtime = "same" runs its modules on runtime {runtime}, the newest of its release line'
            )
        return lines


def _span(versions: Sequence[str]) -> str:
    return "no releases" if not versions else f"{len(versions)} releases, {versions[0]} … {versions[-1]}"


def _raw(path: Optional[Path]) -> Mapping[str, dict[str, Any]]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        packages = data["packages"]
        if data.get("schema") != SCHEMA or not isinstance(packages, dict):
            raise ValueError("unknown schema")
        return packages
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReleaseError(
            f"{path}: unreadable release list ({exc}); delete it or pass --refresh-releases"
        ) from None


def _read(path: Optional[Path]) -> dict[str, Releases]:
    stored = {}
    for package, body in _raw(path).items():
        try:
            versions = final_releases([str(v) for v in body["versions"]])
            stored[package] = Releases(package, versions, str(body.get("queried", "")), str(path))
        except (KeyError, TypeError) as exc:
            raise ReleaseError(
                f"{path}: packages.{package}: malformed ({exc}); delete it or pass --refresh-releases"
            ) from None
    return stored
