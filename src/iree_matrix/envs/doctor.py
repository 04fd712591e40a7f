"""`iree-matrix doctor`: what this machine lacks for each backend, and how to fix each thing.

Every check is cheap and read-only; none installs or starts anything (images/setup-host.sh does).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Optional

from iree_matrix.core import formats
from iree_matrix.core.system import binfmt, containers, processes
from iree_matrix.core.system.containers import SETUP
from iree_matrix.core.system.process_request import ProcessRequest

MIN_FREE_BYTES = 20 * 2**30  # the default matrix's wheels, environments and modules, with room to spare


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    # all | docker | venv | qemu (foreign-CPU images) | armv6 (armv6-smoke) | src (src: runtimes)
    needed_for: str = "all"


def _probe(argv: Sequence[str], timeout: float = 15) -> tuple[int, str]:
    try:
        done = processes.run(ProcessRequest(argv, timeout=timeout, check=False))
    except (OSError, processes.Timeout) as exc:
        return 127, str(exc)
    return done.returncode, done.output


def _installed(name: str, tool: str, why: str = "", fix: str = f"bash {SETUP}") -> Check:
    """A tool the docker backend needs: its path, or "not installed" (`why` it is needed) and `fix`."""
    found = shutil.which(tool)
    return Check(name, bool(found), found or f"not installed{why}", "" if found else fix, "docker")


def check_docker_daemon() -> Check:
    if not containers.find_docker():
        return Check("docker daemon", False, "no docker client", f"bash {SETUP}", "docker")
    found = containers.state()
    return Check("docker daemon", found.ok, found.detail, found.fix, "docker")


# armv6-smoke: the hello world and IREE's runtime built from source (native + armel cross).
ARMV6_TOOLCHAIN = ("arm-linux-gnueabi-gcc", "arm-linux-gnueabi-g++", "cmake", "ninja", "g++", "readelf")


def _tools(
    name: str, tools: Sequence[str], found: str, needed_for: str, why: str = "", fix: str = ""
) -> Check:
    """Every tool of `tools` on PATH (`found` says what they are), or the missing ones and `fix`."""
    if missing := [tool for tool in tools if not shutil.which(tool)]:
        return Check(name, False, f"missing {', '.join(missing)}{why}", fix or f"bash {SETUP}", needed_for)
    return Check(name, True, found, needed_for=needed_for)


def check_arm32_toolchain() -> Check:
    found = "armel gcc/g++, cmake, ninja (armv6-smoke's builds)"
    return _tools("arm32 toolchain", ARMV6_TOOLCHAIN, found, "armv6")


# A `src:<release>` runtime (and armv6-smoke's native build for its host tools): the runtime-build
# stage runs the host's cmake, ninja and GCC on every backend (no toolchain image yet).
NATIVE_TOOLCHAIN = ("gcc", "g++", "cmake", "ninja", "strip", "readelf")


def check_native_toolchain() -> Check:
    why = " (needed by src:<release> runtimes, built here with cmake)"
    fix = "apt-get install cmake ninja-build gcc g++ binutils (or bash images/setup-host.sh)"
    found = "gcc/g++, cmake, ninja (src:<release> runtimes)"
    return _tools("build tools", NATIVE_TOOLCHAIN, found, "src", why, fix)


# The bare-metal Cortex-M target (cortex_m.py): cross compiler, newlib, qemu-system-arm.
def check_cortex_m_toolchain() -> Check:
    from iree_matrix.source_builds import cortex_m

    return _tools("cortex-m tools", cortex_m.TOOLS, "arm-none-eabi-gcc, qemu-system-arm", "cortex-m")


QEMU_HANDLERS = ("qemu-arm", "qemu-aarch64")


def check_binfmt(root: Optional[Path] = None) -> Check:
    """qemu-user handlers for 32- and 64-bit ARM: registered, enabled, interpreter present, and
    with the F flag (without it a container cannot reach the interpreter). `root` is for tests."""
    root = binfmt.BINFMT_DIR if root is None else root
    if problems := [p for p in (binfmt.problem(name, root) for name in QEMU_HANDLERS) if p]:
        return Check("binfmt", False, "; ".join(problems), f"bash {SETUP}", "qemu")
    entries = [binfmt.entry(name, root) for name in QEMU_HANDLERS]
    detail = ", ".join(f"{e.name} (flags {e.flags})" for e in entries if e is not None)
    return Check("binfmt", True, detail, needed_for="qemu")


def check_sandbox() -> Check:
    """bubblewrap, which a user's model code runs in on the venv backend (core/system/bubblewrap.py): on PATH
    and able to make its sandbox here (it needs unprivileged user namespaces)."""
    from iree_matrix.core.system import bubblewrap

    if (why := bubblewrap.problem()) is None:
        found = f"{bubblewrap.executable()} (model code's sandbox)"
        return Check("bubblewrap", True, found, needed_for="venv")
    refused = f"{why}: export, peer and flops refuse on venv unless --unsandboxed"
    fix = f"bash {SETUP} (apt-get install bubblewrap), and allow unprivileged user namespaces"
    return Check("bubblewrap", False, refused, fix, "venv")


def check_disk(path: Path) -> Check:
    path.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(path).free
    ok = free >= MIN_FREE_BYTES
    want = formats.size(MIN_FREE_BYTES)
    fix = "" if ok else f"free space or point --cache / $IREE_MATRIX_CACHE at a bigger disk (want {want})"
    return Check("disk", ok, f"{formats.size(free)} free under {path}", fix)


def check_cache_use(path: Path) -> Check:
    """Not a requirement: how much disk the cache and the Docker images take, and how to reclaim it."""
    from iree_matrix.envs import cache_usage

    return Check("disk use", True, cache_usage.summary(path) + " — reclaim: iree-matrix cache prune")


def check_pip_config() -> Check:
    code, out = _probe([sys.executable, "-m", "pip", "config", "list"])
    if code != 0:
        return Check("pip", False, out.splitlines()[-1] if out else "pip does not run", "install pip")
    keys = sorted({line.split("=", 1)[0].split(".")[-1] for line in out.splitlines() if "=" in line})
    detail = "config: " + (", ".join(keys) if keys else "none (PyPI defaults)")
    return Check("pip", True, detail + " — used for every download")


def check_pythons(versions: Sequence[str]) -> list[Check]:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    fix = "install it, or use --backend docker (Debian suites provide 3.9/3.11/3.13)"
    found = [(v, sys.executable if v == here else shutil.which(f"python{v}")) for v in versions]
    return [
        Check(f"python{v}", p is not None, p or "not on PATH", "" if p else fix, "venv") for v, p in found
    ]


def run_checks(cache: Path, pythons: Sequence[str]) -> list[Check]:
    checks: list[Callable[[], Check]] = [
        check_pip_config,
        lambda: check_disk(cache),
        lambda: check_cache_use(cache),
        lambda: _installed("docker client", "docker", fix=f"bash {SETUP} (apt-get install docker.io)"),
        check_docker_daemon,
        lambda: _installed("debootstrap", "debootstrap", " (base images are built with it)"),
        check_sandbox,
        check_binfmt,
        check_native_toolchain,
        check_arm32_toolchain,
        check_cortex_m_toolchain,
    ]
    return [c() for c in checks] + check_pythons(pythons)


def render(checks: Sequence[Check]) -> str:
    lines = []
    for c in checks:
        mark = "ok " if c.ok else "NO "
        scope = "" if c.needed_for == "all" else f" [{c.needed_for}]"
        lines.append(f"  {mark} {c.name:<14}{scope:<9} {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"      fix: {c.fix}")
    auto = (
        "backend auto -> venv for this host's architecture, docker for aarch64/armv6 matrices"
        if all(c.ok for c in checks if c.needed_for == "docker")
        else "backend auto -> venv (Docker is not usable; see the fixes above)"
    )
    return "\n".join([*lines, "", auto])


def exit_code(checks: Sequence[Check], backend: str) -> int:
    """1 when a check the backend needs failed; `mixed` needs what venv and docker each need."""
    needs = {"all", backend, *(("venv", "docker") if backend == "mixed" else ())}
    return 0 if all(c.ok for c in checks if c.needed_for in needs) else 1


def env_summary() -> str:
    return f"python {sys.version.split()[0]} at {sys.executable}; uid {os.getuid()}"
