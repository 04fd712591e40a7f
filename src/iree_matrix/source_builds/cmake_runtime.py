"""IREE's runtime built from source with cmake, natively or cross-compiled (for the Pi Zero: IREE publishes
no 32-bit ARM runtime), for the `runtime-build` stage's `src:<release>` runtimes. Sources (`--iree-source`,
$IREE_MATRIX_IREE_SOURCE): a directory, a tarball, or `git+URL@TAG` (default: IREE's repository at the
release tag, runtime submodules only). Every build uses PyPI's CMake (`PYPI_CMAKE`: >= 3.26 for IREE 3.11,
< 4.0 for flatcc), host and container alike; each target's compilers and flags are its `toolchain` in
iree/targets.py. docs/arm.md has the method."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import StageFailure, UserError
from iree_matrix.core.hashing import digest, file_sha256
from iree_matrix.core.system import process_output, processes
from iree_matrix.core.system.locks import file_lock
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.iree import elf, targets, versions

DEFAULT_GIT = versions.DEFAULT_IREE_GIT
SOURCE_ENV = "IREE_MATRIX_IREE_SOURCE"  # what --iree-source is when not given (same syntax, space-separated)
PYPI_CMAKE = "cmake==3.31.10"  # >= 3.26 for IREE 3.11, < 4 for flatcc (module docstring)
# The two submodules a runtime-only build needs (iree-src/README.md).
RUNTIME_SUBMODULES = ("third_party/flatcc", "third_party/benchmark")
# Submodules a release's runtime-only configure needs beyond those (the v3.x tags' CMakeLists.txt).
_EXTRA_SUBMODULES = (
    ("3.3.0", "3.3.99", "third_party/googletest"),
    ("0", "3.7.99", "third_party/cpuinfo"),
    ("3.11.0", "999", "third_party/printf"),
)


def _of_release(release: str, table: Sequence[tuple[str, str, str]]) -> list[str]:
    """The entries of `table` ((lowest, highest release, entry) each) whose range holds `release`."""
    v = versions.Version(release)
    return [entry for low, high, entry in table if versions.Version(low) <= v <= versions.Version(high)]


def runtime_submodules(release: str) -> tuple[str, ...]:
    """The submodules a runtime-only build of `release` configures (a tag that is no release, a
    branch of someone's fork: the common ones)."""
    try:
        return (*RUNTIME_SUBMODULES, *_of_release(release, _EXTRA_SUBMODULES))
    except versions.InvalidVersion:
        return RUNTIME_SUBMODULES


TOOLS = ("iree-run-module", "iree-benchmark-module")
HOST_TOOLS = ("iree-c-embed-data", "iree-flatcc-cli")

_CMAKE_COMMON = (
    "-DIREE_BUILD_COMPILER=OFF",
    "-DIREE_BUILD_TESTS=OFF",
    "-DIREE_BUILD_SAMPLES=OFF",
    "-DIREE_BUILD_PYTHON_BINDINGS=OFF",
    "-DIREE_HAL_DRIVER_DEFAULTS=OFF",
    # local-sync: the Pi Zero has one core; local-task: what the wheels use.
    "-DIREE_HAL_DRIVER_LOCAL_SYNC=ON",
    "-DIREE_HAL_DRIVER_LOCAL_TASK=ON",
    "-DCMAKE_BUILD_TYPE=Release",
)
# The flags a release's own CMakeLists.txt needs beyond `_CMAKE_COMMON` to build offline, by release,
# for every build and for cross builds only. Releases from 3.10.0 fetch libbacktrace with git while
# configuring, which fails offline (the tools use it only for stack traces); older releases keep the
# flags (and the build keys) they always had.
_RELEASE_FLAGS = (("3.10.0", "999", "-DIREE_ENABLE_LIBBACKTRACE=OFF"),)
_CROSS_RELEASE_FLAGS = (
    # Releases up to 3.7 build cpuinfo whenever threading is on; cross-built for arm it compiles none
    # of its ARM sources and the link fails. IREE's task system works without it.
    ("0", "3.7.99", "-DIREE_ENABLE_CPUINFO=OFF"),
    # From 3.11.0 a dead 64-bit shift in iree/base/alignment.h warns on a 32-bit target and IREE's
    # -Werror stops the cross build: cross builds of those releases keep the warning a warning.
    ("3.11.0", "999", "-DIREE_ENABLE_WERROR_FLAG=OFF"),
)


def release_cmake(release: str, target: str = "x86_64") -> tuple[str, ...]:
    """The flags a release needs beyond `_CMAKE_COMMON` to build offline (and, cross, for the board)."""
    found = targets.toolchains().get(target)
    cross = found is not None and found.cross
    return tuple(_of_release(release, (*_RELEASE_FLAGS, *(_CROSS_RELEASE_FLAGS if cross else ()))))


# What a source runtime's build options change (versions.BUILD_OPTIONS): "static" is the
# linkage; "Os" optimises for size (cmake's MinSizeRel, -Os) instead of speed (Release, -O3).
BUILD_OPTION_CMAKE = {"Os": ("-DCMAKE_BUILD_TYPE=MinSizeRel",)}


@dataclasses.dataclass(frozen=True)
class Toolchain(targets.Toolchain):
    """A target of the build (`target`: "x86_64" | "armv6") and its targets.Toolchain."""

    target: str = ""
    float_abi: Optional[str] = None  # the run environment's (targets.Arch.float_abi)


@dataclasses.dataclass(frozen=True)
class Source:
    spec: str  # what the user passed
    tree: Path  # IREE's top-level directory (has CMakeLists.txt and runtime/)
    digest: str  # identity of the source: tarball sha256, git URL@tag, or a directory's path + HEAD


def source_digest(spec: str) -> str:
    """The identity of a source without unpacking or cloning it (a stage key hashes this): a
    tarball's sha256, git URL + tag, or a directory's path and git HEAD. A missing source is a
    one-line error naming what to pass."""
    if spec.startswith("git+"):
        url, _, tag = spec[4:].rpartition("@")
        if not url or not tag:
            raise UserError(f"--iree-source {spec!r}: expected git+URL@TAG, e.g. {DEFAULT_GIT}@v3.9.0")
        return f"git:{url}@{tag}"
    path = Path(spec).expanduser()
    if path.is_dir():
        tree = path / "iree" if (path / "iree" / "CMakeLists.txt").is_file() else path
        if not (tree / "runtime").is_dir():
            raise UserError(f"--iree-source {spec}: no IREE tree there (no runtime/ directory)")
        head = tree / ".git" / "HEAD"
        return f"dir:{tree.resolve()}" + (f"@{head.read_text().strip()}" if head.is_file() else "")
    if path.is_file():
        return f"tarball:{file_sha256(path)}"
    raise UserError(
        f"--iree-source {spec!r}: no such directory or file; pass IREE's source tree, a tarball of it, "
        f"or {DEFAULT_GIT}@vX.Y.Z"
    )


def source_tree(ident: str, cache: Path) -> Path:
    """Where the IREE tree of a source identity (`source_digest`: what a runtime-build record's
    `source` says) is on disk: a clone or an unpacked tarball in the cache, or the directory."""
    kind, _, rest = ident.partition(":")
    if kind == "git":
        url, _, tag = rest.rpartition("@")
        return CacheLayout(cache).iree_src / digest({"git": url, "tag": tag})[:16] / "iree"
    return Path(rest.split("@", 1)[0]) if kind == "dir" else CacheLayout(cache).iree_src / rest[:16] / "iree"


def source(spec: str, cache: Path, *, log: Optional[Path] = None) -> Source:
    """Make `spec` (directory, tarball or git+URL@TAG) an IREE tree on disk, once per digest."""
    ident, path = source_digest(spec), Path(spec).expanduser()
    if path.is_dir():
        tree = path / "iree" if (path / "iree" / "CMakeLists.txt").is_file() else path
        return Source(spec, tree.resolve(), ident.split("@", 1)[0])
    tree = source_tree(ident, cache)
    # One clone or unpack per tree at a time, across processes: whoever waited finds the tree made.
    with file_lock(tree.parent.with_suffix(".lock")):
        if not (tree / "CMakeLists.txt").is_file() and spec.startswith("git+"):
            url, _, tag = spec[4:].rpartition("@")
            _clone(url, tag, tree, log=log)
        elif not (tree / "CMakeLists.txt").is_file():
            _unpack(path, tree.parent)
    if not spec.startswith("git+") and not (tree / "runtime").is_dir():
        raise UserError(f"--iree-source {spec}: the tarball does not unpack to iree/ with runtime/")
    return Source(spec, tree, ident)


def tree_release(tree: Path) -> Optional[str]:
    """The release an IREE tree is (runtime/version.json says "3.9.0.dev" at the v3.9.0 tag)."""
    try:
        text = json.loads((tree / "runtime" / "version.json").read_text())["package-version"]
        return versions.Version(text).base_version
    except (OSError, ValueError, KeyError, TypeError, versions.InvalidVersion):
        return None


def check_release(src: Source, release: str) -> None:
    """A source that is another release than the runtime value names: a one-line error saying what to pass."""
    if (found := tree_release(src.tree)) is not None and found != versions.Version(release).base_version:
        raise StageFailure(
            "runtime-source",
            f"src:{release}: {src.spec} is IREE {found}'s source, not {release}'s; pass "
            f"--iree-source {release}=<IREE {release} source> (a directory, a tarball, or "
            f"{DEFAULT_GIT}@v{release}), or drop the source to build from IREE's repository at v{release}",
        )


def _unpack(tarball: Path, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=into))
    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(staging, filter="data")
        for child in staging.iterdir():
            os.replace(child, into / child.name)
    except (OSError, tarfile.TarError) as exc:
        raise UserError(f"--iree-source {tarball}: cannot unpack ({exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _clone(url: str, tag: str, tree: Path, *, log: Optional[Path]) -> None:
    tree.parent.mkdir(parents=True, exist_ok=True)
    staging = tree.parent / ".clone"
    shutil.rmtree(staging, ignore_errors=True)
    clone = ["git", "clone", "--depth", "1", "--branch", tag, url, str(staging)]
    subs = ["git", "-C", str(staging), "submodule", "update", "--init", "--depth", "1"]
    subs += runtime_submodules(tag.lstrip("v"))
    for argv in (clone, subs):
        done = processes.run(ProcessRequest(argv, timeout=1800, log=log, check=False))
        if done.returncode != 0:
            raise UserError(clone_failure(url, tag, done.output))
    os.replace(staging, tree)


def clone_failure(url: str, tag: str, output: str) -> str:
    """One line: which release has no source, git's own reason (its last `fatal:`/`error:` line,
    not "Cloning into ..."), and what to pass instead."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    why = errors[-1] if errors else lines[-1] if lines else ""
    release = tag.lstrip("v")
    return (
        f"no runtime source for {release}: cannot clone git+{url}@{tag} ({why or 'git failed'}); pass "
        f"--iree-source [{release}=]PATH (IREE's tree at {tag}, or a tarball of it) or set {SOURCE_ENV}"
    )


def cmake_home(cache: Path) -> Path:
    """Where `pypi_cmake` unpacks PyPI's CMake in a cache (`bin/cmake` below it)."""
    return CacheLayout(cache).tools / f"cmake-{PYPI_CMAKE.partition('==')[2]}"


def pypi_cmake(cache: Path, *, log: Optional[Path] = None) -> Path:
    """The directory holding PyPI's CMake (`bin/cmake`, `share/cmake-*`), unpacked once from the
    wheel the wheelhouse fetches (hash-checked, through the user's pip configuration)."""
    from iree_matrix.matrix.wheelhouse import Wheelhouse, WheelPlatform

    home = cmake_home(cache)
    if (home / "bin" / "cmake").is_file():
        return home
    house = Wheelhouse(CacheLayout(cache).wheelhouse)
    target = WheelPlatform(python="3.11", machine=targets.host_arch())
    try:
        (wheel,) = house.fetch(house.pin([PYPI_CMAKE], target, log=log), log=log)
    except StageFailure as exc:
        raise StageFailure(
            "toolchain-missing", f"{PYPI_CMAKE} from PyPI: {exc.message}", cacheable=False
        ) from None
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".cmake-", dir=home.parent))
    try:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if not info.filename.startswith("cmake/data/") or info.is_dir():
                    continue
                out = staging / info.filename.removeprefix("cmake/data/")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(archive.read(info))
                if (info.external_attr >> 16) & 0o111 or out.parent.name == "bin":  # zipfile drops the x bit
                    out.chmod(out.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        if not (staging / "bin" / "cmake").is_file():
            raise StageFailure(
                "toolchain-missing", f"{wheel.name} holds no cmake/data/bin/cmake", cacheable=False
            )
        staging.chmod(0o755)  # mkdtemp's 0700 would keep the toolchain container's user out
        with contextlib.suppress(OSError):  # another job unpacked it meanwhile
            os.replace(staging, home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return home


# Where a build's commands run: this host (`processes.run`) or a container (an environment's `run`).
Runner = Callable[[ProcessRequest], processes.Completed]
host_runner: Runner = processes.run


def host_runner_in(env: Any, read_only: Sequence[Path] = ()) -> Runner:
    """A runner for an environment's commands that write no files (e.g. `gcc --version`)."""
    return lambda request: env.run(request.reading(*read_only))


def toolchain_identity(tc: Toolchain, run: Optional[Runner] = None, cmake: str = "cmake") -> dict[str, str]:
    """The compilers' own version lines: a different GCC is a different build. `run`: where they
    are (a toolchain container); by default the host's, found on PATH. `cmake`: which CMake."""
    needs = (
        f"the runtime build needs cmake, ninja and {tc.cc}/{tc.cxx} "
        "(bash images/setup-host.sh installs them; `iree-matrix doctor` checks)"
    )
    tools = {tc.cc: tc.cc, tc.cxx: tc.cxx, "cmake": cmake, "ninja": "ninja"}
    return version_lines(tools, lambda name: UserError(f"{name} not found: {needs}"), run)


def version_lines(
    tools: Mapping[str, str], missing: Callable[[str], Exception], run: Optional[Runner] = None
) -> dict[str, str]:
    """Each tool's first `--version` line (name -> executable): on the host's PATH (`missing(name)`: the
    error for one not there), or where `run` runs them (a toolchain container)."""
    ident = {}
    for name, exe in tools.items():
        found = exe if run is not None else shutil.which(exe)
        if found is None:
            raise missing(name)
        done = (run or processes.run)(
            ProcessRequest([found, "--version"], timeout=120 if run else 60, check=False)
        )
        if run is not None and done.returncode != 0:
            why = f"{name} --version failed in the toolchain image: {done.output[:200]}"
            raise StageFailure("toolchain-missing", why)
        ident[name] = (done.stdout.strip().splitlines() or ["?"])[0]
    return ident


def job_key(
    source: str,
    tc: Toolchain,
    linkage: str,
    ident: Mapping[str, str],
    build_options: Sequence[str],
    release: str,
    host_tools_key: Optional[str],
) -> str:
    """The runtime-build stage's key (`host_tools_key`: a cross build's native build's key): the
    stage keys its jobs with it, and `show --commands` recomputes it from a record to say whether
    the commands it prints are the ones that build ran."""
    extra, release_flags = [v for v in build_options if v != "static"], release_cmake(release, tc.target)
    build = {
        "source": source,
        "target": tc.target,
        "linkage": linkage,
        "cflags": tc.cflags,
        "cmake": list(_CMAKE_COMMON),
        "toolchain": dict(ident),
        **({"variants": extra} if extra else {}),  # a plain build keeps the key it always had
        **({"release_cmake": list(release_flags)} if release_flags else {}),
    }
    host_tools = host_tools_key if tc.cross else None
    return digest(
        {"stage": "runtime-build", "build": digest(build), "release": release, "host_tools": host_tools}
    )


def toolchain(target: str) -> Toolchain:
    """How IREE's runtime is built for `target`: its entry's toolchain in iree/targets.py."""
    known = targets.toolchains()
    if target not in known:
        raise StageFailure(
            "no-toolchain", f"no IREE runtime build for {target} yet (known targets: {', '.join(known)})"
        )
    return Toolchain(**vars(known[target]), target=target, float_abi=targets.ARCHES[target].float_abi)


def build_cflags(tc: Toolchain, linkage: str) -> str:
    """The C and C++ flags of a build (a runtime-build record's `cflags`)."""
    return (tc.cflags + (" -static" if linkage == "static" else "")).strip()


def built_tools(tc: Toolchain) -> list[str]:
    """The tools a build makes (a native one also the host tools a cross build runs)."""
    return [*TOOLS, *([] if tc.cross else HOST_TOOLS)]


def build_commands(
    tree: Path | str,
    tc: Toolchain,
    linkage: str,
    work: Path | str,
    *,
    build_options: Sequence[str] = (),
    host_tools: Optional[Path | str] = None,
    cmake: str = "cmake",
    release_flags: Sequence[str] = (),
) -> list[list[str]]:
    """The configure and build command lines of a runtime build: what `build_into` runs, and what
    `iree-matrix show --commands` and the docs' command blocks print (stages/shell_commands.py), so
    the three are one list. `tree`, `work`, `host_tools` may be shell variables ("$IREE_SRC")."""
    argv = [cmake, "-G", "Ninja", "-S", str(tree), "-B", str(work), *_CMAKE_COMMON, *release_flags]
    for option in build_options:
        argv += BUILD_OPTION_CMAKE.get(option, ())
    argv += [f"-DCMAKE_C_COMPILER={tc.cc}", f"-DCMAKE_CXX_COMPILER={tc.cxx}"]
    flags = build_cflags(tc, linkage)
    if tc.cross:
        argv += ["-DCMAKE_SYSTEM_NAME=Linux", f"-DCMAKE_SYSTEM_PROCESSOR={tc.system_processor}"]
        argv += [f"-DIREE_HOST_BIN_DIR={host_tools}"]
    if flags:
        argv += [f"-DCMAKE_C_FLAGS={flags}", f"-DCMAKE_CXX_FLAGS={flags}"]
    if linkage == "static":
        argv += ["-DCMAKE_EXE_LINKER_FLAGS=-static"]
    return [argv, [cmake, "--build", str(work), "-t", *built_tools(tc)]]


def build_into(
    src: Source,
    target: str,
    linkage: str,
    root: Path,
    *,
    tools: Path,
    ident: Mapping[str, str],
    under: Bounds,
    run: Runner = host_runner,
    **build: Any,
) -> dict[str, Any]:
    """Configure and build in `root/build` (removed after) the command lines `build_commands` makes of
    `build` (its keyword arguments), the tools into `tools` (the stage's store entry names it:
    artifacts.TOOLS); the facts a report shows (build time, sizes stripped and unstripped, NEEDED, GLIBC
    versions, flags)."""
    tc = toolchain(target)
    if tc.cross and build.get("host_tools") is None:
        raise StageFailure("runtime-build", f"a {target} build needs the host tools of a native build")
    work = root / "build"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    start = time.monotonic()
    for step in build_commands(src.tree, tc, linkage, work, **build):
        if (done := run(under.request(step, check=False))).returncode != 0:
            raise StageFailure(
                "runtime-build", build_error(done.output) + missing_submodules(src.tree, done.output)
            )
    seconds = time.monotonic() - start
    copy_built(built_tools(tc), work, tools)
    facts = {
        "source": src.digest,
        "target": target,
        "linkage": linkage,
        "cflags": build_cflags(tc, linkage),
        "build_type": "MinSizeRel" if "Os" in build.get("build_options", ()) else "Release",
        "toolchain": dict(ident),
        "build_seconds": round(seconds, 1),
        **{f"{name}_bytes": (tools / name).stat().st_size for name in TOOLS},
        **{f"{name}_stripped_bytes": _stripped_size(tools / name, tc, under, run, root) for name in TOOLS},
        **elf.binary_facts(tools / "iree-run-module", log=under.log),
        "float_abi": tc.float_abi,
    }
    shutil.rmtree(work, ignore_errors=True)  # ~100 MB of objects; the tools are what is kept
    return facts


def copy_built(names: Sequence[str], work: Path, into: Path) -> None:
    """Each of the programs `names` a build made under `work`, copied into `into`."""
    into.mkdir(exist_ok=True)
    for name in names:
        if (found := next((p for p in work.rglob(name) if p.is_file()), None)) is None:
            raise StageFailure("runtime-build", f"{name} was not built under {work}")
        shutil.copy2(found, into / name)


def _stripped_size(binary: Path, tc: Toolchain, under: Bounds, run: Runner, root: Path) -> int:
    strip = strip_tool(tc)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        out = Path(tmp) / binary.name
        done = run(
            ProcessRequest([strip, "-o", str(out), str(binary)], timeout=120, log=under.log, check=False)
        )
        if done.returncode != 0:
            raise StageFailure("runtime-build", f"{strip}: {done.output[:300]}")
        return out.stat().st_size


def strip_tool(tc: Toolchain) -> str:
    """The binutils `strip` of the toolchain's target (a cross build's is its compiler's prefix's)."""
    return tc.cc.replace("gcc", "strip") if tc.cross else "strip"


def strip_into(binary: Path, out: Path, tc: Toolchain, log: Optional[Path] = None) -> bool:
    """`binary` stripped to `out` (written whole, then renamed), with the host's strip of the target;
    where that is not installed (the build ran in the toolchain image), `binary` as it is: False."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    if (strip := shutil.which(strip_tool(tc))) is None:
        shutil.copyfile(binary, partial)
    else:
        argv = [strip, "-o", str(partial), str(binary)]
        host_runner(ProcessRequest(argv, timeout=120, log=log, check=True))
    os.chmod(partial, 0o755)
    os.replace(partial, out)
    return strip is not None


def missing_submodules(tree: Path, output: str) -> str:
    """What the build's words point at but the source lacks: an empty `third_party/X` (a submodule
    not checked out - e.g. 3.11.0's runtime needs eyalroz/printf), and how to add it."""
    third = tree / "third_party"
    folders = sorted(third.iterdir()) if third.is_dir() else []
    empty = [d.name for d in folders if d.is_dir() and not any(d.iterdir())]
    if not (named := [name for name in empty if f"third_party/{name}/" in output]):
        return ""
    subs = [f"third_party/{n}" for n in named]
    return (
        f"\n(the source has no {', '.join(subs)}: a submodule this release's runtime needs; add it where "
        f"GitHub is reachable: git -C iree submodule update --init {' '.join(subs)})"
    )


def build_error(output: str, picked: Optional[Sequence[str]] = None) -> str:
    """The compiler's own error lines (`picked`: a caller's choice of them), not ninja's progress."""
    if picked is None:
        picked = [ln for ln in output.splitlines() if re.search(r"\berror\b", ln, re.IGNORECASE)]
    return "\n".join(picked[:15]) if picked else process_output.excerpt(output)
